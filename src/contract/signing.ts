import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Request signing shared by the client and the controller, so both compute
 * exactly the same string:
 * METHOD\nPATH?QUERY\nx-eas-date\nx-eas-nonce\nhex(sha256(body)).
 */
export const AUTH_SCHEME = 'EAS-HMAC-SHA256';
export const DATE_HEADER = 'x-eas-date';
/** 128 random bits, lowercase hex, new for every request: the controller refuses one it has seen. */
export const NONCE_HEADER = 'x-eas-nonce';
/** How old a request's x-eas-date may be. */
export const MAX_DATE_AGE_MS = 15 * 60 * 1000;
/**
 * How far ahead of the controller's clock x-eas-date may be. Short, because a
 * nonce must be remembered until its date is too old: ahead + age bounds
 * that memory in time.
 */
export const MAX_DATE_AHEAD_MS = 5 * 60 * 1000;

const NONCE_PATTERN = /^[0-9a-f]{32}$/;

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

export function isNonce(value: string | undefined): value is string {
  return value !== undefined && NONCE_PATTERN.test(value);
}

export function bodyDigest(body: string | Uint8Array | undefined): string {
  return createHash('sha256').update(body ?? '').digest('hex');
}

/** `bodySha256` is hex(sha256(body)), so a receiver can hash the body as it streams in. */
export function canonicalString(method: string, pathWithQuery: string, date: string, nonce: string, bodySha256: string): string {
  return `${method.toUpperCase()}\n${pathWithQuery}\n${date}\n${nonce}\n${bodySha256}`;
}

export function signDigest(secret: string, method: string, pathWithQuery: string, date: string, nonce: string, bodySha256: string): string {
  return createHmac('sha256', secret).update(canonicalString(method, pathWithQuery, date, nonce, bodySha256)).digest('hex');
}

/** ControllerInfoResponse.Proof: who answers holds `secret`, and says this pid and version to the request of this nonce. */
export function controllerInfoProof(secret: string, nonce: string, pid: number, version: string): string {
  return createHmac('sha256', secret).update(`EAS-CONTROLLER-INFO\n${nonce}\n${pid}\n${version}`).digest('hex');
}

export function signRequest(secret: string, method: string, pathWithQuery: string, date: string, nonce: string, body: string | Uint8Array | undefined): string {
  return signDigest(secret, method, pathWithQuery, date, nonce, bodyDigest(body));
}

export function authorizationHeader(accessId: string, signature: string): string {
  return `${AUTH_SCHEME} Credential=${accessId}, Signature=${signature}`;
}

export interface ParsedAuthorization {
  accessId: string;
  signature: string;
}

export function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  if (!header) return undefined;
  const match = /^EAS-HMAC-SHA256\s+Credential=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(header.trim());
  if (!match) return undefined;
  return { accessId: match[1], signature: match[2] };
}

/** Compares secrets in constant time, whatever their lengths: the time must not tell how much of a guess was right. */
export function sameSecret(presented: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(expected)) && expected.length > 0;
}

export function signaturesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}
