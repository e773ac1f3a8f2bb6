import type { NextFunction, Request, Response } from 'express';
import { BenchError, DATE_HEADER, MAX_CLOCK_SKEW_MS, parseAuthorization, signaturesEqual, signRequest } from '../../src/contract';

export interface SignedRequest {
  method: string;
  /** Path and query exactly as sent. */
  url: string;
  authorization: string | undefined;
  date: string | undefined;
  body: Buffer | undefined;
}

/**
 * Checks `Authorization: EAS-HMAC-SHA256 Credential=<id>, Signature=<hex>`
 * over METHOD, path?query, x-eas-date and the body's sha256, and the date's
 * skew. Used by the REST API and by websocket upgrades alike.
 */
export function isValidSignature(keys: ReadonlyMap<string, string>, req: SignedRequest, nowMs = Date.now()): boolean {
  const auth = parseAuthorization(req.authorization);
  if (!auth || !req.date) return false;
  const sentMs = Date.parse(req.date);
  if (!Number.isFinite(sentMs) || Math.abs(nowMs - sentMs) > MAX_CLOCK_SKEW_MS) return false;
  const secret = keys.get(auth.accessId);
  if (!secret) return false;
  return signaturesEqual(signRequest(secret, req.method, req.url, req.date, req.body), auth.signature);
}

/** Every failure is the same 401, so that nothing is learnt from it. */
export function verifySignature(keys: ReadonlyMap<string, string>) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const valid = isValidSignature(keys, {
      method: req.method,
      url: req.originalUrl,
      authorization: req.header('authorization'),
      date: req.header(DATE_HEADER),
      body: Buffer.isBuffer(req.body) ? req.body : undefined,
    });
    next(valid ? undefined : new BenchError('Unauthorized', 'missing or invalid credentials'));
  };
}
