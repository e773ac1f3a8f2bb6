/**
 * A rate that moves linearly between breakpoints (the stages of
 * `optional.mode: "stages"`, k6's ramping arrival rate), and the arithmetic
 * both sides need: the controller the rate and the count in a second, the
 * agent the time at which the n-th request of the round is due. Request j
 * (from 0) is due at the first moment the rate's integral reaches j, so a
 * round that ends at T sends the integral up to T, rounded up; agents that
 * take every L-th request from their lane together send exactly that.
 */

/** A breakpoint: the round's total rate `qps` at `atMs` from the round's start. */
export interface RampPoint {
  atMs: number;
  qps: number;
}

/** Most breakpoints a ramp may carry (the stages' cap plus the start). */
export const MAX_RAMP_POINTS = 101;

/**
 * An open load that follows a ramp: the agent takes requests `lane`,
 * `lane + lanes`, ... of the round's schedule.
 */
export interface RampLoad {
  /** Ascending in atMs, the first at 0; linear between, the last rate held after the last point. */
  points: RampPoint[];
  /** Where on the ramp this load takes effect, ms from the round's start (0 before the start). */
  atMs: number;
  lane: number;
  lanes: number;
}

/** The ramp's rate at `tMs`. */
export function rampRateAt(points: readonly RampPoint[], tMs: number): number {
  if (points.length === 0) return 0;
  if (tMs <= points[0].atMs) return points[0].qps;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    if (tMs <= b.atMs) return a.qps + ((b.qps - a.qps) * (tMs - a.atMs)) / (b.atMs - a.atMs);
  }
  return points[points.length - 1].qps;
}

/** Requests due in [0, tMs): the integral of the rate (fractional). */
export function rampCountBy(points: readonly RampPoint[], tMs: number): number {
  if (points.length === 0 || tMs <= 0) return 0;
  let total = 0;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    const end = Math.min(tMs, b.atMs);
    if (end > a.atMs) total += ((a.qps + rampRateAt(points, end)) / 2) * ((end - a.atMs) / 1000);
    if (tMs <= b.atMs) return total;
  }
  const last = points[points.length - 1];
  return total + last.qps * (Math.max(0, tMs - Math.max(0, last.atMs)) / 1000);
}

/**
 * The time at which the integral reaches `n`, walking forward from a
 * segment cursor (requests are asked for in order, so each costs O(1)):
 * Infinity when it never does (the ramp ends at 0).
 */
export class RampClock {
  private segment = 1;
  /** The integral at the start of `segment - 1`'s point. */
  private countAtSegment = 0;

  constructor(private readonly points: readonly RampPoint[]) {}

  timeOf(n: number): number {
    const points = this.points;
    if (points.length === 0) return Number.POSITIVE_INFINITY;
    if (n <= 0) return points[0].atMs;
    if (n < this.countAtSegment) this.rewind();
    while (this.segment < points.length) {
      const a = points[this.segment - 1];
      const b = points[this.segment];
      const spanMs = b.atMs - a.atMs;
      const segmentCount = ((a.qps + b.qps) / 2) * (spanMs / 1000);
      if (n <= this.countAtSegment + segmentCount && segmentCount > 0) return a.atMs + offsetFor(n - this.countAtSegment, a.qps, b.qps, spanMs);
      this.countAtSegment += segmentCount;
      this.segment++;
    }
    const last = points[points.length - 1];
    return last.qps > 0 ? last.atMs + ((n - this.countAtSegment) * 1000) / last.qps : Number.POSITIVE_INFINITY;
  }

  private rewind(): void {
    this.segment = 1;
    this.countAtSegment = 0;
  }
}

/**
 * Solves r0·u + (r1 − r0)·u²/(2L) = m·1000 for u in [0, L] ms. Written as
 * 2c / (b + √(b² + 4ac)), which neither divides by a slope near zero nor
 * loses digits when b² dwarfs 4ac.
 */
function offsetFor(m: number, r0: number, r1: number, spanMs: number): number {
  const a = (r1 - r0) / (2 * spanMs);
  const c = m * 1000;
  const root = Math.sqrt(Math.max(0, r0 * r0 + 4 * a * c));
  const denominator = r0 + root;
  const u = denominator > 0 ? (2 * c) / denominator : 0;
  return Math.min(spanMs, Math.max(0, u));
}

/** The first request of `lane` (of `lanes`) due at or after `atMs`: its index in the round's schedule. */
export function firstLaneIndexAt(points: readonly RampPoint[], atMs: number, lane: number, lanes: number): number {
  if (atMs <= 0) return lane;
  const dueBefore = Math.ceil(rampCountBy(points, atMs) - 1e-9);
  return lane + Math.max(0, Math.ceil((dueBefore - lane) / lanes)) * lanes;
}
