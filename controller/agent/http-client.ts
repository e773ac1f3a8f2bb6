import { Client } from 'undici';
import type { Dispatcher } from 'undici';
import type { RequestTemplate } from '../../src/contract';
import { DeadlineList, DeadlineNode } from './deadline-list';
import type { DoneCallback, Sender } from './load-driver';
import { Preconnector } from './preconnect';

/** SPEC 3: a timed-out request is recorded as 512, a connection failure as 599. */
export const STATUS_TIMEOUT = 512;
export const STATUS_CONNECTION_FAILED = 599;

/** Where the sender reports what happened; implemented by the stats recorder. */
export interface ResultSink {
  sent(nowMs: number, bytesOut: number): void;
  response(nowMs: number, status: number, latencyUs: number, bytesIn: number): void;
}

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
export function prepareRequests(template: RequestTemplate): { origin: string; requests: PreparedRequest[] } {
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
  const requests = bodies.map((body) => ({
    options: { path, method: method as Dispatcher.HttpMethod, headers, body },
    bytesOut: headerBytes + (body ? body.length + `content-length: ${body.length}\r\n`.length : 0),
  }));
  return { origin: url.origin, requests };
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
 * interface, which undici's core calls directly without wrapping) and a node
 * of the in-flight list at the same time, so a request costs one object.
 */
class PendingRequest implements Dispatcher.DispatchHandler, DeadlineNode {
  prev: DeadlineNode | null = null;
  next: DeadlineNode | null = null;
  status = 0;
  bytesIn = 0;
  prepared: PreparedRequest | null = null;
  /** Outcome recorded (or cancelled): later undici callbacks only give the connection back. */
  settled = false;
  private abort: ((err?: Error) => void) | null = null;

  constructor(
    private readonly sender: HttpSender,
    /** null while the request waits for a connection (all of them busy at the cap). */
    public client: Client | null,
    /** Latency counts from here: the scheduled send time in open loop, the actual one in closed loop. */
    readonly originMs: number,
    public deadlineMs: number,
    readonly done: DoneCallback | null,
  ) {}

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

  onError(err: Error): void {
    this.sender.finish(this, statusForError(err));
  }

  expire(nowMs: number): void {
    this.sender.expire(this, nowMs);
  }

  cancel(reason: Error): void {
    this.settled = true;
    this.abort?.(reason);
  }
}

/**
 * Sends the prepared requests to one origin over keep-alive connections,
 * one request per connection at a time (pipelining 1). Connections are
 * undici Clients kept on a free stack: a request takes one, gives it back
 * when undici is done with it, so there are never more connections than
 * requests in flight and picking one is O(1).
 */
export class HttpSender implements Sender {
  private readonly requests: PreparedRequest[];
  private readonly origin: string;
  private readonly timeoutMs: number;
  private nextRequest: number;
  private readonly inFlightList = new DeadlineList();
  private readonly idleClients: Client[] = [];
  private readonly allClients = new Set<Client>();
  /** Idle connections kept beyond this are closed: follows the load's concurrency or in-flight cap. */
  private maxIdleClients = 1;
  /**
   * Most connections open at once. Beyond it a request waits (FIFO) for the
   * next free connection instead of opening another: under overload a storm of
   * new connections would cost the agent more than the service. Its latency
   * still counts from its origin, so the wait is measured.
   */
  private maxConnections = Number.POSITIVE_INFINITY;
  private waiting: PendingRequest[] = [];
  private waitingHead = 0;
  /** Longest wait of a request for a free connection since the recorder last asked, ms. */
  private connectionWaitMaxMs = 0;
  /** Connections to open before the schedule starts (set by the workload from the load). */
  private preconnectCount = 0;
  private readonly preconnector: Preconnector;
  /** Run by `prepare` beside the connects (the workload's warm-up of the send path). */
  readonly beforeReady: (() => Promise<void>)[] = [];
  /** True while inside client.dispatch: an error undici reports synchronously must not recurse into send. */
  private dispatching = false;
  private closed = false;
  onIdle: () => void = () => undefined;

  constructor(template: RequestTemplate, startOffset: number, private readonly sink: ResultSink) {
    const prepared = prepareRequests(template);
    this.origin = prepared.origin;
    this.requests = prepared.requests;
    this.timeoutMs = template.timeoutMs;
    this.preconnector = new Preconnector(new URL(this.origin), this.connectTimeoutMs());
    this.nextRequest = ((startOffset % this.requests.length) + this.requests.length) % this.requests.length;
  }

  get inFlight(): number {
    return this.inFlightList.size;
  }

  /**
   * Opens the connections the load will need before `ready` is reported, so
   * that the schedule's first requests do not wait for connects (the
   * requests themselves were prepared by the constructor). Never rejects.
   */
  async prepare(): Promise<void> {
    await Promise.all([this.preconnector.fill(Math.min(this.preconnectCount, this.maxConnections)), ...this.beforeReady.map((warm) => warm())]);
  }

  /** Connections open and ready for requests: idle ones plus those opened ahead and not yet taken. */
  get openConnections(): number {
    return this.idleClients.length + this.preconnector.size;
  }

  /** How many connections `prepare` opens. */
  setPreconnect(count: number): void {
    this.preconnectCount = Math.max(0, count);
  }

  takeConnectionWaitMaxMs(): number {
    const max = this.connectionWaitMaxMs;
    this.connectionWaitMaxMs = 0;
    return max;
  }

  /** Connections to keep and, at most, to open: the load's concurrency, or its cap in open loop. */
  setMaxIdleConnections(count: number): void {
    this.maxIdleClients = Math.max(1, count);
    this.maxConnections = this.maxIdleClients;
    while (this.idleClients.length > this.maxIdleClients) this.dropClient(this.idleClients.pop());
  }

  /** Sends the next request (bodies round-robin). `originMs` and `nowMs` are performance.now() times. */
  send(originMs: number, nowMs: number, done: DoneCallback | null): void {
    if (this.closed) return;
    const prepared = this.requests[this.nextRequest];
    this.nextRequest = this.nextRequest + 1 === this.requests.length ? 0 : this.nextRequest + 1;
    const client = this.idleClients.pop() ?? (this.allClients.size < this.maxConnections ? this.newClient() : null);
    // The timeout runs from the actual send: it bounds the request, not the schedule.
    const request = new PendingRequest(this, client, originMs, nowMs + this.timeoutMs, done);
    request.prepared = prepared;
    this.inFlightList.push(request);
    this.sink.sent(nowMs, prepared.bytesOut);
    if (client) this.dispatch(client, request);
    else this.waiting.push(request);
  }

  private dispatch(client: Client, request: PendingRequest): void {
    request.client = client;
    this.dispatching = true;
    try {
      client.dispatch(request.prepared!.options, request);
    } finally {
      this.dispatching = false;
    }
  }

  /** The oldest waiting request still worth sending (timed-out or cancelled ones are skipped). */
  private nextWaiting(): PendingRequest | undefined {
    while (this.waitingHead < this.waiting.length) {
      const request = this.waiting[this.waitingHead++];
      if (!request.settled) return request;
    }
    this.waiting = [];
    this.waitingHead = 0;
    return undefined;
  }

  /** undici is done with the request: record it (unless it timed out or was cancelled) and free its connection. */
  finish(request: PendingRequest, status: number): void {
    if (request.client) this.releaseClient(request.client);
    if (request.settled) return;
    request.settled = true;
    this.inFlightList.remove(request);
    const nowMs = performance.now();
    this.sink.response(nowMs, status, (nowMs - request.originMs) * 1000, request.bytesIn);
    this.notify(request, status);
  }

  /** The request outlived timeoutMs: record 512 now; its connection comes back when undici reports the abort. */
  expire(request: PendingRequest, nowMs: number): void {
    request.cancel(TIMED_OUT);
    this.sink.response(nowMs, STATUS_TIMEOUT, (nowMs - request.originMs) * 1000, request.bytesIn);
    this.notify(request, STATUS_TIMEOUT);
  }

  /** Aborts every request in flight without recording it (the round is over for them). */
  cancelAll(): void {
    this.inFlightList.drain((node) => (node as PendingRequest).cancel(CANCELLED));
    this.onIdle();
  }

  /** Cancels what is in flight and closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelAll();
    const clients = [...this.allClients];
    this.allClients.clear();
    this.idleClients.length = 0;
    this.preconnector.close();
    await Promise.all(clients.map((c) => c.destroy().catch(() => undefined)));
  }

  private notify(request: PendingRequest, status: number): void {
    if (this.inFlightList.size === 0) this.onIdle();
    const done = request.done;
    if (!done) return;
    if (this.dispatching) setImmediate(done, status);
    else done(status);
  }

  private newClient(): Client {
    const client = new Client(this.origin, {
      pipelining: 1,
      // Our own deadline list times requests out (as 512); undici's per-phase timers would only add work.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: this.preconnector.connect,
      keepAliveTimeout: 30_000,
    });
    this.allClients.add(client);
    return client;
  }

  private connectTimeoutMs(): number {
    return Math.min(10_000, this.timeoutMs + 1000);
  }

  private releaseClient(client: Client): void {
    if (this.closed || client.destroyed || client.closed) {
      this.allClients.delete(client);
      const waiting = this.closed ? undefined : this.nextWaiting();
      if (waiting) this.dispatch(this.newClient(), waiting);
      return;
    }
    const waiting = this.nextWaiting();
    if (waiting) {
      // its deadline is its send time plus the timeout: what is left of the timeout is how long it waited
      const waitedMs = performance.now() - (waiting.deadlineMs - this.timeoutMs);
      if (waitedMs > this.connectionWaitMaxMs) this.connectionWaitMaxMs = waitedMs;
      this.dispatch(client, waiting);
      return;
    }
    if (this.idleClients.length < this.maxIdleClients) this.idleClients.push(client);
    else this.dropClient(client);
  }

  private dropClient(client: Client | undefined): void {
    if (!client) return;
    this.allClients.delete(client);
    client.close().catch(() => undefined);
  }
}
