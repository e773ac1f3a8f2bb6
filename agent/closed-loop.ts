import type { LoadShape } from '../src/contract';
import { STATUS_CONNECTION_FAILED } from './sender-core';
import type { HttpLoad, LoadContext, LoadDriver } from './load-driver';

export type ClosedLoad = Extract<LoadShape, { kind: 'closed' }>;

/**
 * Caps a rate by handing out send slots `1/rate` apart (a token bucket of
 * depth one): a slot is never earlier than now nor than the previous slot
 * plus the interval, so the achieved rate stays at or below the cap, and a
 * late sender does not earn a catch-up burst.
 */
export class Pacer {
  private intervalMs: number;
  private nextSlotMs = Number.NEGATIVE_INFINITY;

  constructor(ratePerS: number) {
    this.intervalMs = 1000 / ratePerS;
  }

  setRate(ratePerS: number): void {
    this.intervalMs = 1000 / ratePerS;
    this.nextSlotMs = Number.NEGATIVE_INFINITY;
  }

  /** Takes the next slot; returns how long to wait for it, ms (0 = send now). */
  reserve(nowMs: number): number {
    const slotMs = this.nextSlotMs > nowMs ? this.nextSlotMs : nowMs;
    this.nextSlotMs = slotMs + this.intervalMs;
    return slotMs - nowMs;
  }
}

/** One closed-loop worker: sends, waits for the answer, sends again. */
class Worker {
  active = true;
  private timer: NodeJS.Timeout | null = null;
  // Bound once per worker, not per request.
  private readonly onDone = (status: number): void => this.afterResponse(status);
  private readonly sendNow = (): void => {
    this.timer = null;
    this.sendOne(performance.now());
  };
  private readonly nextSoon = (): void => this.next();

  constructor(private readonly loop: ClosedLoop) {}

  next(): void {
    if (!this.active) return;
    const nowMs = performance.now();
    const waitMs = this.loop.pacer ? this.loop.pacer.reserve(nowMs) : 0;
    if (waitMs > 0) this.timer = setTimeout(this.sendNow, waitMs);
    else this.sendOne(nowMs);
  }

  /** The pacing changed: give back a slot taken under the old rate and take one under the new. */
  repace(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.next();
  }

  retire(): void {
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private sendOne(nowMs: number): void {
    if (!this.active) return;
    // Latency counts from the actual send: in closed loop nothing is scheduled ahead.
    if (!this.loop.context.trySend(nowMs, nowMs, this.onDone)) this.retire();
  }

  private afterResponse(status: number): void {
    if (!this.active) return;
    // A refused connection fails within the same turn of the loop: yield before retrying so that
    // a dead target cannot starve the event loop (timers, stats frames, the controller's messages).
    if (status === STATUS_CONNECTION_FAILED) setImmediate(this.nextSoon);
    else this.next();
  }
}

/** `concurrency` workers, each sending its next request when the previous one ends; `maxQps` caps the total. */
export class ClosedLoop implements LoadDriver<HttpLoad> {
  pacer: Pacer | null = null;
  private workers: Worker[] = [];
  private load: ClosedLoad;
  private running = false;

  constructor(readonly context: LoadContext, load: ClosedLoad) {
    this.load = load;
  }

  start(): void {
    this.running = true;
    this.applyPacing(this.load.maxQps);
    this.resize(this.load.concurrency);
  }

  update(load: HttpLoad): boolean {
    if (load.kind !== 'closed') return false;
    const pacingChanged = load.maxQps !== this.load.maxQps;
    this.load = load;
    if (!this.running) return true;
    if (pacingChanged) {
      this.applyPacing(load.maxQps);
      for (const worker of this.workers) worker.repace();
    }
    this.resize(load.concurrency);
    return true;
  }

  stop(): void {
    this.running = false;
    for (const worker of this.workers) worker.retire();
    this.workers = [];
  }

  private applyPacing(maxQps: number | null): void {
    if (maxQps === null || maxQps <= 0) this.pacer = null;
    else if (this.pacer) this.pacer.setRate(maxQps);
    else this.pacer = new Pacer(maxQps);
  }

  /** Retired workers finish the request they have in flight and send no more. */
  private resize(concurrency: number): void {
    const target = Math.max(0, Math.floor(concurrency));
    while (this.workers.length > target) this.workers.pop()?.retire();
    while (this.workers.length < target) {
      const worker = new Worker(this);
      this.workers.push(worker);
      worker.next();
    }
  }
}
