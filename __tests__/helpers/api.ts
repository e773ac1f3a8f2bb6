import { WebSocket } from 'ws';
import { ControllerClient } from '../../src/api/client';
import { authorizationHeader, DATE_HEADER, newNonce, NONCE_HEADER, signRequest } from '../../src/contract';

/** The auth headers `eascmd` sends; `date` and `nonce` can be forced to test their checks. */
export function signedHeaders(accessId: string, secret: string, method: string, pathWithQuery: string, body?: string | Buffer, date = new Date().toUTCString(), nonce = newNonce()): Record<string, string> {
  const signature = signRequest(secret, method, pathWithQuery, date, nonce, body);
  return { authorization: authorizationHeader(accessId, signature), [DATE_HEADER]: date, [NONCE_HEADER]: nonce };
}

/** A signed call to the controller API, for tests that check the server without the CLI. */
export async function signedFetch(base: string, accessId: string, secret: string, method: string, pathWithQuery: string, body?: string | Buffer): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${pathWithQuery}`, {
    method,
    headers: { ...signedHeaders(accessId, secret, method, pathWithQuery, body), 'content-type': 'application/json' },
    body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** A signed GET read as text, with its content type (CSV downloads). */
export async function signedGetText(controller: { url: string; accessId: string; secret: string }, pathWithQuery: string): Promise<{ status: number; text: string; type: string }> {
  const res = await fetch(`${controller.url}${pathWithQuery}`, { headers: signedHeaders(controller.accessId, controller.secret, 'GET', pathWithQuery) });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
}

/** A websocket on a task's stats stream (`GET .../stats/stream`), signed the way `eascmd` signs it. */
export function openStatsStream(base: string, accessId: string, secret: string, taskName: string, region = 'cn-local'): WebSocket {
  const request = new ControllerClient({ endpoint: base, accessId, accessKey: secret }).statsStreamRequest(region, taskName);
  return new WebSocket(request.url, { headers: request.headers });
}
