import { PerformanceObserver } from 'node:perf_hooks';

/**
 * Garbage-collection pauses of this process, summed per period: a pause
 * stops sending, so a second with long ones is the generator's, not the
 * service's. perf_hooks hands GC entries over after the fact, in batches;
 * a pause is counted in the period in which its entry arrives.
 */
export class GcWatch {
  private observer: PerformanceObserver | null = null;
  private totalMs = 0;
  private maxMs = 0;

  start(): void {
    if (this.observer) return;
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        this.totalMs += entry.duration;
        if (entry.duration > this.maxMs) this.maxMs = entry.duration;
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.observer?.disconnect();
    this.observer = null;
    this.take();
  }

  /** The pauses since the last call, and starts a new period. */
  take(): { totalMs: number; maxMs: number } {
    const taken = { totalMs: this.totalMs, maxMs: this.maxMs };
    this.totalMs = 0;
    this.maxMs = 0;
    return taken;
  }
}
