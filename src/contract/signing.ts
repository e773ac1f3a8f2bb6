import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Request signing shared by the client and the controller, so both compute
 * exactly the same string: METHOD\nPATH?QUERY\nx-eas-date\nhex(sha256(body)).
 */
export const AUTH_SCHEME = 'EAS-HMAC-SHA256';
export const DATE_HEADER = 'x-eas-date';
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export function bodyDigest(body: string | Uint8Array | undefined): string {
  return createHash('sha256').update(body ?? '').digest('hex');
}

export function canonicalString(method: string, pathWithQuery: string, date: string, body: string | Uint8Array | undefined): string {
  return `${method.toUpperCase()}\n${pathWithQuery}\n${date}\n${bodyDigest(body)}`;
}

export function signRequest(secret: string, method: string, pathWithQuery: string, date: string, body: string | Uint8Array | undefined): string {
  return createHmac('sha256', secret).update(canonicalString(method, pathWithQuery, date, body)).digest('hex');
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

export function signaturesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}
