import { request } from 'node:http';
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

/**
 * A signed POST that sends its head first and its body only if no answer
 * came within `waitMs`: a server that refuses a body by its declared length
 * (a 413) answers from the head and closes, and a client still writing the
 * body then gets a reset that can swallow the answer (fetch reports EPIPE).
 * Sent this way, the answer is read whole.
 */
export function signedPostHeadFirst(base: string, accessId: string, secret: string, pathWithQuery: string, body: string, waitMs = 2000): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(`${base}${pathWithQuery}`, { method: 'POST', headers: { ...signedHeaders(accessId, secret, 'POST', pathWithQuery, body), 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
        req.destroy();
      });
      res.on('error', reject);
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.flushHeaders();
    setTimeout(() => {
      if (!answered) req.end(body);
    }, waitMs);
  });
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
