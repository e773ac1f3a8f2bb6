import { Capacity, CapacityReason, DEFAULTS, LoadShape, Mode, ResolvedOptional, roundTo } from '../../src/contract';
import { FinalizedSecond } from '../metrics/aggregate';
import { firstWholeSecond, ModeContext, ModeDriver, splitRate, TaskMode } from './base';
import { fmtCapacity, fmtPercent, fmtQps, fmtStatusCodes, StepWindow } from './window';

/** Seconds at the start of a step that are not judged: they still carry the previous rate's tail. */
export const SETTLE_SECONDS = 1;

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
  return before.maxQps !== after.maxQps || before.maxRtMs !== after.maxRtMs || before.faultTolerate !== after.faultTolerate || before.faultAction !== after.faultAction;
}

/** What a search found, before it is rounded into the `Capacity` the API shows. */
export interface HeldRate {
  qps: number;
  tp99Ms: number;
  errorRate: number;
  reason: CapacityReason;
}

/** scan and auto as the task manager sees them: they choose their agents, starting with one. */
export function steppedTaskMode(mode: Mode, create: (ctx: ModeContext) => ModeDriver): TaskMode {
  return { displayName: mode, agentsFromTask: false, startingAgents: () => 1, create };
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

  constructor(protected optional: ResolvedOptional, protected readonly ctx: ModeContext) {}

  /** Called with every second while the search runs (not while holding), `stepSecond` counted from the step's first whole second; true when the loads must be re-sent. */
  protected abstract advance(second: FinalizedSecond, stepSecond: number): boolean;

  /** Called with every second while a rate is held; true when the loads must be re-sent. By default a held rate stays. */
  protected watchHold(): boolean {
    return false;
  }

  /** New limits while the search runs or holds: reset what the search knew; true when the loads must be re-sent even if the target is unchanged. */
  protected abstract reopen(wasHolding: boolean): boolean;

  abstract desiredAgents(): number;
  abstract describeTarget(): string;

  protected maxQps(): number {
    return this.optional.maxQps ?? DEFAULTS.maxQps;
  }

  /** The rate the agents send now. */
  targetQps(): number {
    return this.target;
  }

  /** The rate the in-flight cap is sized for: at least the rate sent now. */
  protected inFlightCapQps(): number {
    return this.target;
  }

  loadFor(_index: number, count: number): LoadShape {
    return { kind: 'open', qps: splitRate(this.targetQps(), count), maxInFlight: openLoopInFlightCap(splitRate(this.inFlightCapQps(), count), this.ctx.timeoutMs) };
  }

  onSecond(second: FinalizedSecond): boolean {
    const t = second.point.Time;
    // the first second carries the agents' start; the step counts from the next one
    this.stepStartS ??= t + 1;
    // kept while holding too: when new limits re-open the search, scan judges the held rate on it at once
    if (t >= this.stepStartS + SETTLE_SECONDS) this.window.add(second, this.lateLimits);
    if (this.holding()) return this.watchHold();
    return this.advance(second, t - this.stepStartS);
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
  protected hold(held: HeldRate, message: string, why: string): void {
    this.found = { QPS: held.qps, TP99: roundTo(held.tp99Ms, 3), ErrorRate: held.errorRate, Reason: held.reason };
    this.holdLine = `holding ${fmtQps(held.qps)} QPS: ${why}`;
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
    this.noCapacity = line;
    this.holdLine = stop ? undefined : `${line}; holding ${fmtQps(this.target)} QPS (faultAction revise)`;
    this.ctx.event('hold', `${this.mode}: ${line}; ${stop ? 'ending the round (faultAction stop)' : `holding the floor, ${fmtQps(this.target)} QPS (faultAction revise)`}`);
    if (stop) this.ctx.end(`faultAction stop: the error rate is over faultTolerate at the lowest rate, ${fmtQps(this.target)} QPS`);
  }

  /** No more steps: a rate is held, or even the lowest one failed. */
  protected holding(): boolean {
    return this.found !== undefined || this.noCapacity !== undefined;
  }

  outcome(): string | undefined {
    return this.holdLine;
  }

  finalOutcome(): string | undefined {
    return this.found ? fmtCapacity(this.found) : this.noCapacity;
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
    const reload = this.reopen(wasHolding);
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
