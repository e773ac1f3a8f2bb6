import type { RequestTemplate } from '../../src/contract';
import { HEADERS_SET_BY_CLIENT } from '../undici-sender';
import { everyRequest, preparedInCycle } from '../request-mix';

/** Methods whose requests carry a body by meaning: without one they still say `content-length: 0` (as undici does). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export interface EncodedRequests {
  host: string;
  port: number;
  /** One complete request on the wire per body (request line, headers, body), sent as is. */
  requests: Buffer[];
  /** HEAD: the answer has headers only, whatever its Content-Length says. */
  noBody: boolean;
  /** Named requests: the name (its index in `mix`) of each of `requests`. */
  names: number[] | null;
}

/**
 * Encodes the template's requests once per load: the agent's request shape is
 * fixed for a load, so the hot path writes a ready Buffer instead of building
 * and encoding the head per request. Only http:// URLs (see `rawSenderRefusal`).
 */
export function encodeRequests(template: RequestTemplate): EncodedRequests {
  const url = new URL(template.url);
  // a task's named requests share the origin (the controller checked it) and, for raw, HEAD or not (rawSenderRefusal)
  const { prepared, names } = preparedInCycle(template, encodeOne);
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 80), requests: prepared, noBody: template.method.toUpperCase() === 'HEAD', names };
}

function encodeOne(template: RequestTemplate): Buffer[] {
  const url = new URL(template.url);
  const method = template.method.toUpperCase();
  let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\nconnection: keep-alive\r\n`;
  for (const [name, value] of template.headers) {
    if (HEADERS_SET_BY_CLIENT.has(name.toLowerCase()) || name.toLowerCase() === 'host' || name.toLowerCase() === 'connection') continue;
    head += `${name}: ${value}\r\n`;
  }
  const bodies = template.bodies.map((b) => Buffer.from(b, 'base64'));
  return bodies.length > 0
    ? bodies.map((body) => Buffer.concat([Buffer.from(`${head}content-length: ${body.length}\r\n\r\n`, 'latin1'), body]))
    : [Buffer.from(`${head}${BODY_METHODS.has(method) ? 'content-length: 0\r\n' : ''}\r\n`, 'latin1')];
}

/** Header names and values must be one line each: a CR or LF would split the request (undici refuses them too). */
const UNSAFE_HEADER = /[\r\n\0]/;

/** Why the raw sender cannot send this template (the undici sender then does), or null when it can. */
export function rawSenderRefusal(template: RequestTemplate): string | null {
  let url: URL;
  try {
    url = new URL(template.url);
  } catch {
    return 'the URL does not parse';
  }
  if (url.protocol !== 'http:') return `${url.protocol}// targets need TLS`;
  if (url.username || url.password) return 'the URL carries credentials';
  const all = everyRequest(template);
  if (all.some((r) => r.headers.some(([name, value]) => UNSAFE_HEADER.test(name) || UNSAFE_HEADER.test(value)))) return 'a header holds a line break';
  // the raw parser reads every answer of a load as HEAD's or not
  if (new Set(all.map((r) => r.method.toUpperCase() === 'HEAD')).size > 1) return 'HEAD is mixed with other methods';
  return null;
}
