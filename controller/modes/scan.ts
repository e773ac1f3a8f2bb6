import { ResolvedOptional, StepVerdict } from '../../src/contract';
import { FinalizedSecond } from '../metrics/aggregate';
import { ModeContext } from './base';
import { describeGeneratorLimited, GENERATOR_ADVICE, serviceTp99Ms } from './generator-gate';
import { agentsForRate } from './shares';
import { HeldRate, SteppedMode } from './stepped';
import { faultTolerateMet, fmtMs, fmtPercent, fmtQps, limitsMet } from './window';

type Phase = 'growing' | 'revising';


/**
 * scan: open loop from minQPS, +qpsGrowthDelta every adjustInterval seconds.
 * Each step is judged on its own window; maxRT holds the last step that met
 * it, an error rate over faultTolerate holds (stop) or steps down until it is
 * met (revise), and a next step above maxQPS ends the growth.
 */
export class ScanMode extends SteppedMode {
  readonly mode = 'scan' as const;
  private phase: Phase = 'growing';
  private lastGood?: { qps: number; tp99: number; errorRate: number };
  /** The step whose error rate started the way down (revise): the Message names it while the revised rate is held. */
  private firstBad?: { qps: number; errorRate: number };
  /** Agents added because a step was generator-limited throughout (the validity gate). */
  private extraAgents = 0;

  constructor(optional: ResolvedOptional, ctx: ModeContext) {
    super(optional, ctx);
    this.target = Math.min(optional.minQps, this.maxQps());
    ctx.event('step', `scan: starting at ${fmtQps(this.target)} QPS, +${fmtQps(optional.qpsGrowthDelta)} every ${optional.adjustIntervalS} s up to ${fmtQps(this.maxQps())}`);
  }

  desiredAgents(): number {
    // one agent per --max-agent-qps of the target (the round runner grants them within --max-agents)
    return agentsForRate(this.target, this.ctx.maxAgentQps) + this.extraAgents;
  }

  protected advance(_second: FinalizedSecond, stepSecond: number): boolean {
    // adjustInterval is read here, so a `bench update` of it applies to the step under way
    if (stepSecond < this.optional.adjustIntervalS - 1 || this.window.seconds === 0) return false;
    return this.judge();
  }

  private judge(): boolean {
    const w = this.window;
    const tp99 = w.tp99Ms();
    const errorRate = w.errorRate();
    const o = this.optional;
    const summary = `${fmtQps(this.target)} QPS: achieved ${fmtQps(w.achievedQps())}, TP99 ${fmtMs(tp99)} ms, error rate ${fmtPercent(errorRate)}`;
    const verdict = (message: string, outcome: StepVerdict, why: string): void => this.ctx.event('verdict', message, w.step(this.target, outcome, why));
    const here = (reason: HeldRate['reason']): HeldRate => ({ qps: this.target, tp99Ms: tp99, errorRate, reason });
    const overFaultTolerate = `error rate ${fmtPercent(errorRate)} > faultTolerate ${fmtPercent(o.faultTolerate)}`;
    const overFaultTolerateMessage = `scan: ${summary}; error rate > faultTolerate ${fmtPercent(o.faultTolerate)}`;
    // revise never goes below one qpsGrowthDelta: that is the lowest rate scan tries
    const stepDown = Math.max(o.qpsGrowthDelta, this.target - o.qpsGrowthDelta);
    const atFloor = stepDown >= this.target;
    if (this.phase === 'revising') {
      // every revised window is a step too, so the Steps table shows the way down; only the error rate is judged here
      if (errorRate <= o.faultTolerate) {
        verdict(`scan: ${summary}: good`, 'good', faultTolerateMet(o));
        const bad = this.firstBad ?? { qps: this.target, errorRate };
        this.hold(
          here('faultTolerate'),
          `scan: error rate ${fmtPercent(errorRate)} <= faultTolerate ${fmtPercent(o.faultTolerate)} at ${fmtQps(this.target)} QPS, holding`,
          `error rate ${fmtPercent(bad.errorRate)} > faultTolerate ${fmtPercent(o.faultTolerate)} at ${fmtQps(bad.qps)}`,
        );
        return false;
      }
      verdict(overFaultTolerateMessage, 'bad', overFaultTolerate);
      if (atFloor) {
        this.failAtFloor(w);
        return false;
      }
      return this.stepTo(stepDown, 'revise', `scan: ${summary} > faultTolerate, revising down`);
    }
    // maxRT is judged here, on the seconds the validity gate passed: the step over it holds the last step that met it
    const serviceTp99 = serviceTp99Ms(w);
    if (o.maxRtMs !== null && serviceTp99 === undefined) return this.generatorLimited();
    if (o.maxRtMs !== null && serviceTp99 !== undefined && serviceTp99 > o.maxRtMs) {
      const good = this.lastGood;
      const holdQps = good ? good.qps : this.target;
      const why = `TP99 ${fmtMs(serviceTp99)} ms > maxRT ${fmtMs(o.maxRtMs)} ms`;
      verdict(`scan: ${summary}; ${why}`, 'bad', why);
      this.hold({ qps: holdQps, tp99Ms: good?.tp99 ?? tp99, errorRate: good?.errorRate ?? errorRate, reason: 'maxRT' }, `scan: ${why}, holding ${fmtQps(holdQps)} QPS`, `${why} at ${fmtQps(this.target)}`);
      return holdQps !== this.target && this.setTarget(holdQps);
    }
    if (errorRate > o.faultTolerate) {
      verdict(overFaultTolerateMessage, 'bad', overFaultTolerate);
      // the first step already failing is the lowest rate: stop goes no lower, revise no lower than the floor
      if (!this.lastGood && (o.faultAction === 'stop' || atFloor)) {
        this.failAtFloor(w);
        return false;
      }
      if (o.faultAction === 'stop') {
        this.hold(here('faultTolerate'), `scan: error rate ${fmtPercent(errorRate)} > faultTolerate, holding ${fmtQps(this.target)} QPS (faultAction stop)`, `${overFaultTolerate} at ${fmtQps(this.target)} (faultAction stop)`);
        return false;
      }
      this.firstBad = { qps: this.target, errorRate };
      this.phase = 'revising';
      return this.stepTo(stepDown, 'revise', `scan: revising down from ${fmtQps(this.target)} QPS`);
    }
    this.lastGood = { qps: this.target, tp99, errorRate };
    verdict(`scan: ${summary}: good`, 'good', limitsMet(o));
    const next = this.target + o.qpsGrowthDelta;
    if (next > this.maxQps()) {
      this.hold(here('maxQPS'), `scan: next step ${fmtQps(next)} QPS > maxQPS ${fmtQps(this.maxQps())}, holding ${fmtQps(this.target)} QPS`, `next step ${fmtQps(next)} QPS > maxQPS ${fmtQps(this.maxQps())}`);
      return false;
    }
    return this.stepTo(next, 'step', `scan: step to ${fmtQps(next)} QPS`);
  }

  /** Every second of the step was the generator's: its latency says nothing of the service. More agents, or the end. */
  private generatorLimited(): boolean {
    const w = this.window;
    const why = `every second at ${fmtQps(this.target)} QPS was generator-limited (${describeGeneratorLimited(w)})`;
    if (this.desiredAgents() < this.ctx.maxAgents) {
      this.extraAgents++;
      this.ctx.event('verdict', `scan: ${why}; adding agent ${this.desiredAgents()}`, w.step(this.target, 'agents-behind', `${why}; the step runs again with ${this.desiredAgents()} agents`));
      return this.setTarget(this.target);
    }
    this.ctx.event('verdict', `scan: ${why}`, w.step(this.target, 'agents-behind', why));
    this.hold({ qps: this.target, tp99Ms: w.tp99Ms(), errorRate: w.errorRate(), reason: 'generator' }, `scan: ${why}, with ${this.desiredAgents()} agents (the most allowed); the search ends without a verdict on maxRT: ${GENERATOR_ADVICE}`, why);
    return false;
  }

  private stepTo(qps: number, kind: 'step' | 'revise', message: string): boolean {
    this.ctx.event(kind, message);
    return this.setTarget(qps);
  }

  protected reopen(wasHolding: boolean): boolean {
    // the held rate is judged again at once, on the window kept while holding
    if (wasHolding) {
      this.phase = 'growing';
      this.firstBad = undefined;
    }
    return false;
  }

  protected override describeSettings(): string {
    const o = this.optional;
    return `${super.describeSettings()}, faultAction ${o.faultAction}, +${fmtQps(o.qpsGrowthDelta)} every ${o.adjustIntervalS} s`;
  }

  describeTarget(): string {
    return `${fmtQps(this.target)} QPS (${this.holding() ? 'holding' : this.phase})`;
  }
}
