import { CapacityReason, ResolvedOptional, roundTo } from '../../src/contract';
import { FinalizedSecond } from '../metrics/aggregate';
import { firstWholeSecond, ModeContext } from './base';
import { describeGeneratorLimited, GENERATOR_ADVICE, serviceTp99Ms } from './generator-gate';
import { agentsForRate } from './shares';
import { SETTLE_SECONDS, SteppedMode } from './stepped';
import { fmtMs, fmtPercent, fmtQps, limitsMet, StepWindow } from './window';

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
   * Completed below this share of what was sent: the service does not keep up.
   * In a steady state completions equal sends (the in-flight count is flat), so
   * even a few percent missing means a queue is growing. A few requests of
   * slack keep the noise of low rates (requests in flight at the edges) out.
   */
  minCompletedShare: 0.98,
  completedSlack: 5,
  /**
   * A queue is building inside the step when the last second's median RT is
   * over this factor of the first second's, plus some ms so that sub-ms jitter
   * of a fast service is not a queue.
   */
  medianClimbFactor: 2,
  medianClimbSlackMs: 5,
  /**
   * TP99 has exploded when it is over this factor of the first good step's
   * TP99 and over it by some ms, so a 1 ms service going to 11 ms is not yet
   * saturation.
   */
  tp99ExplosionFactor: 10,
  tp99ExplosionSlackMs: 50,
  /** Agent-side signs of a bottleneck: send lag p99 and event-loop delay p99, ms. */
  agentSendLagMs: 25,
  /**
   * Seconds of a held rate judged at a time. A step's few seconds cannot
   * see a queue that grows by a few requests a second (a rate 1-3% over
   * the capacity); a held rate is judged again on every such window, and
   * stepped down by `precision` while it fails.
   */
  holdJudgedS: 6,
  agentLoopLagMs: 40,
  /** A backlog is drained when no more than this share of a second's requests is in flight, or a couple of requests at low rates. */
  drainedInFlightShare: 0.05,
  drainedInFlightMin: 2,
  /** A service that never drains (stuck requests wait for the timeout) is probed again after this many seconds. */
  maxRecoverS: 15,
};

interface Verdict {
  bad: boolean;
  reason?: CapacityReason;
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
  /** Set when a held rate failed and was stepped down: the lower rate's own figures become the capacity once a window of it is good. */
  private confirming = false;
  private nextTarget = 0;
  private recoverStartS = 0;

  constructor(optional: ResolvedOptional, ctx: ModeContext) {
    super(optional, ctx);
    this.target = Math.min(AUTO.startQps, this.maxQps());
    ctx.event('step', `auto: ramp from ${fmtQps(this.target)} QPS (x${AUTO.rampFactor} per ${SETTLE_SECONDS + AUTO.judgedS} s step) up to maxQPS ${fmtQps(this.maxQps())}${optional.maxRtMs !== null ? `, maxRT ${optional.maxRtMs} ms` : ''}`);
  }

  desiredAgents(): number {
    return Math.max(this.agents, agentsForRate(this.target, this.ctx.maxAgentQps));
  }

  /** Nothing is sent while a bad step's backlog drains. */
  override targetQps(): number {
    return this.phase === 'recover' ? 0 : this.target;
  }

  /** Sized for the rate after the drain too, so the cap does not change when it starts. */
  protected override inFlightCapQps(): number {
    return Math.max(this.target, this.nextTarget);
  }

  protected advance(second: FinalizedSecond): boolean {
    if (this.phase === 'recover') return this.recover(second);
    if (this.window.seconds < AUTO.judgedS) return false;
    return this.judge();
  }

  private recover(second: FinalizedSecond): boolean {
    const t = second.point.Time;
    if (t < this.recoverStartS) return false;
    const drained = second.agentLoad.inFlight <= Math.max(AUTO.drainedInFlightMin, this.nextTarget * AUTO.drainedInFlightShare);
    if (!drained && t - this.recoverStartS < AUTO.maxRecoverS) return false;
    this.phase = 'search';
    return this.setTarget(this.nextTarget);
  }

  private verdict(w: StepWindow): Verdict {
    const failed = this.limitsVerdict(w);
    if (failed) return failed;
    const tp99 = w.tp99Ms();
    const first = w.medians[0];
    const last = w.medians[w.medians.length - 1];
    if (last > AUTO.medianClimbFactor * first + AUTO.medianClimbSlackMs) {
      return { bad: true, reason: 'saturation', why: `latency climbing inside the step (median ${fmtMs(first)} -> ${fmtMs(last)} ms): a queue is building` };
    }
    const baseline = this.baselineTp99Ms;
    if (baseline !== undefined && tp99 > AUTO.tp99ExplosionFactor * baseline && tp99 > baseline + AUTO.tp99ExplosionSlackMs) {
      return { bad: true, reason: 'saturation', why: `TP99 ${fmtMs(tp99)} ms exploded from ${fmtMs(baseline)} ms at low load` };
    }
    return { bad: false, why: `TP99 ${fmtMs(tp99)} ms, error rate ${fmtPercent(w.errorRate())}` };
  }

  /**
   * The limits a rate must meet, step or hold: maxRT (on the seconds the
   * validity gate passed), faultTolerate, and the service completing what
   * is sent. The latency-shape signs of saturation are the search's alone:
   * on a long hold they would step a good rate down on one noisy second.
   */
  private limitsVerdict(w: StepWindow): Verdict | undefined {
    const o = this.optional;
    const errorRate = w.errorRate();
    const serviceTp99 = serviceTp99Ms(w);
    if (o.maxRtMs !== null && serviceTp99 !== undefined && serviceTp99 > o.maxRtMs) return { bad: true, reason: 'maxRT', why: `TP99 ${fmtMs(serviceTp99)} ms > maxRT ${fmtMs(o.maxRtMs)} ms` };
    if (errorRate > o.faultTolerate) return { bad: true, reason: 'faultTolerate', why: `error rate ${fmtPercent(errorRate)} > faultTolerate ${fmtPercent(o.faultTolerate)}` };
    if (w.requests < w.sent * AUTO.minCompletedShare - AUTO.completedSlack) {
      return { bad: true, reason: 'saturation', why: `completed ${fmtQps(w.achievedQps())}/s of ${fmtQps(w.sentQps())}/s sent` };
    }
    if (w.dropped > 0) return { bad: true, reason: 'saturation', why: `${w.dropped} requests dropped at the in-flight cap` };
    return undefined;
  }

  /**
   * The agents, not the service, fall behind: they send less than scheduled, or late in most
   * seconds of the step (one late second is a hiccup, such as a collection or a new
   * connection), while the service is not holding requests back.
   */
  private agentsBehind(w: StepWindow): boolean {
    const late = w.lateSeconds * 2 > w.seconds || w.sentQps() < this.target * AUTO.minAchievedShare;
    return late && w.dropped === 0;
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
    const step = verdict.bad ? w.step(this.target, 'bad', verdict.why) : w.step(this.target, 'good', `${limitsMet(this.optional)}, not saturated`);
    this.ctx.event('verdict', `auto: ${summary}, ${verdict.why}: ${verdict.bad ? 'bad' : 'good'}`, step);
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
      const at = `${why} at ${fmtQps(this.target)}`;
      this.hold(
        { qps: this.target, tp99Ms: w.tp99Ms(), errorRate: w.errorRate(), reason: 'faultTolerate' },
        `auto: ${at} QPS; holding ${fmtQps(this.target)} QPS (faultAction stop)`,
        `${at} (faultAction stop)`,
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
      this.holdBest(this.bad?.reason ?? 'saturation', `auto: last good ${fmtQps(goodQps)} QPS and first bad ${fmtQps(badQps)} QPS are within ${AUTO.precision * 100}%`);
      return true;
    }
    const next = roundTo((goodQps + badQps) / 2, AUTO.searchDecimals);
    this.ctx.event('step', `auto: search between ${fmtQps(goodQps)} (good) and ${fmtQps(badQps)} (bad): try ${fmtQps(next)} QPS`);
    if (afterBad) {
      // let the backlog of the bad step drain, so the next step is judged on its own
      this.phase = 'recover';
      this.nextTarget = next;
      this.recoverStartS = firstWholeSecond(this.ctx);
      this.window = new StepWindow();
      return true;
    }
    this.phase = 'search';
    return this.setTarget(next);
  }

  /** Holds the best good rate; with none, half the first bad one, which at least is not known to be bad. */
  private holdBest(reason: CapacityReason, why: string): void {
    const good = this.good;
    // a fresh window from the held rate's first whole second: the hold is judged on its own seconds
    this.setTarget(good?.qps ?? Math.max(1, (this.bad?.qps ?? AUTO.startQps) / 2));
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

  /**
   * The held rate is judged again, a window at a time: a rate the search
   * found good over a few seconds but that the service cannot sustain
   * (latency climbing over maxRT, completions falling behind) is stepped
   * down by the search's precision, and the capacity follows. A held rate
   * over faultTolerate with faultAction stop stays, as the reference says.
   */
  protected override watchHold(): boolean {
    const held = this.capacity();
    if (!held || held.Reason === 'generator') return false;
    const w = this.window;
    if (w.seconds < AUTO.holdJudgedS) return false;
    this.window = new StepWindow();
    const verdict = this.limitsVerdict(w) ?? { bad: false, why: `TP99 ${fmtMs(w.tp99Ms())} ms, error rate ${fmtPercent(w.errorRate())}` };
    if (!verdict.bad || (verdict.reason === 'faultTolerate' && this.optional.faultAction === 'stop')) {
      if (this.confirming && !verdict.bad) {
        this.confirming = false;
        this.good = { qps: this.target, tp99: w.tp99Ms(), errorRate: w.errorRate() };
        this.holdBest(held.Reason, `auto: ${fmtQps(this.target)} QPS held for ${w.seconds} s: ${verdict.why}`);
      }
      return false;
    }
    const lower = roundTo(this.target * (1 - AUTO.precision), AUTO.searchDecimals);
    if (lower < 1) return false;
    const reason = verdict.reason ?? 'saturation';
    this.bad = { qps: this.target, reason, why: verdict.why };
    this.ctx.event('revise', `auto: the held ${fmtQps(this.target)} QPS failed over ${w.seconds} s (${verdict.why}): holding ${fmtQps(lower)} QPS`, w.step(this.target, 'bad', verdict.why));
    this.confirming = true;
    // until a window of the lower rate is judged, the capacity carries the figures the search measured above it
    this.good = { qps: lower, tp99: held.TP99, errorRate: held.ErrorRate };
    this.hold({ qps: lower, tp99Ms: held.TP99, errorRate: held.ErrorRate, reason }, `auto: holding ${fmtQps(lower)} QPS until a window of it is judged`, `${verdict.why} at ${fmtQps(this.bad.qps)}`);
    return this.setTarget(lower);
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
    return `${fmtQps(this.targetQps())} QPS (${this.holding() ? 'hold' : this.phase}, ${agents} agent${agents === 1 ? '' : 's'})`;
  }
}
