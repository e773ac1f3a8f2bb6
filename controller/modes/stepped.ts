import { Capacity, CapacityReason, DEFAULTS, LoadShape, Mode, ResolvedOptional, roundTo } from '../../src/contract';
import { FinalizedSecond } from '../metrics/aggregate';
import { firstWholeSecond, ModeContext, ModeDriver, splitRate, TaskMode } from './base';
import { judgeLimits } from './saturation';
import { fmtCapacity, fmtPercent, fmtQps, fmtStatusCodes, SETTLE_SECONDS, StepWindow } from './window';

/**
 * Seconds of a held rate judged at a time. A step's few seconds cannot see
 * a queue that grows by a few requests a second (a rate 1-3% over the
 * capacity); a held rate is judged again on every such window, and stepped
 * down while it fails.
 */
export const HOLD_JUDGED_S = 6;

/**
 * The pause after a rate that left a backlog (a bad step, a held rate that
 * failed): nothing is sent until the requests in flight are down to this
 * share of a second of the next rate, or a couple at low rates, so the next
 * window is judged on its own and not on the previous rate's queue. A
 * service that never drains (stuck requests wait for the timeout) gets the
 * next rate after `maxS`.
 */
export const DRAIN = { inFlightShare: 0.05, inFlightMin: 2, maxS: 15 };

/**
 * In-flight cap per agent for open-loop sending: the rate x the timeout is what
 * a service that answers only at the timeout holds, +20% for the jitter of the
 * schedule; at least 64 so low rates can absorb a stall, at most 50 000 so a
 * slow service cannot exhaust the agent's sockets and memory.
 */
export function openLoopInFlightCap(agentQps: number, timeoutMs: number): number {
  return Math.max(64, Math.min(50_000, Math.ceil(agentQps * (timeoutMs / 1000) * 1.2)));
}

/** A change of one of these re-opens a search that had ended: the held rate was judged against the old limits. */
function limitsChanged(before: ResolvedOptional, after: ResolvedOptional): boolean {
  return before.maxQPS !== after.maxQPS || before.maxRtMs !== after.maxRtMs || before.faultTolerate !== after.faultTolerate || before.faultAction !== after.faultAction;
}

/** What a search found, before it is rounded into the `Capacity` the API shows. */
export interface HeldRate {
  qps: number;
  tp99Ms: number;
  errorRate: number;
  reason: CapacityReason;
}

/** scan and auto as the task manager sees them: they choose their agents, starting with one. */
export function steppedTaskMode(mode: Mode, create: (ctx: ModeContext) => ModeDriver, durationWarning: () => string | undefined): TaskMode {
  return { displayName: mode, agentsFromTask: false, startingAgents: () => 1, create, durationWarning };
}

/**
 * The warning for a duration shorter than the search may need (`needS`,
 * estimated from the mode's parameters for a search that goes all the way,
 * since the service's capacity is not known before the run): said at
 * create and as the round's first event.
 */
export function shortDurationWarning(mode: Mode, o: ResolvedOptional, needS: number, search: string): string | undefined {
  if (o.durationS >= needS) return undefined;
  return `duration ${o.durationS} s may be too short for ${mode} to reach a verdict: ${search} takes about ${Math.ceil(needS)} s; a longer duration (or a narrower search) lets it end with a capacity`;
}

/**
 * The open-loop modes that look for a capacity step by step (scan, auto).
 * This base runs the steps: it collects each step's window from the first
 * whole second at the new rate (less the settle second), re-sends the loads
 * when the target changes, holds the rate found and re-opens the search when
 * `bench update` changes the limits. A subclass only judges: when a step is
 * complete, what the next target is and why the growth ends.
 */
export abstract class SteppedMode implements ModeDriver {
  abstract readonly mode: 'scan' | 'auto';
  protected target = 0;
  protected window = new StepWindow();
  /** Passed to the window, which counts the seconds in which the agents sent later than this. */
  protected readonly lateLimits?: { sendLagMs: number; loopLagMs: number };
  /** Unix second from which the current step's load runs whole; undefined until the first data. */
  private stepStartS?: number;
  private found?: Capacity;
  /** `holding 500 QPS: <why>`: the Message while a found rate is held. */
  private holdLine?: string;
  /** Set when even the lowest rate failed: there is no capacity, and the growth is over. */
  private noCapacity?: string;
  /** While set, nothing is sent until the backlog drains; then `next` is the target. */
  private draining?: { next: number; fromS: number };
  /** A held rate that failed was stepped down: its own figures replace those carried over once a window of it passes. */
  private confirming = false;
  /** The first and the latest second seen, to say how long a search ran. */
  private firstSecondS?: number;
  private lastSecondS?: number;

  constructor(protected optional: ResolvedOptional, protected readonly ctx: ModeContext) {}

  /** Called with every second while the search runs (not while holding), `stepSecond` counted from the step's first whole second; true when the loads must be re-sent. */
  protected abstract advance(second: FinalizedSecond, stepSecond: number): boolean;

  /** The rate a held rate that failed steps down to; undefined when there is no lower rate to try. */
  protected abstract lowerRate(qps: number): number | undefined;

  /** What the search knows when the round ends before it did: `between 100 (good) and 150 (bad) QPS`. */
  protected abstract searchState(): string;

  /** A held rate failed and is being stepped down: the search's own bookkeeping (auto keeps it as its first bad rate). */
  protected heldRateFailed(_failedQps: number, _reason: CapacityReason, _why: string): void {}

  /** The backlog has drained and the target is the next rate. */
  protected drained(): void {}

  /** New limits while the search runs or holds: reset what the search knew; true when the loads must be re-sent even if the target is unchanged. */
  protected abstract reopen(wasHolding: boolean): boolean;

  abstract desiredAgents(): number;
  abstract describeTarget(): string;

  protected maxQps(): number {
    return this.optional.maxQPS ?? DEFAULTS.maxQPS;
  }

  /** The rate the agents send now: nothing while a backlog drains. */
  targetQps(): number {
    return this.draining ? 0 : this.target;
  }

  protected isDraining(): boolean {
    return this.draining !== undefined;
  }

  /** The rate the in-flight cap is sized for: the rate sent now, and the one after a drain, so the cap does not change when it starts. */
  protected inFlightCapQps(): number {
    return Math.max(this.target, this.draining?.next ?? 0);
  }

  loadFor(_index: number, count: number): LoadShape {
    return { kind: 'open', qps: splitRate(this.targetQps(), count), maxInFlight: openLoopInFlightCap(splitRate(this.inFlightCapQps(), count), this.ctx.timeoutMs) };
  }

  onSecond(second: FinalizedSecond): boolean {
    const t = second.point.Time;
    this.firstSecondS ??= t;
    this.lastSecondS = t;
    if (this.draining) return this.drain(second);
    // the first second carries the agents' start; the step counts from the next one
    this.stepStartS ??= t + 1;
    // kept while holding too: when new limits re-open the search, scan judges the held rate on it at once
    if (t >= this.stepStartS + SETTLE_SECONDS) this.window.add(second, this.lateLimits);
    if (this.holding()) return this.watchHold();
    return this.advance(second, t - this.stepStartS);
  }

  /** Nothing is sent from now until the requests still in flight have drained; then `next` is the target. */
  protected drainThen(next: number): boolean {
    this.draining = { next, fromS: firstWholeSecond(this.ctx) };
    this.window = new StepWindow();
    return true;
  }

  private drain(second: FinalizedSecond): boolean {
    const d = this.draining!;
    const t = second.point.Time;
    if (t < d.fromS) return false;
    const drained = second.agentLoad.inFlight <= Math.max(DRAIN.inFlightMin, d.next * DRAIN.inFlightShare);
    if (!drained && t - d.fromS < DRAIN.maxS) return false;
    this.draining = undefined;
    this.drained();
    return this.setTarget(d.next);
  }

  /** A new step at `qps`, judged on a new window from the first whole second the agents send it. */
  protected setTarget(qps: number): boolean {
    this.target = qps;
    this.window = new StepWindow();
    this.stepStartS = firstWholeSecond(this.ctx);
    return true;
  }

  /**
   * Ends the growth; the target is the caller's to set. `why` is what the
   * task's Message says of it while held: `error rate 1.40% > faultTolerate
   * 1.00% at 550`.
   */
  protected hold(held: HeldRate, message: string, why: string, sentQps = held.qps): void {
    this.found = { QPS: held.qps, TP99: roundTo(held.tp99Ms, 3), ErrorRate: held.errorRate, Reason: held.reason };
    this.confirming = false;
    this.holdLine = `holding ${fmtQps(sentQps)} QPS: ${why}`;
    this.ctx.event('hold', message);
  }

  /**
   * Even the lowest rate this mode would try failed on faultTolerate: said
   * at once, and once (no capacity, the error rate and the status codes of
   * that step). faultAction stop ends the round; revise holds the floor.
   * The target is left where it is, the floor.
   */
  protected failAtFloor(w: StepWindow): void {
    const o = this.optional;
    const line = `no capacity: error rate ${fmtPercent(w.errorRate())} > faultTolerate ${fmtPercent(o.faultTolerate)} even at the lowest rate, ${fmtQps(this.target)} QPS (status codes ${fmtStatusCodes(w.statusCodes)})`;
    const stop = o.faultAction === 'stop';
    this.noCapacityAt(line, stop ? undefined : `${line}; holding ${fmtQps(this.target)} QPS (faultAction revise)`);
    this.ctx.event('hold', `${this.mode}: ${line}; ${stop ? 'ending the round (faultAction stop)' : `holding the floor, ${fmtQps(this.target)} QPS (faultAction revise)`}`);
    if (stop) this.ctx.end(`faultAction stop: the error rate is over faultTolerate at the lowest rate, ${fmtQps(this.target)} QPS`);
  }

  /**
   * Even the lowest rate broke maxRT or saturated the service: no rate met
   * every limit, so there is no capacity (a failing rate is never one). The
   * floor is held, the round goes on (faultAction is about errors).
   */
  protected overLimitsAtFloor(why: string): void {
    const line = `no capacity: ${why} even at the lowest rate, ${fmtQps(this.target)} QPS`;
    this.noCapacityAt(line, `${line}; holding ${fmtQps(this.target)} QPS`);
    this.ctx.event('hold', `${this.mode}: ${line}; holding the floor, ${fmtQps(this.target)} QPS`);
  }

  private noCapacityAt(line: string, holdLine: string | undefined): void {
    this.found = undefined;
    this.noCapacity = line;
    this.holdLine = holdLine;
  }

  /**
   * The held rate is judged again, a window at a time, on every limit
   * (maxRT, faultTolerate, saturation): a rate a step found good over a few
   * seconds but that the service cannot sustain is stepped down (after its
   * backlog drains), and the capacity follows. A rate held over faultTolerate
   * with faultAction stop is not the capacity and is not judged.
   */
  protected watchHold(): boolean {
    const held = this.found;
    if (!held || held.Reason === 'generator' || held.QPS !== this.target) return false;
    const w = this.window;
    if (w.seconds < HOLD_JUDGED_S) return false;
    this.window = new StepWindow();
    const failed = judgeLimits(w, this.optional);
    if (!failed) {
      if (this.confirming) {
        this.confirming = false;
        this.found = { ...held, TP99: roundTo(w.tp99Ms(), 3), ErrorRate: w.errorRate() };
        this.ctx.event('hold', `${this.mode}: ${fmtQps(this.target)} QPS held for ${w.seconds} s within every limit: capacity ${fmtQps(this.target)} QPS`);
      }
      return false;
    }
    const failedQps = this.target;
    const step = w.step(failedQps, failed.verdict, failed.why);
    const lower = this.lowerRate(failedQps);
    if (lower === undefined) {
      const line = `no capacity: the held ${fmtQps(failedQps)} QPS failed (${failed.why}) and no lower rate is tried`;
      this.ctx.event('revise', `${this.mode}: ${line}`, step);
      this.noCapacityAt(line, `${line}; holding ${fmtQps(failedQps)} QPS`);
      return false;
    }
    this.ctx.event('revise', `${this.mode}: the held ${fmtQps(failedQps)} QPS failed over ${w.seconds} s (${failed.why}): holding ${fmtQps(lower)} QPS`, step);
    this.heldRateFailed(failedQps, failed.reason, failed.why);
    // until a window of the lower rate is judged, the capacity carries the figures measured above it
    this.hold({ qps: lower, tp99Ms: held.TP99, errorRate: held.ErrorRate, reason: failed.reason }, `${this.mode}: holding ${fmtQps(lower)} QPS until a window of it is judged`, `${failed.why} at ${fmtQps(failedQps)}`);
    this.confirming = true;
    this.target = lower;
    return this.drainThen(lower);
  }

  /** No more steps: a rate is held, or even the lowest one failed. */
  protected holding(): boolean {
    return this.found !== undefined || this.noCapacity !== undefined;
  }

  outcome(): string | undefined {
    return this.holdLine;
  }

  finalOutcome(): string | undefined {
    if (this.found) return fmtCapacity(this.found);
    if (this.noCapacity) return this.noCapacity;
    return `search not finished: ${this.searchState()} when ${this.ranOut()}`;
  }

  /** `30 s ran out` when the round ran its duration, else how long it ran. */
  private ranOut(): string {
    const ran = this.firstSecondS !== undefined && this.lastSecondS !== undefined ? this.lastSecondS - this.firstSecondS + 1 : 0;
    // the first and last seconds may be partial or unreported: within 2 s of the duration is the duration
    return ran >= this.optional.durationS - 2 ? `${this.optional.durationS} s ran out` : `the round ended after ${ran} s`;
  }

  /** The settings a `bench update` event repeats. */
  protected describeSettings(): string {
    const o = this.optional;
    return `maxQPS ${fmtQps(this.maxQps())}, maxRT ${o.maxRtMs ?? 'none'}, faultTolerate ${o.faultTolerate}`;
  }

  update(optional: ResolvedOptional): boolean {
    const before = this.optional;
    this.optional = optional;
    // growth delta, interval and duration are read where they are used: only the limits need more
    this.ctx.event('update', `${this.mode}: settings updated (${this.describeSettings()}); applied at the next window`);
    if (!limitsChanged(before, optional)) return false;
    const wasHolding = this.holding();
    this.found = undefined;
    this.holdLine = undefined;
    this.noCapacity = undefined;
    this.confirming = false;
    const reload = this.reopen(wasHolding);
    if (this.draining && this.draining.next > this.maxQps()) this.draining.next = this.maxQps();
    if (this.target <= this.maxQps()) return reload;
    this.target = this.maxQps();
    return true;
  }

  concurrency(): undefined {
    return undefined;
  }

  capacity(): Capacity | undefined {
    return this.found;
  }
}
