import type { RequestTemplate } from '../../../src/contract';
import { DeadlineList, DeadlineNode } from '../deadline-list';
import { ResultSink, STATUS_CONNECTION_FAILED, STATUS_TIMEOUT } from '../http-client';
import type { DoneCallback, Sender } from '../load-driver';
import { ConnectionEvents, RawConnection } from './raw-connection';
import { encodeRequests } from './request-encoder';

/** One request on the wire and a node of the in-flight list at once, so a request costs one object. */
class RawRequest implements DeadlineNode {
  prev: DeadlineNode | null = null;
  next: DeadlineNode | null = null;
  connection: RawConnection<RawRequest> | null = null;
  /** Outcome recorded (or cancelled): nothing more is recorded for it. */
  settled = false;

  constructor(
    private readonly sender: RawHttpSender,
    readonly body: Buffer,
    /** Latency counts from here: the scheduled send time in open loop, the actual one in closed loop. */
    readonly originMs: number,
    public deadlineMs: number,
    readonly done: DoneCallback | null,
  ) {}

  expire(nowMs: number): void {
    this.sender.expire(this, nowMs);
  }
}

/**
 * The HTTP sender for plain http:// targets without undici: each request is a
 * Buffer encoded once per load and written straight to a keep-alive socket,
 * and a minimal parser finds where its answer ends. It keeps the undici
 * sender's contract: the same outcomes (status, 512 on timeout, 599 on a
 * failed connection or a malformed answer), the same connection cap with a
 * FIFO of waiting requests, and connections opened ahead by `prepare`.
 */
export class RawHttpSender implements Sender, ConnectionEvents<RawRequest> {
  private readonly requests: Buffer[];
  private readonly host: string;
  private readonly port: number;
  private readonly noBody: boolean;
  private readonly timeoutMs: number;
  private nextRequest: number;
  private readonly inFlightList = new DeadlineList();
  private readonly idle: RawConnection<RawRequest>[] = [];
  private readonly all = new Set<RawConnection<RawRequest>>();
  private maxIdle = 1;
  private maxConnections = Number.POSITIVE_INFINITY;
  private waiting: RawRequest[] = [];
  private waitingHead = 0;
  private connectionWaitMaxMs = 0;
  private preconnectCount = 0;
  /** Run by `prepare` beside the connects (the workload's warm-up of the send path). */
  readonly beforeReady: (() => Promise<void>)[] = [];
  /** True while writing: an outcome reported synchronously must not recurse into the driver's send. */
  private dispatching = false;
  private closed = false;
  onIdle: () => void = () => undefined;

  constructor(template: RequestTemplate, startOffset: number, private readonly sink: ResultSink) {
    const encoded = encodeRequests(template);
    this.requests = encoded.requests;
    this.host = encoded.host;
    this.port = encoded.port;
    this.noBody = encoded.noBody;
    this.timeoutMs = template.timeoutMs;
    this.nextRequest = ((startOffset % this.requests.length) + this.requests.length) % this.requests.length;
  }

  get inFlight(): number {
    return this.inFlightList.size;
  }

  get openConnections(): number {
    return this.idle.length;
  }

  setPreconnect(count: number): void {
    this.preconnectCount = Math.max(0, count);
  }

  setMaxIdleConnections(count: number): void {
    this.maxIdle = Math.max(1, count);
    this.maxConnections = this.maxIdle;
    while (this.idle.length > this.maxIdle) this.drop(this.idle.pop());
  }

  takeConnectionWaitMaxMs(): number {
    const max = this.connectionWaitMaxMs;
    this.connectionWaitMaxMs = 0;
    return max;
  }

  /** Opens the connections the load needs before `ready`; a failed connect is left to the first request. Never rejects. */
  async prepare(): Promise<void> {
    const want = Math.min(this.preconnectCount, this.maxConnections) - this.all.size;
    const opening = Array.from({ length: Math.max(0, want) }, () => this.newConnection());
    const connects = opening.map(async (connection) => {
      if (await connection.ready()) {
        if (!connection.busy && connection.open && !this.closed) this.idle.push(connection);
      } else this.all.delete(connection);
    });
    await Promise.all([...connects, ...this.beforeReady.map((warm) => warm())]);
  }

  send(originMs: number, nowMs: number, done: DoneCallback | null): void {
    if (this.closed) return;
    const body = this.requests[this.nextRequest];
    this.nextRequest = this.nextRequest + 1 === this.requests.length ? 0 : this.nextRequest + 1;
    let idle = this.idle.pop();
    while (idle && !idle.open) idle = this.idle.pop(); // closed under us between its events
    const connection = idle ?? (this.all.size < this.maxConnections ? this.newConnection() : null);
    // The timeout runs from the actual send: it bounds the request, not the schedule.
    const request = new RawRequest(this, body, originMs, nowMs + this.timeoutMs, done);
    this.inFlightList.push(request);
    this.sink.sent(nowMs, body.length);
    if (connection) this.dispatch(connection, request);
    else this.waiting.push(request);
  }

  onResponse(connection: RawConnection<RawRequest>, status: number, bytesIn: number, reusable: boolean): void {
    const request = connection.carried;
    connection.carried = null;
    if (reusable) this.release(connection);
    else this.replace(connection);
    if (request) this.record(request, status, bytesIn);
  }

  onFailure(connection: RawConnection<RawRequest>, _reason: string): void {
    const request = connection.carried;
    connection.carried = null;
    if (!request) {
      this.onIdleClose(connection); // bytes on an idle connection: it is dropped from the idle ones
      return;
    }
    this.replace(connection);
    this.record(request, STATUS_CONNECTION_FAILED, 0);
  }

  onIdleClose(connection: RawConnection<RawRequest>): void {
    this.all.delete(connection);
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
  }

  /** The request outlived timeoutMs: record 512 now and drop its connection (its answer may still come). */
  expire(request: RawRequest, nowMs: number): void {
    request.settled = true;
    this.sink.response(nowMs, STATUS_TIMEOUT, (nowMs - request.originMs) * 1000, 0);
    if (request.connection) {
      request.connection.carried = null;
      this.replace(request.connection);
    }
    this.notify(request, STATUS_TIMEOUT);
  }

  cancelAll(): void {
    this.inFlightList.drain((node) => {
      const request = node as RawRequest;
      request.settled = true;
      if (request.connection) {
        request.connection.carried = null;
        request.connection.destroy();
        this.all.delete(request.connection);
      }
    });
    this.waiting = [];
    this.waitingHead = 0;
    this.onIdle();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelAll();
    for (const connection of this.all) connection.destroy();
    this.all.clear();
    this.idle.length = 0;
  }

  private newConnection(): RawConnection<RawRequest> {
    const connection = new RawConnection<RawRequest>(this.host, this.port, Math.min(10_000, this.timeoutMs + 1000), this);
    this.all.add(connection);
    return connection;
  }

  private dispatch(connection: RawConnection<RawRequest>, request: RawRequest): void {
    request.connection = connection;
    connection.carried = request;
    this.dispatching = true;
    try {
      connection.send(request.body, this.noBody);
    } finally {
      this.dispatching = false;
    }
  }

  private record(request: RawRequest, status: number, bytesIn: number): void {
    if (request.settled) return;
    request.settled = true;
    this.inFlightList.remove(request);
    const nowMs = performance.now();
    this.sink.response(nowMs, status, (nowMs - request.originMs) * 1000, bytesIn);
    this.notify(request, status);
  }

  private notify(request: RawRequest, status: number): void {
    if (this.inFlightList.size === 0) this.onIdle();
    const done = request.done;
    if (!done) return;
    if (this.dispatching) setImmediate(done, status);
    else done(status);
  }

  /** The oldest waiting request still worth sending (timed-out or cancelled ones are skipped). */
  private nextWaiting(): RawRequest | undefined {
    while (this.waitingHead < this.waiting.length) {
      const request = this.waiting[this.waitingHead++];
      if (!request.settled) return request;
    }
    this.waiting = [];
    this.waitingHead = 0;
    return undefined;
  }

  /** A free, open connection: the oldest waiting request takes it, or it idles (or closes beyond the cap). */
  private release(connection: RawConnection<RawRequest>): void {
    if (this.closed) return;
    const waiting = this.nextWaiting();
    if (waiting) {
      // its deadline is its send time plus the timeout: what is left of the timeout is how long it waited
      const waitedMs = performance.now() - (waiting.deadlineMs - this.timeoutMs);
      if (waitedMs > this.connectionWaitMaxMs) this.connectionWaitMaxMs = waitedMs;
      this.dispatch(connection, waiting);
    } else if (this.idle.length < this.maxIdle) this.idle.push(connection);
    else this.drop(connection);
  }

  /** A connection that cannot carry another request: gone, and a waiting request gets a new one. */
  private replace(connection: RawConnection<RawRequest>): void {
    this.drop(connection);
    const waiting = this.closed ? undefined : this.nextWaiting();
    if (waiting) this.dispatch(this.newConnection(), waiting);
  }

  private drop(connection: RawConnection<RawRequest> | undefined): void {
    if (!connection) return;
    this.all.delete(connection);
    connection.destroy();
  }
}
