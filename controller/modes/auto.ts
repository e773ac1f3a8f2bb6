import { CapacityReason, DEFAULTS, ResolvedOptional, roundTo } from '../../src/contract';
import { ModeContext } from './base';
import { describeGeneratorLimited, GENERATOR_ADVICE } from './generator-gate';
import { completionsShort, judgeLimits } from './saturation';
import { agentsForRate } from './shares';
import { shortDurationWarning, SteppedMode } from './stepped';
import { fmtMs, fmtPercent, fmtQps, limitsMet, SETTLE_SECONDS, StepWindow } from './window';

type Phase = 'ramp' | 'search' | 'recover';

/** Every tunable of auto's search; docs/modes.md names them. */
export const AUTO = {
  /** First rate of the ramp: low enough for any service to meet, so the first step gives the low-load TP99 baseline. */
  startQps: 50,
  /** Rate multiplier per ramp step: a capacity of N QPS is bracketed in log2(N / startQps) steps. */
  rampFactor: 2,
  /** The search ends when the last good and first bad rates are within this fraction: finer costs steps longer than the noise between runs. */
  precision: 0.05,
  /** Search rates are rounded to this many decimals, the 0.1 QPS granularity of the task schema. */
  searchDecimals: 1,
  /** Judged seconds per step after the settle second: enough for a TP99 over a few hundred samples at low rates, short enough to ramp fast. */
  judgedS: 3,
  /** Sent below this share of the target: the agents do not keep up. */
  minAchievedShare: 0.95,
  /**
   * TP99 has exploded when it is over this factor of the first good step's
   * TP99 and over it by some ms, so a 1 ms service going to 11 ms is not yet
   * saturation.
   */
  tp99ExplosionFactor: 10,
  tp99ExplosionSlackMs: 50,
  /** Agent-side signs of a bottleneck: send lag p99 and event-loop delay p99, ms. */
  agentSendLagMs: 25,
  agentLoopLagMs: 40,
};

/**
 * The longest search auto may need, the service's capacity being unknown:
 * the ramp all the way to maxQPS, a drain after its bad step, and the
 * bisection from a x2 bracket to within `precision` (4 steps at 5%), each
 * step with a drain after it, plus the agents' first second.
 */
export function autoSearchS(o: ResolvedOptional): number {
  const max = o.maxQPS ?? DEFAULTS.maxQPS;
  const start = Math.min(AUTO.startQps, max);
  const stepS = SETTLE_SECONDS + AUTO.judgedS;
  // the backlog of a step just over the capacity drains in a second or two
  const drainS = 2;
  const rampSteps = Math.ceil(Math.log2(max / start) - 1e-9) + 1;
  const searchSteps = Math.ceil(Math.log2(1 / (AUTO.rampFactor * AUTO.precision)));
  return 1 + rampSteps * stepS + drainS + searchSteps * (stepS + drainS);
}

export function autoDurationWarning(o: ResolvedOptional): string | undefined {
  return shortDurationWarning('auto', o, autoSearchS(o), `its ramp from ${fmtQps(Math.min(AUTO.startQps, o.maxQPS ?? DEFAULTS.maxQPS))} QPS to maxQPS ${fmtQps(o.maxQPS ?? DEFAULTS.maxQPS)} and its search to within ${AUTO.precision * 100}%`);
}

interface Verdict {
  bad: boolean;
  reason?: CapacityReason;
  verdict?: 'bad' | 'saturated';
  why: string;
}

/**
 * auto: finds the service's capacity by itself. A fast ramp (x2 per step)
 * until a step is bad, then a bisection between the last good and the first
 * bad rate until they are within 5%, then a hold at the best good rate. A step
 * is bad on TP99 > maxRT, error rate > faultTolerate, or saturation (the
 * service no longer completes what is sent, or its latency explodes). When
 * the agents themselves fall behind their schedule, an agent is added and the
 * step is run again, so the capacity found is the service's.
 */
export class AutoMode extends SteppedMode {
  readonly mode = 'auto' as const;
  protected override readonly lateLimits = { sendLagMs: AUTO.agentSendLagMs, loopLagMs: AUTO.agentLoopLagMs };
  private phase: Phase = 'ramp';
  private agents = 1;
  private good?: { qps: number; tp99: number; errorRate: number };
  /** The lowest bad rate so far, and why it was bad (the Message names it once a rate is held). */
  private bad?: { qps: number; reason: CapacityReason; why: string };
  private baselineTp99Ms?: number;

  constructor(optional: ResolvedOptional, ctx: ModeContext) {
    super(optional, ctx);
    this.target = Math.min(AUTO.startQps, this.maxQps());
    const warning = autoDurationWarning(optional);
    if (warning) ctx.event('info', `auto: ${warning}`);
    ctx.event('step', `auto: ramp from ${fmtQps(this.target)} QPS (x${AUTO.rampFactor} per ${SETTLE_SECONDS + AUTO.judgedS} s step) up to maxQPS ${fmtQps(this.maxQps())}${optional.maxRtMs !== null ? `, maxRT ${optional.maxRtMs} ms` : ''}`);
  }

  desiredAgents(): number {
    return Math.max(this.agents, agentsForRate(this.target, this.ctx.maxAgentQps));
  }

  protected advance(): boolean {
    if (this.window.seconds < AUTO.judgedS) return false;
    return this.judge();
  }

  protected override drained(): void {
    this.phase = 'search';
  }

  private verdict(w: StepWindow): Verdict {
    const failed = judgeLimits(w, this.optional);
    if (failed) return { bad: true, ...failed };
    const tp99 = w.tp99Ms();
    const baseline = this.baselineTp99Ms;
    if (baseline !== undefined && tp99 > AUTO.tp99ExplosionFactor * baseline && tp99 > baseline + AUTO.tp99ExplosionSlackMs) {
      return { bad: true, reason: 'saturation', verdict: 'saturated', why: `TP99 ${fmtMs(tp99)} ms exploded from ${fmtMs(baseline)} ms at low load` };
    }
    return { bad: false, why: `TP99 ${fmtMs(tp99)} ms, error rate ${fmtPercent(w.errorRate())}` };
  }

  /**
   * The agents, not the service, fall behind: they send less than scheduled, or late in most
   * seconds of the step (one late second is a hiccup, such as a collection or a new
   * connection), while the service is not holding requests back (none dropped at the
   * in-flight cap, and what was sent was completed: a service that completed 120 of
   * 200 sent a second is saturated whatever the agents' lag).
   */
  private agentsBehind(w: StepWindow): boolean {
    const late = w.lateSeconds * 2 > w.seconds || w.sentQps() < this.target * AUTO.minAchievedShare;
    return late && w.dropped === 0 && !completionsShort(w);
  }

  private judge(): boolean {
    const w = this.window;
    const tp99 = w.tp99Ms();
    const errorRate = w.errorRate();
    // every second generator-limited: nothing in the step is the service's
    const generatorOnly = w.serviceSeconds === 0;
    if ((this.agentsBehind(w) || generatorOnly) && this.desiredAgents() < this.ctx.maxAgents) {
      this.agents = this.desiredAgents() + 1;
      const behind = `sent ${fmtQps(w.sentQps())}/s, send lag p99 ${fmtMs(w.maxSendLagP99Ms)} ms, event loop ${fmtMs(w.maxEventLoopLagMs)} ms`;
      this.ctx.event('verdict', `auto: at ${fmtQps(this.target)} QPS the agents fall behind (${behind}): adding agent ${this.agents}`, w.step(this.target, 'agents-behind', `${behind}; the step runs again with agent ${this.agents}`));
      return this.setTarget(this.target);
    }
    if (generatorOnly) {
      const why = `every second at ${fmtQps(this.target)} QPS was generator-limited (${describeGeneratorLimited(w)})`;
      this.ctx.event('verdict', `auto: ${why}`, w.step(this.target, 'agents-behind', why));
      this.holdBest('generator', `auto: ${why}, with ${this.desiredAgents()} agents (the most allowed): ${GENERATOR_ADVICE}`);
      return true;
    }
    const verdict = this.verdict(w);
    const summary = `${fmtQps(this.target)} QPS: achieved ${fmtQps(w.achievedQps())}`;
    // a good step's own figures are in their columns; its Why names the limits it met
    const step = verdict.bad ? w.step(this.target, verdict.verdict ?? 'bad', verdict.why) : w.step(this.target, 'good', `${limitsMet(this.optional)}, not saturated`);
    this.ctx.event('verdict', `auto: ${summary}, ${verdict.why}: ${verdict.bad ? (verdict.verdict ?? 'bad') : 'good'}`, step);
    if (!verdict.bad) {
      this.baselineTp99Ms ??= tp99;
      if (!this.good || this.target > this.good.qps) this.good = { qps: this.target, tp99, errorRate };
      if (this.target >= this.maxQps()) {
        this.holdBest('maxQPS', `auto: maxQPS ${fmtQps(this.maxQps())} reached with TP99 ${fmtMs(tp99)} ms`);
        return false;
      }
      if (this.phase === 'ramp') {
        const next = Math.min(this.maxQps(), this.target * AUTO.rampFactor);
        this.ctx.event('step', `auto: ramp to ${fmtQps(next)} QPS`);
        return this.setTarget(next);
      }
    } else {
      if (verdict.reason === 'faultTolerate') return this.overFaultTolerate(w, verdict.why);
      this.bad = { qps: this.target, reason: verdict.reason ?? 'saturation', why: verdict.why };
    }
    return this.searchNext(verdict.bad);
  }

  /**
   * faultAction, as scan honours it: with no good rate yet, even the lowest
   * rate failed (said at once; stop ends the round, revise holds that floor).
   * Otherwise stop keeps the current rate and stops raising it (SPEC 5,
   * the reference's "maintains the current QPS"), and revise steps down: the
   * search goes on below the failing rate.
   */
  private overFaultTolerate(w: StepWindow, why: string): boolean {
    if (!this.good) {
      this.failAtFloor(w);
      return false;
    }
    if (this.optional.faultAction === 'stop') {
      // the rate that broke the budget is kept, not raised; the capacity is the best rate that met it
      const good = this.good;
      const at = `${why} at ${fmtQps(this.target)}`;
      const last = `capacity ${fmtQps(good.qps)} QPS, the best good rate`;
      this.hold(
        { qps: good.qps, tp99Ms: good.tp99, errorRate: good.errorRate, reason: 'faultTolerate' },
        `auto: ${at} QPS; holding ${fmtQps(this.target)} QPS (faultAction stop); ${last}`,
        `${at} (faultAction stop); ${last}`,
        this.target,
      );
      return false;
    }
    this.bad = { qps: this.target, reason: 'faultTolerate', why };
    return this.searchNext(true);
  }

  private searchNext(afterBad: boolean): boolean {
    const goodQps = this.good?.qps ?? 0;
    const badQps = this.bad?.qps ?? this.maxQps();
    if (badQps - goodQps <= AUTO.precision * badQps || badQps < 1) {
      this.holdBest(this.bad?.reason ?? 'saturation', `auto: last good ${fmtQps(goodQps)} QPS and first bad ${fmtQps(badQps)} QPS are within ${AUTO.precision * 100}%`, afterBad);
      return true;
    }
    const next = roundTo((goodQps + badQps) / 2, AUTO.searchDecimals);
    this.ctx.event('step', `auto: search between ${fmtQps(goodQps)} (good) and ${fmtQps(badQps)} (bad): try ${fmtQps(next)} QPS`);
    if (afterBad) {
      // let the backlog of the bad step drain, so the next step is judged on its own
      this.phase = 'recover';
      return this.drainThen(next);
    }
    this.phase = 'search';
    return this.setTarget(next);
  }

  /**
   * Holds the best good rate (after the backlog of a bad step drains). With
   * none, the search went as low as it goes and every rate failed: no
   * capacity (a rate never judged good is not one); only a search the
   * generator ended holds half the first bad rate, which at least is not
   * known to be bad, with the capacity reason `generator`.
   */
  private holdBest(reason: CapacityReason, why: string, afterBad = false): void {
    const good = this.good;
    if (!good && reason !== 'generator') {
      this.overLimitsAtFloor(this.bad?.why ?? why.replace(/^auto: /, ''));
      return;
    }
    const heldQps = good?.qps ?? Math.max(1, (this.bad?.qps ?? AUTO.startQps) / 2);
    // a fresh window from the held rate's first whole second: the hold is judged on its own seconds
    if (afterBad) {
      this.target = heldQps;
      this.drainThen(heldQps);
    } else {
      this.setTarget(heldQps);
    }
    this.hold(
      { qps: this.target, tp99Ms: good?.tp99 ?? 0, errorRate: good?.errorRate ?? 0, reason },
      `${why}; holding ${fmtQps(this.target)} QPS (capacity: ${fmtQps(this.target)} QPS, TP99 ${fmtMs(good?.tp99 ?? 0)} ms, reason ${reason})`,
      this.holdWhy(reason, why),
    );
  }

  /** What the Message says of a held rate: the bad step that bounded the search, or what else ended it. */
  private holdWhy(reason: CapacityReason, why: string): string {
    const bad = this.bad;
    if (reason === 'maxQPS') return `maxQPS ${fmtQps(this.maxQps())} reached`;
    if (bad && bad.reason === reason) return `${bad.why} at ${fmtQps(bad.qps)}`;
    return why.replace(/^auto: /, '');
  }

  protected lowerRate(qps: number): number | undefined {
    const lower = roundTo(qps * (1 - AUTO.precision), AUTO.searchDecimals);
    return lower >= 1 ? lower : undefined;
  }

  protected override heldRateFailed(failedQps: number, reason: CapacityReason, why: string): void {
    this.bad = { qps: failedQps, reason, why };
  }

  protected searchState(): string {
    const good = this.good ? `${fmtQps(this.good.qps)} (good)` : 'no rate good yet';
    if (this.bad) return `between ${good} and ${fmtQps(this.bad.qps)} (bad) QPS`;
    return `ramping, ${good}, ${fmtQps(this.target)} QPS not judged yet`;
  }

  protected reopen(wasHolding: boolean): boolean {
    // new limits: search again from the held (or current) rate, on a window measured under them
    if (wasHolding || this.phase === 'search') {
      this.phase = 'ramp';
      this.good = undefined;
      this.bad = undefined;
    }
    this.window = new StepWindow();
    return true;
  }

  describeTarget(): string {
    const agents = this.desiredAgents();
    const phase = this.isDraining() ? 'recover' : this.holding() ? 'hold' : this.phase;
    return `${fmtQps(this.targetQps())} QPS (${phase}, ${agents} agent${agents === 1 ? '' : 's'})`;
  }
}
