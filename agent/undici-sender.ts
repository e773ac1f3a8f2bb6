import { Client } from 'undici';
import type { Dispatcher } from 'undici';
import type { RequestTemplate } from '../src/contract';
import { CAUSE, causeOfError } from './error-cause';
import type { DoneCallback } from './load-driver';
import { Preconnector } from './preconnect';
import { preparedInCycle } from './request-mix';
import { AbandonReason, ResultSink, SenderCore, SentRequest, STATUS_CONNECTION_FAILED, STATUS_TIMEOUT } from './sender-core';

interface PreparedRequest {
  options: Dispatcher.DispatchOptions;
  /** Estimated bytes on the wire: request line and headers (as undici writes them) plus the body. */
  bytesOut: number;
}

/**
 * Headers undici computes per request (content-length, from each body) or
 * refuses outright (it would fail every request): a user's copy is dropped.
 */
export const HEADERS_SET_BY_CLIENT = new Set(['content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect']);

/** Turns the template into per-body dispatch options once, so the hot path only picks one. */
export function prepareRequests(template: RequestTemplate): { origin: string; requests: PreparedRequest[]; names: number[] | null } {
  const { prepared, names } = preparedInCycle(template, prepareOne);
  return { origin: new URL(template.url).origin, requests: prepared, names };
}

function prepareOne(template: RequestTemplate): PreparedRequest[] {
  const url = new URL(template.url);
  const path = `${url.pathname}${url.search}`;
  const method = template.method.toUpperCase();
  const headers: string[] = [];
  let headerBytes = Buffer.byteLength(`${method} ${path} HTTP/1.1\r\nhost: ${url.host}\r\nconnection: keep-alive\r\n\r\n`);
  for (const [name, value] of template.headers) {
    if (HEADERS_SET_BY_CLIENT.has(name.toLowerCase())) continue;
    headers.push(name, value);
    headerBytes += Buffer.byteLength(name) + Buffer.byteLength(value) + 4;
  }
  const bodies = template.bodies.length > 0 ? template.bodies.map((b) => Buffer.from(b, 'base64')) : [null];
  return bodies.map((body) => ({
    options: { path, method: method as Dispatcher.HttpMethod, headers, body },
    bytesOut: headerBytes + (body ? body.length + `content-length: ${body.length}\r\n`.length : 0),
  }));
}

const CANCELLED = new Error('cancelled by the agent');
const TIMED_OUT = new Error('timed out by the agent');

/** undici's own header/body timers are off (timeouts are ours), but map them right if they ever fire. */
function statusForError(err: Error & { code?: string }): number {
  return err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT' ? STATUS_TIMEOUT : STATUS_CONNECTION_FAILED;
}

/** Bytes of a response head: status line, header lines, blank line (an estimate: undici hands us the parsed parts). */
function responseHeadBytes(rawHeaders: Buffer[] | string[], statusText: string): number {
  let bytes = 17 + statusText.length; // "HTTP/1.1 200 " + text + CRLF + final CRLF
  for (let i = 0; i < rawHeaders.length; i++) bytes += rawHeaders[i].length + 2; // ": " or CRLF
  return bytes;
}

/**
 * One request on the wire. It is undici's handler (the legacy callback
 * interface, which undici's core calls directly without wrapping) and the
 * core's request at the same time, so a request costs one object. undici
 * keeps the handler until its last call (onComplete or onError), which comes
 * after our own outcome when the request timed out or was cancelled: only
 * then is the object free for reuse.
 */
class PendingRequest extends SentRequest<Client, PreparedRequest> implements Dispatcher.DispatchHandler {
  status = 0;
  /** Why undici failed it (CAUSE); CAUSE.none while it has not. */
  cause: number = CAUSE.none;
  private abort: ((err?: Error) => void) | null = null;

  constructor(private readonly sender: HttpSender) {
    super(sender);
  }

  override begin(prepared: PreparedRequest, originMs: number, deadlineMs: number, done: DoneCallback | null): void {
    super.begin(prepared, originMs, deadlineMs, done);
    this.status = 0;
    this.cause = CAUSE.none;
    this.abort = null;
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.settled) abort(CANCELLED);
    else this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], _resume: () => void, statusText: string): boolean {
    // 1xx heads are informational: the final status comes in a later call.
    if (statusCode >= 200) this.status = statusCode;
    this.bytesIn += responseHeadBytes(rawHeaders, statusText);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytesIn += chunk.length; // counted, never kept
    return true;
  }

  onComplete(): void {
    this.sender.finish(this, this.status);
  }

  onError(err: Error & { code?: string }): void {
    // a head seen: the failure cut the answer short (undici's own status is the head's; the request's is 599)
    this.cause = causeOfError(err, this.status > 0 || this.bytesIn > 0);
    this.sender.finish(this, statusForError(err));
  }

  /** Aborts it in undici (now, or at its connect if it has none yet); undici then calls onError. */
  cancel(reason: Error): void {
    this.abort?.(reason);
  }
}

/**
 * Sends the prepared requests to one origin over keep-alive connections,
 * one request per connection at a time (pipelining 1). Connections are
 * undici Clients; queueing, the cap and outcomes are the shared core's.
 */
export class HttpSender extends SenderCore<Client, PreparedRequest, PendingRequest> {
  private readonly origin: string;
  private readonly preconnector: Preconnector;

  constructor(template: RequestTemplate, startOffset: number, sink: ResultSink) {
    const prepared = prepareRequests(template);
    super(prepared.requests, startOffset, template.timeoutMs, sink, prepared.names);
    this.origin = prepared.origin;
    this.preconnector = new Preconnector(new URL(this.origin), this.connectTimeoutMs);
  }

  /** Idle connections plus those opened ahead and not yet taken by a Client. */
  override get openConnections(): number {
    return this.idle.length + this.preconnector.size;
  }

  /** undici is done with the request: free its connection, and record it unless it timed out or was cancelled. */
  finish(request: PendingRequest, status: number): void {
    request.onWire = false;
    const client = request.connection;
    if (client) {
      if (this.closed || client.destroyed || client.closed) this.replace(client);
      else this.release(client);
    }
    if (request.settled) this.recycle(request);
    else this.record(request, status, request.bytesIn, request.cause);
  }

  protected createRequest(): PendingRequest {
    return new PendingRequest(this);
  }

  protected bytesOut(prepared: PreparedRequest): number {
    return prepared.bytesOut;
  }

  protected connect(): Client {
    return new Client(this.origin, {
      pipelining: 1,
      // Our own deadline list times requests out (as 512); undici's per-phase timers would only add work.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: this.preconnector.connect,
      keepAliveTimeout: 30_000,
    });
  }

  protected isOpen(client: Client): boolean {
    return !client.destroyed && !client.closed;
  }

  protected transmit(client: Client, request: PendingRequest): void {
    client.dispatch(request.prepared!.options, request);
  }

  /** Its connection comes back when undici reports the abort (onError, then `finish`). */
  protected abandon(request: PendingRequest, reason: AbandonReason): void {
    request.cancel(reason === 'timeout' ? TIMED_OUT : CANCELLED);
  }

  protected discard(client: Client): void {
    if (this.isOpen(client)) client.close().catch(() => undefined);
  }

  protected async openAhead(count: number): Promise<void> {
    await this.preconnector.fill(count);
  }

  protected async closeAll(clients: Client[]): Promise<void> {
    this.preconnector.close();
    await Promise.all(clients.map((c) => c.destroy().catch(() => undefined)));
  }
}
