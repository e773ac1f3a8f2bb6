import type { LoadShape } from '../../src/contract';
import type { DoneCallback } from './http-client';

/** What a load driver may do: the runner behind it enforces the request limit and records the stats. */
export interface LoadContext {
  /**
   * Sends one request; `originMs` is where its latency counts from and `nowMs`
   * the actual send time (performance.now()). Returns false, sending nothing,
   * when the agent may not send any more (request limit reached, stopping):
   * the driver then stops.
   */
  trySend(originMs: number, nowMs: number, done: DoneCallback | null): boolean;
  readonly inFlight: number;
  /** A scheduled send refused because the in-flight cap was reached. */
  dropped(nowMs: number): void;
  /** Actual minus scheduled send time of an open-loop request, µs. */
  sendLag(nowMs: number, lagUs: number): void;
}

/** One way of driving load (closed or open loop). Updates apply at once, without restarting. */
export interface LoadDriver<Shape extends LoadShape = LoadShape> {
  readonly kind: Shape['kind'];
  start(): void;
  update(load: Shape): void;
  /** Stops sending; requests in flight are the runner's business. */
  stop(): void;
}
