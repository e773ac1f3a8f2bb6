import { Capacity, CapacityReason, LoadShape, ResolvedOptional } from '../../src/contract';
import { FinalizedSecond } from '../metrics/aggregate';
import { firstWholeSecond, ModeContext, ModeDriver, splitRate } from './base';
import { openLoopInFlightCap } from './scan';
import { fmtMs, fmtPercent, fmtQps, limitsMet, roundTo, StepWindow } from './window';

type Phase = 'ramp' | 'search' | 'recover' | 'hold';

/** Tunables of the search, in one place so docs/modes.md can name them. */
export const AUTO = {
  startQps: 50,
  rampFactor: 2,
  /** The search ends when the last good and first bad rates are within this fraction. */
  precision: 0.05,
  settleS: 1,
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
  /** Agent-side signs of a bottleneck: send lag p99 and event-loop delay p99, ms. */
  agentSendLagMs: 25,
  agentLoopLagMs: 40,
  /** A backlog is drained when no more than this share of a second's requests is in flight. */
  drainedInFlightShare: 0.05,
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
export class AutoMode implements ModeDriver {
  readonly mode = 'auto' as const;
  private target: number;
  private phase: Phase = 'ramp';
  private agents = 1;
  private window = new StepWindow();
  /** Unix second from which the current step's load runs whole; undefined until the first data. */
  private stepStartS?: number;
  private good?: { qps: number; tp99: number; errorRate: number };
  private bad?: { qps: number; reason: CapacityReason };
  private baselineTp99Ms?: number;
  private nextTarget = 0;
  private recoverStartS = 0;
  private found?: Capacity;

  constructor(private optional: ResolvedOptional, private readonly ctx: ModeContext) {
    this.target = Math.min(AUTO.startQps, this.maxQps());
    ctx.event('step', `auto: ramp from ${fmtQps(this.target)} QPS (x${AUTO.rampFactor} per ${AUTO.settleS + AUTO.judgedS} s step) up to maxQPS ${fmtQps(this.maxQps())}${optional.maxRtMs !== null ? `, maxRT ${optional.maxRtMs} ms` : ''}`);
  }

  private maxQps(): number {
    return this.optional.maxQps ?? 10000;
  }

  desiredAgents(): number {
    return this.agents;
  }

  loadFor(_index: number, count: number): LoadShape {
    const qps = this.phase === 'recover' ? 0 : splitRate(this.target, count);
    return { kind: 'open', qps, maxInFlight: openLoopInFlightCap(splitRate(Math.max(this.target, this.nextTarget), count), this.ctx.timeoutMs) };
  }

  onSecond(second: FinalizedSecond): boolean {
    const t = second.point.Time;
    // the first second carries the agents' start; the step counts from the next one
    this.stepStartS ??= t + 1;
    if (this.phase === 'hold') return false;
    if (this.phase === 'recover') {
      if (t < this.recoverStartS) return false;
      const drained = second.agentLoad.inFlight <= Math.max(2, this.nextTarget * AUTO.drainedInFlightShare);
      if (drained || t - this.recoverStartS >= AUTO.maxRecoverS) {
        this.phase = 'search';
        return this.setTarget(this.nextTarget);
      }
      return false;
    }
    if (t < this.stepStartS + AUTO.settleS) return false;
    this.window.add(second, { sendLagMs: AUTO.agentSendLagMs, loopLagMs: AUTO.agentLoopLagMs });
    if (this.window.seconds < AUTO.judgedS) return false;
    return this.judge();
  }

  private verdict(w: StepWindow): Verdict {
    const o = this.optional;
    const tp99 = w.tp99Ms();
    const errorRate = w.errorRate();
    if (o.maxRtMs !== null && tp99 > o.maxRtMs) return { bad: true, reason: 'maxRT', why: `TP99 ${fmtMs(tp99)} ms > maxRT ${fmtMs(o.maxRtMs)} ms` };
    if (errorRate > o.faultTolerate) return { bad: true, reason: 'faultTolerate', why: `error rate ${fmtPercent(errorRate)} > faultTolerate ${fmtPercent(o.faultTolerate)}` };
    if (w.requests < w.sent * AUTO.minCompletedShare - AUTO.completedSlack) {
      return { bad: true, reason: 'saturation', why: `completed ${fmtQps(w.achievedQps())}/s of ${fmtQps(w.sentQps())}/s sent` };
    }
    if (w.dropped > 0) return { bad: true, reason: 'saturation', why: `${w.dropped} requests dropped at the in-flight cap` };
    const first = w.medians[0];
    const last = w.medians[w.medians.length - 1];
    if (last > 2 * first + 5) return { bad: true, reason: 'saturation', why: `latency climbing inside the step (median ${fmtMs(first)} -> ${fmtMs(last)} ms): a queue is building` };
    if (this.baselineTp99Ms !== undefined && tp99 > 10 * this.baselineTp99Ms && tp99 > this.baselineTp99Ms + 50) {
      return { bad: true, reason: 'saturation', why: `TP99 ${fmtMs(tp99)} ms exploded from ${fmtMs(this.baselineTp99Ms)} ms at low load` };
    }
    return { bad: false, why: `TP99 ${fmtMs(tp99)} ms, error rate ${fmtPercent(errorRate)}` };
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
    if (this.agentsBehind(w) && this.agents < this.ctx.maxAgents) {
      this.agents++;
      const behind = `sent ${fmtQps(w.sentQps())}/s, send lag p99 ${fmtMs(w.maxSendLagP99Ms)} ms, event loop ${fmtMs(w.maxEventLoopLagMs)} ms`;
      this.ctx.event('verdict', `auto: at ${fmtQps(this.target)} QPS the agents fall behind (${behind}): adding agent ${this.agents}`, w.step(this.target, 'agents-behind', `${behind}; the step runs again with agent ${this.agents}`));
      return this.setTarget(this.target);
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
        this.hold('maxQPS', `auto: maxQPS ${fmtQps(this.maxQps())} reached with TP99 ${fmtMs(tp99)} ms`);
        return false;
      }
      if (this.phase === 'ramp') {
        const next = Math.min(this.maxQps(), this.target * AUTO.rampFactor);
        this.ctx.event('step', `auto: ramp to ${fmtQps(next)} QPS`);
        return this.setTarget(next);
      }
    } else {
      this.bad = { qps: this.target, reason: verdict.reason ?? 'saturation' };
    }
    return this.searchNext(verdict.bad);
  }

  private searchNext(afterBad: boolean): boolean {
    const goodQps = this.good?.qps ?? 0;
    const badQps = this.bad?.qps ?? this.maxQps();
    if (badQps - goodQps <= AUTO.precision * badQps || badQps < 1) {
      this.hold(this.bad?.reason ?? 'saturation', `auto: last good ${fmtQps(goodQps)} QPS and first bad ${fmtQps(badQps)} QPS are within ${AUTO.precision * 100}%`);
      return true;
    }
    const next = Math.round(((goodQps + badQps) / 2) * 10) / 10;
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

  private setTarget(qps: number): boolean {
    this.target = qps;
    this.window = new StepWindow();
    this.stepStartS = firstWholeSecond(this.ctx);
    return true;
  }

  private hold(reason: CapacityReason, why: string): void {
    const good = this.good;
    this.phase = 'hold';
    this.target = good?.qps ?? Math.max(1, (this.bad?.qps ?? AUTO.startQps) / 2);
    this.found = { QPS: this.target, TP99: roundTo(good?.tp99 ?? 0, 3), ErrorRate: good?.errorRate ?? 0, Reason: reason };
    this.ctx.event('hold', `${why}; holding ${fmtQps(this.target)} QPS (capacity: ${fmtQps(this.target)} QPS, TP99 ${fmtMs(good?.tp99 ?? 0)} ms, reason ${reason})`);
  }

  update(optional: ResolvedOptional): boolean {
    const before = this.optional;
    this.optional = optional;
    const changed = before.maxQps !== optional.maxQps || before.maxRtMs !== optional.maxRtMs || before.faultTolerate !== optional.faultTolerate || before.faultAction !== optional.faultAction;
    this.ctx.event('update', `auto: settings updated (maxQPS ${fmtQps(this.maxQps())}, maxRT ${optional.maxRtMs ?? 'none'}, faultTolerate ${optional.faultTolerate}); applied at the next window`);
    if (!changed) return false;
    // new limits: search again from the held (or current) rate
    if (this.phase === 'hold' || this.phase === 'search') {
      this.phase = 'ramp';
      this.good = undefined;
      this.bad = undefined;
      this.found = undefined;
    }
    if (this.target > this.maxQps()) this.target = this.maxQps();
    this.window = new StepWindow();
    return true;
  }

  targetQps(): number {
    return this.phase === 'recover' ? 0 : this.target;
  }

  concurrency(): undefined {
    return undefined;
  }

  describeTarget(): string {
    return `${fmtQps(this.targetQps())} QPS (${this.phase}, ${this.agents} agent${this.agents === 1 ? '' : 's'})`;
  }

  capacity(): Capacity | undefined {
    return this.found;
  }
}
