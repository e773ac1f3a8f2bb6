import type { Clock, ClockTimer } from '../../src/contract';

interface Pending {
  readonly seq: number;
  dueMs: number;
  readonly fn: () => void;
  /** Set for an interval: it is due again this long after it fired. */
  readonly everyMs?: number;
  cleared: boolean;
}

class FakeTimer implements ClockTimer {
  constructor(readonly pending: Pending) {}

  unref(): this {
    return this;
  }
}

/**
 * A Clock that moves only when the test moves it. `advance(ms)` fires every
 * timer due by then in order of due time (then of setting), with `nowMs()`
 * at each timer's due time while it runs; timers set by a firing timer fire
 * in the same advance when they fall due within it. Nothing runs on its own,
 * so minutes of a round take milliseconds.
 */
export class FakeClock implements Clock {
  private now: number;
  private seq = 0;
  private readonly pending: Pending[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.now = startMs;
  }

  nowMs(): number {
    return this.now;
  }

  // like Node's, a timer of less than 1 ms fires after 1 ms
  setTimeout(fn: () => void, ms: number): ClockTimer {
    return this.add(fn, ms);
  }

  setInterval(fn: () => void, ms: number): ClockTimer {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearTimeout(timer: ClockTimer | undefined): void {
    if (timer instanceof FakeTimer) timer.pending.cleared = true;
  }

  clearInterval(timer: ClockTimer | undefined): void {
    this.clearTimeout(timer);
  }

  /** Moves time forward by `ms`, firing what falls due on the way. */
  advance(ms: number): void {
    this.advanceTo(this.now + ms);
  }

  /** Moves time forward to `targetMs` (Unix ms), firing what falls due on the way. */
  advanceTo(targetMs: number): void {
    for (let next = this.nextDue(); next && next.dueMs <= targetMs; next = this.nextDue()) {
      this.now = Math.max(this.now, next.dueMs);
      if (next.everyMs !== undefined) next.dueMs += next.everyMs;
      else this.remove(next);
      next.fn();
    }
    this.now = Math.max(this.now, targetMs);
  }

  /** Timers set and not yet fired or cleared. */
  pendingTimers(): number {
    return this.pending.filter((p) => !p.cleared).length;
  }

  private add(fn: () => void, ms: number, everyMs?: number): FakeTimer {
    const pending: Pending = { seq: this.seq++, dueMs: this.now + Math.max(1, ms), fn, everyMs, cleared: false };
    this.pending.push(pending);
    return new FakeTimer(pending);
  }

  private nextDue(): Pending | undefined {
    let next: Pending | undefined;
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i];
      if (p.cleared) {
        this.pending.splice(i, 1);
        continue;
      }
      if (!next || p.dueMs < next.dueMs || (p.dueMs === next.dueMs && p.seq < next.seq)) next = p;
    }
    return next;
  }

  private remove(p: Pending): void {
    const i = this.pending.indexOf(p);
    if (i >= 0) this.pending.splice(i, 1);
  }
}
