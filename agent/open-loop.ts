import type { LoadShape, ReplayRequests } from '../src/contract';
import type { HttpLoad, LoadContext, LoadDriver } from './load-driver';
import { RampSchedule, RateSchedule, ReplaySchedule, sameRampLane, sameReplayLane, type ScheduleSource } from './schedule';

export type OpenLoad = Extract<LoadShape, { kind: 'open' }>;

/** Sends per timer turn at most this many, then yields, so a backlog cannot freeze the agent. */
const MAX_SENDS_PER_TURN = 5000;
/**
 * The sender's timing floor. Timers have whole-ms resolution: a request
 * sent on one is up to a millisecond or two late. So, when the next request
 * is due within TURN_WITHIN_MS, the sender does not sleep on a timer:
 * - within SPIN_WITHIN_MS of the due time it keeps turning on setImmediate
 *   (I/O is still served between turns); at 20 000 QPS and above, where
 *   requests are 50 µs apart, that is all it does;
 * - before that it sleeps in slices of WAIT_SLICE_MS (Atomics.wait: a
 *   kernel sleep with sub-ms precision), turning between slices so that a
 *   response is read at most a slice late.
 * Sleeping rather than spinning matters on a busy machine: a process that
 * spins looks CPU-bound to the kernel's scheduler, which then wakes it
 * later; and the CPU it burns is the service's when both share the host.
 * Measured in docs/performance.md (bench/sendlag.ts).
 */
const TURN_WITHIN_MS = 1;
const SPIN_WITHIN_MS = 0.15;
const WAIT_SLICE_MS = 0.1;
const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4));
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Open loop: requests are due when the schedule source says (schedule.ts:
 * request k at baseMs + k/qps for a constant rate, the round's ramp for
 * stages, a log's records for a replay), whatever the service does. A timer wakes when the next request is due and
 * sends every request whose time has passed. Latency counts from the
 * scheduled time, so a slow or stalled service cannot hide its queue by
 * slowing the sender (no coordinated omission); the lag between scheduled
 * and actual send is recorded; a due request that would exceed the in-flight
 * cap is counted as dropped, never silently skipped.
 */
export class OpenLoop implements LoadDriver<HttpLoad> {
  private load: OpenLoad;
  private source: ScheduleSource | null = null;
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private readonly onTick = (): void => {
    this.timer = null;
    this.immediate = null;
    this.tick();
  };

  constructor(
    private readonly context: LoadContext,
    load: OpenLoad,
    /** A replay's records (the template's), which a load's `replay` lane takes from. */
    private readonly records?: Pick<ReplayRequests, 'times' | 'picks'>,
  ) {
    this.load = load;
  }

  start(): void {
    this.running = true;
    this.source = this.scheduleFor(this.load, performance.now(), true);
    this.tick();
  }

  /**
   * A new rate starts a new schedule at the moment of change: its first
   * request is due at the old schedule's next slot, or one new interval from
   * now if that is sooner, so a rate change neither bursts nor stalls. A
   * ramp is one plan from the round's start: the same plan sent again
   * (another agent joined, a limit changed) keeps its schedule.
   */
  update(load: HttpLoad): boolean {
    if (load.kind !== 'open') return false;
    const changed =
      load.replay || this.load.replay
        ? !sameReplayLane(load.replay, this.load.replay)
        : load.ramp || this.load.ramp
          ? !sameRampLane(load.ramp, this.load.ramp)
          : load.qps !== this.load.qps;
    this.load = load;
    if (!this.running || !changed) return true;
    this.source = this.scheduleFor(load, performance.now(), false);
    this.rearm();
    return true;
  }

  stop(): void {
    this.running = false;
    this.clearWake();
  }

  sendDue(): void {
    this.clearWake();
    this.tick();
  }

  private scheduleFor(load: OpenLoad, nowMs: number, fromNow: boolean): ScheduleSource {
    if (load.ramp) return RampSchedule.startingAt(load.ramp, nowMs);
    if (load.replay && this.records) return ReplaySchedule.startingAt(load.replay, this.records, nowMs);
    const intervalMs = load.qps > 0 ? 1000 / load.qps : 0;
    const oldNextMs = this.source ? this.source.nextDueMs() : Number.POSITIVE_INFINITY;
    return new RateSchedule(load.qps, fromNow ? nowMs : Math.max(nowMs, Math.min(oldNextMs, nowMs + intervalMs)));
  }

  private tick(): void {
    const source = this.source;
    if (!this.running || !source) return;
    const tickMs = performance.now();
    let budget = MAX_SENDS_PER_TURN;
    for (;;) {
      const scheduledMs = source.nextDueMs();
      if (scheduledMs > tickMs) break;
      if (budget-- === 0) {
        this.immediate = setImmediate(this.onTick);
        return;
      }
      const pick = source.nextPick ? source.nextPick() : -1;
      source.advance();
      const nowMs = performance.now();
      if (this.context.inFlight >= this.load.maxInFlight) {
        this.context.dropped(nowMs);
        continue;
      }
      if (!this.context.trySend(scheduledMs, nowMs, null, pick)) {
        this.stop();
        return;
      }
      this.context.sendLag(nowMs, (nowMs - scheduledMs) * 1000);
      if (!this.running) return;
    }
    this.rearm();
  }

  private rearm(): void {
    this.clearWake();
    if (!this.running || !this.source) return;
    const dueInMs = this.source.nextDueMs() - performance.now();
    // nothing more is due (a rate of 0, a ramp that ends at 0): a new load wakes the driver
    if (dueInMs === Number.POSITIVE_INFINITY) return;
    if (dueInMs > TURN_WITHIN_MS) {
      // a timer holds at most 2^31-1 ms; a later request is woken for again when this one fires
      this.timer = setTimeout(this.onTick, Math.min(MAX_TIMER_MS, Math.max(1, Math.floor(dueInMs - TURN_WITHIN_MS))));
      return;
    }
    // nothing is ever stored in the cell: the wait always runs to its timeout
    if (dueInMs > SPIN_WITHIN_MS) Atomics.wait(SLEEP_CELL, 0, 0, Math.min(WAIT_SLICE_MS, dueInMs - SPIN_WITHIN_MS));
    this.immediate = setImmediate(this.onTick);
  }

  private clearWake(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }
}
