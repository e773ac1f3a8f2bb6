import { authorizationHeader, DATE_HEADER, signRequest } from '../../src/contract';

/** A signed call to the controller API, for tests that check the server without the CLI. */
export async function signedFetch(base: string, accessId: string, secret: string, method: string, pathWithQuery: string, body?: string | Buffer): Promise<{ status: number; json: Record<string, unknown> }> {
  const date = new Date().toUTCString();
  const signature = signRequest(secret, method, pathWithQuery, date, body);
  const res = await fetch(`${base}${pathWithQuery}`, {
    method,
    headers: { authorization: authorizationHeader(accessId, signature), [DATE_HEADER]: date, 'content-type': 'application/json' },
    body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
