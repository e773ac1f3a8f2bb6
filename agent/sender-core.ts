import { DeadlineList, DeadlineNode } from './deadline-list';
import { CAUSE } from './error-cause';
import type { DoneCallback, Sender } from './load-driver';

/** SPEC 3: a timed-out request is recorded as 512, a connection failure as 599. */
export const STATUS_TIMEOUT = 512;
export const STATUS_CONNECTION_FAILED = 599;

/** Where the sender reports what happened; implemented by the stats recorder. */
export interface ResultSink {
  sent(nowMs: number, bytesOut: number): void;
  /**
   * `cause`: why a failed request failed, a CAUSE (an index into
   * ERROR_CLASSES); CAUSE.none for a complete answer, whose failure, if its
   * status is not 200, is `http status`. `name`: the index of the task's
   * named request it was (-1: the task has none).
   */
  response(nowMs: number, status: number, latencyUs: number, bytesIn: number, cause: number, name: number): void;
  /** The task's named requests, in `mix` order (the `name` index of `response`), before anything is sent. */
  nameRequests?(names: readonly string[]): void;
}

/** Why a request leaves its connection before its answer: its timeout passed, or the round is over for it. */
export type AbandonReason = 'timeout' | 'cancel';

/**
 * One request of a sender: a node of the in-flight list and the object the
 * transport carries, at once, so a request costs one object; and that object
 * is used again for a later request once nothing can see it any more (see
 * `SenderCore.recycle`).
 */
export class SentRequest<Connection, Prepared> implements DeadlineNode {
  prev: DeadlineNode | null = null;
  next: DeadlineNode | null = null;
  deadlineMs = 0;
  /** Latency counts from here: the scheduled send time in open loop, the actual one in closed loop. */
  originMs = 0;
  /** Which named request it is (-1: the task has none). */
  name = -1;
  done: DoneCallback | null = null;
  prepared: Prepared | null = null;
  /** null while the request waits for a connection (all of them busy at the cap). */
  connection: Connection | null = null;
  /** Bytes of the answer counted so far (the transports that count them per request). */
  bytesIn = 0;
  /** Outcome recorded (or cancelled): nothing more is recorded for it. */
  settled = false;
  /** The transport may still call back about it (undici's handler, a raw connection's `carried`). */
  onWire = false;
  /** In the FIFO of requests waiting for a connection. */
  queued = false;
  /** On the free list, waiting to be used again. */
  spare = false;

  constructor(private readonly owner: { expire(request: SentRequest<Connection, Prepared>, nowMs: number): void }) {}

  /** Called by the in-flight list when the deadline passes. */
  expire(nowMs: number): void {
    this.owner.expire(this, nowMs);
  }

  /** Makes the object a fresh request; a transport's own fields are reset by overriding it. */
  begin(prepared: Prepared, originMs: number, deadlineMs: number, done: DoneCallback | null): void {
    this.prepared = prepared;
    this.originMs = originMs;
    this.deadlineMs = deadlineMs;
    this.done = done;
    this.connection = null;
    this.bytesIn = 0;
    this.settled = false;
    this.onWire = false;
    this.queued = false;
    this.spare = false;
  }
}

/** A connect gives up after the request's timeout and a second more (the request has timed out by then), 10 s at most. */
export function connectTimeoutFor(requestTimeoutMs: number): number {
  return Math.min(10_000, requestTimeoutMs + 1000);
}

/**
 * What the two HTTP senders share, with only the transport left to each
 * (undici Clients in `undici-sender.ts`, raw sockets in `raw-http/`): requests
 * prepared once per load and taken round-robin, the in-flight list with its
 * one timeout timer, the connection cap with its FIFO of waiting requests,
 * idle connections kept up to the load's need, outcome recording, timeouts
 * and cancelling, and a free list of request objects.
 *
 * Connections are kept on a free stack: a request takes one, gives it back
 * when its answer is complete, so there are never more connections than
 * requests in flight and picking one is O(1). Beyond the cap a request waits
 * (FIFO) for the next free connection instead of opening another: under
 * overload a storm of new connections would cost the agent more than the
 * service. Its latency still counts from its origin, so the wait is measured.
 */
export abstract class SenderCore<Connection, Prepared, Request extends SentRequest<Connection, Prepared>> implements Sender {
  private readonly prepared: Prepared[];
  private nextPrepared: number;
  protected readonly timeoutMs: number;
  private readonly inFlightList = new DeadlineList();
  protected readonly idle: Connection[] = [];
  protected readonly all = new Set<Connection>();
  /** Idle connections kept beyond this are closed: follows the load's concurrency or in-flight cap. */
  private maxIdle = 1;
  /** Most connections open at once (see the class comment). */
  protected maxConnections = Number.POSITIVE_INFINITY;
  private readonly waiting: Request[] = [];
  private waitingHead = 0;
  /** Longest wait of a request for a free connection since the recorder last asked, ms. */
  private connectionWaitMaxMs = 0;
  /** Connections to open before the schedule starts (set by the workload from the load). */
  private preconnectCount = 0;
  /** Request objects whose request is over, to be used again (at most the most ever in flight). */
  private readonly spares: Request[] = [];
  /** Run by `prepare` beside the connects (the workload's warm-up of the send path). */
  readonly beforeReady: (() => Promise<void>)[] = [];
  /** True while the transport sends: an outcome it reports synchronously must not recurse into the driver's send. */
  private dispatching = false;
  protected closed = false;
  onIdle: () => void = () => undefined;

  constructor(
    prepared: Prepared[],
    startOffset: number,
    timeoutMs: number,
    protected readonly sink: ResultSink,
    /** Named requests: the name index of each of `prepared`. */
    private readonly names: number[] | null = null,
  ) {
    this.prepared = prepared;
    this.timeoutMs = timeoutMs;
    this.nextPrepared = ((startOffset % prepared.length) + prepared.length) % prepared.length;
  }

  /** A new, empty request object of this transport. */
  protected abstract createRequest(): Request;
  /** Bytes the prepared request puts on the wire. */
  protected abstract bytesOut(prepared: Prepared): number;
  /** A new connection (the core adds it to `all`). */
  protected abstract connect(): Connection;
  /** Whether an idle connection can still carry a request (it may have closed under us between its events). */
  protected abstract isOpen(connection: Connection): boolean;
  /** Puts the request on its connection (`request.connection` is set). */
  protected abstract transmit(connection: Connection, request: Request): void;
  /** Takes the request off its connection without an outcome (the core records one, or none when cancelled). */
  protected abstract abandon(request: Request, reason: AbandonReason): void;
  /** Closes a connection the core no longer keeps. */
  protected abstract discard(connection: Connection): void;
  /** Opens `count` connections ahead of the schedule; resolves when they are open or failed. */
  protected abstract openAhead(count: number): Promise<void>;
  /** Closes every connection at `close` (the core has forgotten them). */
  protected abstract closeAll(connections: Connection[]): Promise<void>;

  get inFlight(): number {
    return this.inFlightList.size;
  }

  protected get connectTimeoutMs(): number {
    return connectTimeoutFor(this.timeoutMs);
  }

  /** Connections open and ready for requests. */
  get openConnections(): number {
    return this.idle.length;
  }

  /**
   * Opens the connections the load will need before `ready` is reported, so
   * that the schedule's first requests do not wait for connects (the
   * requests themselves were prepared by the constructor). Never rejects.
   */
  async prepare(): Promise<void> {
    await Promise.all([this.openAhead(Math.min(this.preconnectCount, this.maxConnections)), ...this.beforeReady.map((warm) => warm())]);
  }

  /** How many connections `prepare` opens. */
  setPreconnect(count: number): void {
    this.preconnectCount = Math.max(0, count);
  }

  /** Connections to keep and, at most, to open: the load's concurrency, or its cap in open loop. */
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

  /** Sends the next request (bodies round-robin, or `pick`). `originMs` and `nowMs` are performance.now() times. */
  send(originMs: number, nowMs: number, done: DoneCallback | null, pick = -1): void {
    if (this.closed) return;
    // a replay names its record's request; otherwise round-robin
    const at = pick >= 0 && pick < this.prepared.length ? pick : this.nextPrepared;
    const prepared = this.prepared[at];
    const name = this.names ? this.names[at] : -1;
    if (at === this.nextPrepared) this.nextPrepared = this.nextPrepared + 1 === this.prepared.length ? 0 : this.nextPrepared + 1;
    let idle = this.idle.pop();
    while (idle !== undefined && !this.isOpen(idle)) idle = this.idle.pop();
    const connection = idle ?? (this.all.size < this.maxConnections ? this.newConnection() : null);
    const request = this.spares.pop() ?? this.createRequest();
    // The timeout runs from the actual send: it bounds the request, not the schedule.
    request.begin(prepared, originMs, nowMs + this.timeoutMs, done);
    request.name = name;
    this.inFlightList.push(request);
    this.sink.sent(nowMs, this.bytesOut(prepared));
    if (connection) this.dispatch(connection, request);
    else {
      request.queued = true;
      this.waiting.push(request);
    }
  }

  /** The request outlived timeoutMs (it is already out of the in-flight list): recorded as 512 now. */
  expire(request: Request, nowMs: number): void {
    request.settled = true;
    this.sink.response(nowMs, STATUS_TIMEOUT, (nowMs - request.originMs) * 1000, request.bytesIn, CAUSE.timeout, request.name);
    if (request.connection) this.abandon(request, 'timeout');
    this.notify(request, STATUS_TIMEOUT);
  }

  /** Aborts every request in flight without recording it (the round is over for them). */
  cancelAll(): void {
    this.inFlightList.drain((node) => {
      const request = node as Request;
      request.settled = true;
      if (request.connection) this.abandon(request, 'cancel');
      this.recycle(request);
    });
    // every waiting request was in flight and is settled now: this passes them all (kept for reuse) and empties the FIFO
    this.nextWaiting();
    this.onIdle();
  }

  /** Cancels what is in flight and closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelAll();
    const connections = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await this.closeAll(connections);
  }

  /**
   * The transport's answer to a request: recorded unless the request timed
   * out or was cancelled first. `cause`: why it failed on the wire (CAUSE),
   * CAUSE.none for a complete answer.
   */
  protected record(request: Request, status: number, bytesIn: number, cause: number): void {
    if (request.settled) return;
    request.settled = true;
    this.inFlightList.remove(request);
    const nowMs = performance.now();
    this.sink.response(nowMs, status, (nowMs - request.originMs) * 1000, bytesIn, cause, request.name);
    this.notify(request, status);
  }

  /**
   * Keeps a request object for a later request, once nothing can see it: its
   * outcome is recorded or it was cancelled (so the in-flight list and its
   * timer have let it go), the transport will not call back about it, and it
   * is not in the waiting FIFO (a waiting request that timed out stays there
   * until `nextWaiting` passes it). `done` is read before and a deferred
   * `done` gets the status, never the request. `spare` keeps it from being
   * kept twice. Its fields are left as they are: a call still finishing with
   * it (undici reports an abort synchronously, inside `expire`) reads them
   * before anything can take it, since only `send` takes spares, and
   * `begin` resets them.
   */
  protected recycle(request: Request): void {
    if (!request.settled || request.onWire || request.queued || request.spare) return;
    request.spare = true;
    this.spares.push(request);
  }

  /** A free, open connection: the oldest waiting request takes it, or it idles (or closes beyond the cap). */
  protected release(connection: Connection): void {
    if (this.closed) {
      this.all.delete(connection);
      return;
    }
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
  protected replace(connection: Connection): void {
    this.drop(connection);
    const waiting = this.closed ? undefined : this.nextWaiting();
    if (waiting) this.dispatch(this.newConnection(), waiting);
  }

  protected drop(connection: Connection | undefined): void {
    if (connection === undefined) return;
    this.all.delete(connection);
    this.discard(connection);
  }

  /** A connection that ended by itself while idle: out of the books, with nothing left to discard. */
  protected forget(connection: Connection): void {
    this.all.delete(connection);
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
  }

  protected newConnection(): Connection {
    const connection = this.connect();
    this.all.add(connection);
    return connection;
  }

  private dispatch(connection: Connection, request: Request): void {
    request.connection = connection;
    request.onWire = true;
    this.dispatching = true;
    try {
      this.transmit(connection, request);
    } finally {
      this.dispatching = false;
    }
  }

  /** Tells the driver a request is over; its object is free before `done` runs, so the send `done` makes can take it. */
  private notify(request: Request, status: number): void {
    if (this.inFlightList.size === 0) this.onIdle();
    const done = request.done;
    this.recycle(request);
    if (!done) return;
    if (this.dispatching) setImmediate(done, status);
    else done(status);
  }

  /** The oldest waiting request still worth sending (timed-out or cancelled ones are passed, and kept for reuse). */
  private nextWaiting(): Request | undefined {
    while (this.waitingHead < this.waiting.length) {
      const request = this.waiting[this.waitingHead++];
      request.queued = false;
      if (!request.settled) return request;
      this.recycle(request);
    }
    this.waiting.length = 0;
    this.waitingHead = 0;
    return undefined;
  }
}
