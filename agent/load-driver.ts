import type { LoadShape } from '../src/contract';

/** The HTTP loads; `llm` loads are sent by the LLM workload. */
export type HttpLoad = Exclude<LoadShape, { kind: 'llm' }>;

/** Called when a request's outcome is known (not for requests cancelled at stop). */
export type DoneCallback = (status: number) => void;

/** What a load driver may do: the lifecycle behind it enforces the request limit and records the stats. */
export interface LoadContext {
  /**
   * Sends one request; `originMs` is where its latency counts from and `nowMs`
   * the actual send time (performance.now()). Returns false, sending nothing,
   * when the agent may not send any more (request limit reached, stopping):
   * the driver then stops. `pick`: which prepared request to send (a
   * replay's record); absent or -1: the sender's own order.
   */
  trySend(originMs: number, nowMs: number, done: DoneCallback | null, pick?: number): boolean;
  readonly inFlight: number;
  /** A scheduled send refused because the in-flight cap was reached. */
  dropped(nowMs: number): void;
  /** Actual minus scheduled send time of an open-loop request, µs. */
  sendLag(nowMs: number, lagUs: number): void;
}

/** One way of driving load (closed or open loop, LLM streams or arrivals). */
export interface LoadDriver<Load extends LoadShape> {
  start(): void;
  /** Applies a new load in place; false when this driver cannot, and the lifecycle replaces it. */
  update(load: Load): boolean;
  /** Stops sending; requests in flight are the lifecycle's business. */
  stop(): void;
  /**
   * Sends at once whatever is due by now. The lifecycle calls it when the
   * schedule's end passes, so that requests scheduled before the end but not
   * sent yet (the sender's turn came late) still go out before the round ends.
   */
  sendDue?(): void;
}

/** Puts requests on the wire and records their outcomes; the lifecycle decides when and how many. */
export interface Sender {
  /** Requests sent and not yet ended, timed out or cancelled. */
  readonly inFlight: number;
  /** Set by the lifecycle; called whenever inFlight drops to 0. */
  onIdle: () => void;
  /** What must be done before `ready` is reported (connections opened, the LLM tokenizer); never rejects. */
  prepare(): Promise<void>;
  /** Connections open and ready once prepared (for the `ready` message); absent when the sender does not keep any ahead. */
  readonly openConnections?: number;
  /** Longest wait of a request for a free connection since the last call, ms; starts a new period. */
  takeConnectionWaitMaxMs?(): number;
  send(originMs: number, nowMs: number, done: DoneCallback | null, pick?: number): void;
  /** Aborts every request in flight without recording it (the round is over for them). */
  cancelAll(): void;
  /** Cancels what is in flight and closes every connection. */
  close(): Promise<void>;
}

/** What differs between kinds of load (HTTP, LLM): the sender and the drivers of its load shapes. */
export interface Workload<Load extends LoadShape> {
  readonly sender: Sender;
  /** Whether a `load` message is of this kind; one of another kind is ignored. */
  accepts(load: LoadShape): load is Load;
  /** Follows a new load outside the driver (how many connections to keep). */
  fit(load: Load): void;
  createDriver(load: Load, context: LoadContext): LoadDriver<Load>;
}
