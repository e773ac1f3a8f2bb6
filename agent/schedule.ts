import { firstLaneIndexAt, firstReplayIndexAt, RampClock, type RampLoad, type ReplayLoad, type ReplayRequests } from '../src/contract';

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
  /** Which of the sender's prepared requests the next one is (a replay's record); absent: the sender's own order. */
  nextPick?(): number;
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

/**
 * This agent's lane of a replayed log: records lane, lane + lanes, ... of
 * the round's schedule (over passes when it loops), record k of pass c due
 * at `originMs + c × periodMs + times[k]`, sending request `picks[k]`.
 * Agents with lanes 0..L-1 together send every record once.
 */
export class ReplaySchedule implements ScheduleSource {
  /** Global over passes: record index % n of pass floor(index / n). */
  private index: number;
  private dueMs: number;

  constructor(
    readonly replay: ReplayLoad,
    private readonly records: Pick<ReplayRequests, 'times' | 'picks'>,
    private readonly originMs: number,
  ) {
    this.index = firstReplayIndexAt(records.times, replay.periodMs, replay.loop, replay.atMs, replay.lane, replay.lanes);
    this.dueMs = this.dueOf(this.index);
  }

  /** The schedule for `replay` taking effect at `nowMs`. */
  static startingAt(replay: ReplayLoad, records: Pick<ReplayRequests, 'times' | 'picks'>, nowMs: number): ReplaySchedule {
    return new ReplaySchedule(replay, records, nowMs - replay.atMs);
  }

  nextDueMs(): number {
    return this.dueMs;
  }

  nextPick(): number {
    const n = this.records.picks.length;
    return this.records.picks[this.index % n];
  }

  advance(): void {
    this.index += this.replay.lanes;
    this.dueMs = this.dueOf(this.index);
  }

  private dueOf(index: number): number {
    const n = this.records.times.length;
    const pass = Math.floor(index / n);
    if (pass > 0 && !this.replay.loop) return Number.POSITIVE_INFINITY;
    return this.originMs + pass * this.replay.periodMs + this.records.times[index - pass * n];
  }
}

/** Whether two replay loads are one plan for one lane. */
export function sameReplayLane(a: ReplayLoad | undefined, b: ReplayLoad | undefined): boolean {
  if (!a || !b) return a === b;
  return a.lane === b.lane && a.lanes === b.lanes && a.periodMs === b.periodMs && a.loop === b.loop;
}

/**
 * The most of one lane's due times (records lane, lane + lanes, ... of
 * ascending `timesMs`) that fall within any `windowMs`: the connections that
 * lane needs open at its start so that a recorded burst leaves on time.
 */
export function mostDueWithin(timesMs: readonly number[], windowMs: number, lane: number, lanes: number): number {
  let most = 0;
  for (let first = lane, last = lane; last < timesMs.length; last += lanes) {
    while (timesMs[last] - timesMs[first] >= windowMs) first += lanes;
    most = Math.max(most, (last - first) / lanes + 1);
  }
  return most;
}
