/** A probe timer is due this often; each firing records how late it came. */
export const LOOP_DELAY_RESOLUTION_MS = 10;
/** Samples kept per period for the p99 (a second holds about 100); past this only the max is kept. */
const MAX_SAMPLES = 1024;

export interface LoopDelayFigures {
  p99Ms: number;
  maxMs: number;
}

/**
 * Event-loop delay of this process, per period: a timer due every
 * LOOP_DELAY_RESOLUTION_MS records how late it fired. Not perf_hooks'
 * monitorEventLoopDelay, whose reset() also forgets when it last sampled:
 * a stall that ends just before the period is closed in the same pass of
 * timers (a block across a second boundary) was never recorded (a 50 ms
 * block, then reset: the next period's max read 10 ms). Here a stall is
 * never lost: a period closed while the probe is overdue counts what it has
 * waited so far, and the probe's late firing counts in the next period too,
 * as the stall held up both.
 */
export class LoopDelayProbe {
  private readonly samples = new Float64Array(MAX_SAMPLES);
  private count = 0;
  private maxMs = 0;
  private dueMs = 0;
  private timer: NodeJS.Timeout | null = null;

  private readonly onTimer = (): void => {
    const nowMs = performance.now();
    this.record(nowMs - this.dueMs);
    this.dueMs = nowMs + LOOP_DELAY_RESOLUTION_MS;
    this.timer?.refresh();
  };

  start(): void {
    if (this.timer) return;
    this.reset();
    this.dueMs = performance.now() + LOOP_DELAY_RESOLUTION_MS;
    this.timer = setTimeout(this.onTimer, LOOP_DELAY_RESOLUTION_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.reset();
  }

  /** The period's p99 and max delay, ms, and starts a new period. */
  take(nowMs = performance.now()): LoopDelayFigures {
    if (this.timer) this.record(nowMs - this.dueMs, false);
    const figures = { p99Ms: this.p99(), maxMs: this.maxMs };
    this.reset();
    return figures;
  }

  private record(lateMs: number, sample = true): void {
    const delayMs = Math.max(0, lateMs);
    if (delayMs > this.maxMs) this.maxMs = delayMs;
    if (sample && this.count < MAX_SAMPLES) this.samples[this.count++] = delayMs;
  }

  private p99(): number {
    if (this.count === 0) return this.maxMs;
    const sorted = this.samples.subarray(0, this.count).sort();
    return sorted[Math.ceil(this.count * 0.99) - 1];
  }

  private reset(): void {
    this.count = 0;
    this.maxMs = 0;
  }
}
