import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import {
  BenchError,
  bodyDigest,
  DATE_HEADER,
  isNonce,
  MAX_DATE_AGE_MS,
  MAX_DATE_AHEAD_MS,
  NONCE_HEADER,
  parseAuthorization,
  sameSecret,
  signaturesEqual,
  signDigest,
} from '../../src/contract';
import { NonceMemory } from '../nonces';

/** Every auth failure says the same, so that nothing is learnt from it. */
const UNAUTHORIZED = 'missing or invalid credentials';

export interface GateOptions {
  /** Largest body a request with good auth headers may send; more is a 413. */
  maxBodyBytes: number;
  /** Most nonces remembered at once (see NonceMemory). */
  maxNonces: number;
  /**
   * Most body bytes held at once by requests whose signature is not verified
   * yet: a key id is no secret, and each such request may hold maxBodyBytes.
   */
  maxPendingBodyBytes: number;
}

/** Bytes held by bodies still being received, across requests. */
interface PendingBudget {
  bytes: number;
  readonly max: number;
}

/** What the auth headers claim, checked before any of the body is read. */
interface Claim {
  /** The key's id: what per-key caps count by. */
  keyId: string;
  secret: string;
  signature: string;
  date: string;
  nonce: string;
  /** When the date, and so the nonce, stops being accepted. */
  expiresMs: number;
}

/**
 * The API's door: `Authorization: EAS-HMAC-SHA256 Credential=<id>, Signature=<hex>`
 * over METHOD, path?query, x-eas-date, x-eas-nonce and the body's sha256.
 *
 * The headers are checked first (a known key, a date in the window, a fresh
 * nonce), so a request without them is refused before its body is read; only
 * then is the body streamed in, hashed as it comes and cut at maxBodyBytes.
 * A verified nonce is remembered and a repeat refused (replay). Used by the
 * REST API and by the stats stream's websocket upgrades alike.
 */
export class ApiGate {
  private readonly nonces: NonceMemory;
  private readonly pending: PendingBudget;

  constructor(private readonly keys: ReadonlyMap<string, string>, private readonly options: GateOptions) {
    this.nonces = new NonceMemory(options.maxNonces);
    this.pending = { bytes: 0, max: options.maxPendingBodyBytes };
  }

  /** Express middleware: sets `req.body` to the verified body as a Buffer and `res.locals.keyId` to the key that signed it, or fails with 401/413/429. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      const claim = this.claim(req.headers, Date.now());
      if (!claim) return refuseUnread(req, res, next, new BenchError('Unauthorized', UNAUTHORIZED));
      const declared = Number(req.headers['content-length']);
      if (declared > this.options.maxBodyBytes) return refuseUnread(req, res, next, tooLarge(this.options.maxBodyBytes));
      readBody(req, this.options.maxBodyBytes, this.pending).then(
        ({ body, sha256 }) => {
          const error = this.admit(claim, req.method, req.originalUrl, sha256);
          if (error) return next(error);
          req.body = body;
          res.locals.keyId = claim.keyId;
          next();
        },
        (err: unknown) => {
          if (err instanceof BenchError) refuseUnread(req, res, next, err);
          // the client went away mid-body: there is no one to answer
          else req.socket.destroy();
        },
      );
    };
  }

  /** A websocket upgrade: a GET with no body, under the same rules. */
  verifyUpgrade(req: IncomingMessage): boolean {
    const claim = this.claim(req.headers, Date.now());
    return claim !== undefined && this.admit(claim, 'GET', req.url ?? '', bodyDigest(undefined)) === undefined;
  }

  private claim(headers: IncomingHttpHeaders, nowMs: number): Claim | undefined {
    const auth = parseAuthorization(headers.authorization);
    const date = single(headers[DATE_HEADER]);
    const nonce = single(headers[NONCE_HEADER]);
    if (!auth || !date || !isNonce(nonce)) return undefined;
    const sentMs = Date.parse(date);
    if (!Number.isFinite(sentMs) || sentMs < nowMs - MAX_DATE_AGE_MS || sentMs > nowMs + MAX_DATE_AHEAD_MS) return undefined;
    const secret = this.keys.get(auth.accessId);
    if (!secret || this.nonces.seen(nonce, nowMs)) return undefined;
    return { keyId: auth.accessId, secret, signature: auth.signature, date, nonce, expiresMs: sentMs + MAX_DATE_AGE_MS };
  }

  /** Checks the signature, then spends the nonce; undefined when the request is in. */
  private admit(claim: Claim, method: string, url: string, sha256: string): BenchError | undefined {
    const expected = signDigest(claim.secret, method, url, claim.date, claim.nonce, sha256);
    if (!signaturesEqual(expected, claim.signature)) return new BenchError('Unauthorized', UNAUTHORIZED);
    // checked again here: two copies of one request may both have passed `claim` while their bodies streamed
    const outcome = this.nonces.remember(claim.nonce, claim.expiresMs, Date.now());
    if (outcome === 'seen') return new BenchError('Unauthorized', UNAUTHORIZED);
    if (outcome === 'full') return new BenchError('TooManyRequests', `more than ${this.nonces.maxEntries} signed requests within ${(MAX_DATE_AGE_MS + MAX_DATE_AHEAD_MS) / 60000} minutes; try again later`);
    return undefined;
  }
}

/**
 * The door of `GET /metrics`: open without a token (a scraper inside the
 * cluster, as Prometheus endpoints usually are); with `--metrics-token`,
 * `Authorization: Bearer <token>`, compared in constant time. A scraper
 * cannot sign requests, so the API's HMAC does not apply here.
 */
export function bearerGate(token: string | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!token) return next();
    const presented = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')?.[1];
    if (presented !== undefined && sameSecret(presented, token)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
    next(new BenchError('Unauthorized', UNAUTHORIZED));
  };
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function tooLarge(maxBodyBytes: number): BenchError {
  return new BenchError('PayloadTooLarge', `the request body is over ${formatBytes(maxBodyBytes)}`);
}

function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MB` : `${bytes} bytes`;
}

/**
 * Answers without reading (the rest of) the body: `Connection: close` makes
 * node close the socket once the answer is sent, instead of draining what the
 * client still sends.
 */
function refuseUnread(req: Request, res: Response, next: NextFunction, error: BenchError): void {
  if (!req.complete) res.setHeader('Connection', 'close');
  next(error);
}

/**
 * The body and its sha256, read as it streams in; rejects with a 413 once it
 * passes `maxBytes`, and with a 429 when the bodies being received together
 * would pass the pending budget.
 */
function readBody(req: IncomingMessage, maxBytes: number, pending: PendingBudget): Promise<{ body: Buffer; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let received = 0;
    const done = (): void => {
      pending.bytes -= received;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      const refusal = received + chunk.length > maxBytes ? tooLarge(maxBytes)
        : pending.bytes + chunk.length > pending.max ? new BenchError('TooManyRequests', 'too many request bodies are being received at once; try again later')
          : undefined;
      if (refusal) {
        done();
        req.pause();
        chunks.length = 0;
        reject(refusal);
        return;
      }
      received += chunk.length;
      pending.bytes += chunk.length;
      hash.update(chunk);
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve({ body: Buffer.concat(chunks, received), sha256: hash.digest('hex') });
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    const onClose = (): void => onError(new Error('the connection closed before the body ended'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
