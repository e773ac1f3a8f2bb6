import { Capacity, CapacityReason, LoadShape, ResolvedOptional, StepVerdict } from '../../src/contract';
import { FinalizedSecond } from '../metrics/aggregate';
import { firstWholeSecond, ModeContext, ModeDriver, splitRate } from './base';
import { faultTolerateMet, fmtMs, fmtPercent, fmtQps, limitsMet, roundTo, SETTLE_SECONDS, StepWindow } from './window';

type Phase = 'growing' | 'revising' | 'holding';

/** In-flight cap per agent for open-loop sending: enough for the rate x the timeout, bounded. */
export function openLoopInFlightCap(agentQps: number, timeoutMs: number): number {
  return Math.max(64, Math.min(50_000, Math.ceil(agentQps * (timeoutMs / 1000) * 1.2)));
}

/**
 * scan: open loop from minQPS, +qpsGrowthDelta every adjustInterval seconds.
 * Each step is judged on its own window; maxRT holds the last step that met
 * it, an error rate over faultTolerate holds (stop) or steps down until it is
 * met (revise), and a next step above maxQPS ends the growth.
 */
export class ScanMode implements ModeDriver {
  readonly mode = 'scan' as const;
  private target: number;
  private phase: Phase = 'growing';
  private window = new StepWindow();
  /** Unix second from which the current step's load runs whole; undefined until the first data. */
  private stepStartS?: number;
  private lastGood?: { qps: number; tp99: number; errorRate: number };
  private found?: Capacity;

  constructor(private optional: ResolvedOptional, private readonly ctx: ModeContext) {
    this.target = Math.min(optional.minQps, optional.maxQps ?? optional.minQps);
    ctx.event('step', `scan: starting at ${fmtQps(this.target)} QPS, +${fmtQps(optional.qpsGrowthDelta)} every ${optional.adjustIntervalS} s up to ${fmtQps(this.maxQps())}`);
  }

  private maxQps(): number {
    return this.optional.maxQps ?? Number.MAX_SAFE_INTEGER;
  }

  desiredAgents(): number {
    // one agent sends up to a few thousand requests per second comfortably on this kind of host
    return Math.max(1, Math.ceil(this.target / 20000));
  }

  loadFor(_index: number, count: number): LoadShape {
    const qps = splitRate(this.target, count);
    return { kind: 'open', qps, maxInFlight: openLoopInFlightCap(qps, this.ctx.timeoutMs) };
  }

  onSecond(second: FinalizedSecond): boolean {
    const t = second.point.Time;
    // the first second carries the agents' start; the step counts from the next one
    this.stepStartS ??= t + 1;
    if (t >= this.stepStartS + SETTLE_SECONDS) this.window.add(second);
    if (this.phase === 'holding') return false;
    if (t < this.stepStartS + this.optional.adjustIntervalS - 1 || this.window.seconds === 0) return false;
    return this.judge();
  }

  private judge(): boolean {
    const w = this.window;
    const tp99 = w.tp99Ms();
    const errorRate = w.errorRate();
    const o = this.optional;
    const summary = `${fmtQps(this.target)} QPS: achieved ${fmtQps(w.achievedQps())}, TP99 ${fmtMs(tp99)} ms, error rate ${fmtPercent(errorRate)}`;
    const verdict = (message: string, outcome: StepVerdict, why: string): void => this.ctx.event('verdict', message, w.step(this.target, outcome, why));
    const overFaultTolerate = `error rate ${fmtPercent(errorRate)} > faultTolerate ${fmtPercent(o.faultTolerate)}`;
    const overFaultTolerateMessage = `scan: ${summary}; error rate > faultTolerate ${fmtPercent(o.faultTolerate)}`;
    if (this.phase === 'revising') {
      // every revised window is a step too, so the Steps table shows the way down; only the error rate is judged here
      if (errorRate <= o.faultTolerate) {
        verdict(`scan: ${summary}: good`, 'good', faultTolerateMet(o));
        this.hold(this.target, tp99, errorRate, 'faultTolerate', `scan: error rate ${fmtPercent(errorRate)} <= faultTolerate ${fmtPercent(o.faultTolerate)} at ${fmtQps(this.target)} QPS, holding`);
        return false;
      }
      verdict(overFaultTolerateMessage, 'bad', overFaultTolerate);
      return this.stepTo(Math.max(o.qpsGrowthDelta, this.target - o.qpsGrowthDelta), 'revise', `scan: ${summary} > faultTolerate, revising down`);
    }
    if (o.maxRtMs !== null && tp99 > o.maxRtMs) {
      const good = this.lastGood;
      const holdQps = good ? good.qps : this.target;
      const why = `TP99 ${fmtMs(tp99)} ms > maxRT ${fmtMs(o.maxRtMs)} ms`;
      verdict(`scan: ${summary}; ${why}`, 'bad', why);
      this.hold(holdQps, good?.tp99 ?? tp99, good?.errorRate ?? errorRate, 'maxRT', `scan: ${why}, holding ${fmtQps(holdQps)} QPS`);
      return holdQps !== this.target && this.setTarget(holdQps);
    }
    if (errorRate > o.faultTolerate) {
      verdict(overFaultTolerateMessage, 'bad', overFaultTolerate);
      if (o.faultAction === 'stop') {
        this.hold(this.target, tp99, errorRate, 'faultTolerate', `scan: error rate ${fmtPercent(errorRate)} > faultTolerate, holding ${fmtQps(this.target)} QPS (faultAction stop)`);
        return false;
      }
      this.phase = 'revising';
      return this.stepTo(Math.max(o.qpsGrowthDelta, this.target - o.qpsGrowthDelta), 'revise', `scan: revising down from ${fmtQps(this.target)} QPS`);
    }
    this.lastGood = { qps: this.target, tp99, errorRate };
    verdict(`scan: ${summary}: good`, 'good', limitsMet(o));
    const next = this.target + o.qpsGrowthDelta;
    if (next > this.maxQps()) {
      this.hold(this.target, tp99, errorRate, 'maxQPS', `scan: next step ${fmtQps(next)} QPS > maxQPS ${fmtQps(this.maxQps())}, holding ${fmtQps(this.target)} QPS`);
      return false;
    }
    return this.stepTo(next, 'step', `scan: step to ${fmtQps(next)} QPS`);
  }

  private stepTo(qps: number, kind: 'step' | 'revise', message: string): boolean {
    this.ctx.event(kind, message);
    return this.setTarget(qps);
  }

  private setTarget(qps: number): boolean {
    this.target = qps;
    this.window = new StepWindow();
    this.stepStartS = firstWholeSecond(this.ctx);
    return true;
  }

  private hold(qps: number, tp99: number, errorRate: number, reason: CapacityReason, message: string): void {
    this.phase = 'holding';
    this.found = { QPS: qps, TP99: roundTo(tp99, 3), ErrorRate: errorRate, Reason: reason };
    this.ctx.event('hold', message);
  }

  update(optional: ResolvedOptional): boolean {
    const before = this.optional;
    this.optional = optional;
    const limitsChanged = before.maxQps !== optional.maxQps || before.maxRtMs !== optional.maxRtMs || before.faultTolerate !== optional.faultTolerate || before.faultAction !== optional.faultAction;
    this.ctx.event('update', `scan: settings updated (maxQPS ${fmtQps(this.maxQps())}, maxRT ${optional.maxRtMs ?? 'none'}, faultTolerate ${optional.faultTolerate}, faultAction ${optional.faultAction}, +${fmtQps(optional.qpsGrowthDelta)} every ${optional.adjustIntervalS} s); applied at the next window`);
    if (limitsChanged && this.phase === 'holding') {
      // new limits re-open the search from the held rate
      this.phase = 'growing';
      this.found = undefined;
    }
    if (this.target > this.maxQps()) {
      this.target = this.maxQps();
      return true;
    }
    return false;
  }

  targetQps(): number {
    return this.target;
  }

  concurrency(): undefined {
    return undefined;
  }

  describeTarget(): string {
    return `${fmtQps(this.target)} QPS (${this.phase})`;
  }

  capacity(): Capacity | undefined {
    return this.found;
  }
}
