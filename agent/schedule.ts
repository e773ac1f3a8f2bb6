import { firstLaneIndexAt, RampClock, type RampLoad } from '../src/contract';

/**
 * Where an open-loop driver's send times come from: the driver asks when
 * the next request is due and takes it, whatever the shape (a constant
 * rate, a ramp; a recorded log or a trace plug in here too), and keeps
 * everything else (the in-flight cap, latency from the scheduled time, the
 * send lag, the end of the schedule) to itself.
 */
export interface ScheduleSource {
  /** When the next request is due, performance.now() ms; Infinity when none will be. */
  nextDueMs(): number;
  /** The next request was taken (sent or dropped). */
  advance(): void;
}

/** A constant rate: request k at baseMs + k × interval (multiplied, not summed, so no rounding drift). */
export class RateSchedule implements ScheduleSource {
  private index = 0;
  readonly intervalMs: number;

  constructor(
    qps: number,
    private readonly baseMs: number,
  ) {
    this.intervalMs = qps > 0 ? 1000 / qps : Number.POSITIVE_INFINITY;
  }

  nextDueMs(): number {
    return this.intervalMs === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : this.baseMs + this.index * this.intervalMs;
  }

  advance(): void {
    this.index++;
  }
}

/**
 * This agent's lane of the round's ramp: requests lane, lane + lanes, ...
 * of the round's schedule (ramp.ts), the ramp's time `atMs` being
 * `originMs + atMs`. Agents on the same ramp with lanes 0..L-1 together send
 * every request of it once.
 */
export class RampSchedule implements ScheduleSource {
  private readonly clock: RampClock;
  private index: number;
  private dueMs: number;

  constructor(
    readonly ramp: RampLoad,
    private readonly originMs: number,
  ) {
    this.clock = new RampClock(ramp.points);
    this.index = firstLaneIndexAt(ramp.points, ramp.atMs, ramp.lane, ramp.lanes);
    this.dueMs = this.dueOf(this.index);
  }

  /** The schedule for `ramp` taking effect at `nowMs`. */
  static startingAt(ramp: RampLoad, nowMs: number): RampSchedule {
    return new RampSchedule(ramp, nowMs - ramp.atMs);
  }

  nextDueMs(): number {
    return this.dueMs;
  }

  advance(): void {
    this.index += this.ramp.lanes;
    this.dueMs = this.dueOf(this.index);
  }

  private dueOf(index: number): number {
    return this.originMs + this.clock.timeOf(index);
  }
}

/** Whether two ramps are one plan for one lane (a re-sent load that changes nothing but where it was sent). */
export function sameRampLane(a: RampLoad | undefined, b: RampLoad | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.lane !== b.lane || a.lanes !== b.lanes || a.points.length !== b.points.length) return false;
  return a.points.every((p, i) => p.atMs === b.points[i].atMs && p.qps === b.points[i].qps);
}
