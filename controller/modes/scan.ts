import { DEFAULTS, ResolvedOptional, StepVerdict } from '../../src/contract';
import { FinalizedSecond } from '../metrics/aggregate';
import { ModeContext } from './base';
import { describeGeneratorLimited, GENERATOR_ADVICE, serviceTp99Ms } from './generator-gate';
import { agentsForRate } from './shares';
import { judgeLimits } from './saturation';
import { HeldRate, shortDurationWarning, SteppedMode } from './stepped';
import { faultTolerateMet, fmtMs, fmtPercent, fmtQps, limitsMet } from './window';

type Phase = 'growing' | 'revising';

/** A scan that is never stopped by a limit runs one adjustInterval per step from minQPS to maxQPS. */
export function scanDurationWarning(o: ResolvedOptional): string | undefined {
  const max = o.maxQPS ?? DEFAULTS.maxQPS;
  const start = Math.min(o.minQPS, max);
  // the tiny epsilon: (max - start) / delta of decimal rates such as 0.3 / 0.1 is 2.9999...
  const steps = Math.floor((max - start) / o.qpsGrowthDelta + 1e-9) + 1;
  return shortDurationWarning('scan', o, steps * o.adjustIntervalS, `stepping from ${fmtQps(start)} to maxQPS ${fmtQps(max)} QPS by ${fmtQps(o.qpsGrowthDelta)} every ${o.adjustIntervalS} s, unless a limit ends the growth sooner,`);
}


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
    this.target = Math.min(optional.minQPS, this.maxQps());
    const warning = scanDurationWarning(optional);
    if (warning) ctx.event('info', `scan: ${warning}`);
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
    // the verdict line shows what the service completed beside the target: a saturated step reads `150 QPS: achieved 117.3`
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
    // every limit is judged here, maxRT on the seconds the validity gate passed: with none of them, maxRT cannot be judged
    if (o.maxRtMs !== null && serviceTp99Ms(w) === undefined) return this.generatorLimited();
    const failed = judgeLimits(w, o);
    if (failed?.reason === 'faultTolerate') {
      verdict(overFaultTolerateMessage, 'bad', overFaultTolerate);
      // the first step already failing is the lowest rate: stop goes no lower, revise no lower than the floor
      if (!this.lastGood && (o.faultAction === 'stop' || atFloor)) {
        this.failAtFloor(w);
        return false;
      }
      const good = this.lastGood;
      if (o.faultAction === 'stop' && good) {
        // stop keeps sending the rate that broke the budget, as the reference says; the capacity is the last step that met it
        const last = `capacity ${fmtQps(good.qps)} QPS, the last good step`;
        this.hold(
          { qps: good.qps, tp99Ms: good.tp99, errorRate: good.errorRate, reason: 'faultTolerate' },
          `scan: error rate ${fmtPercent(errorRate)} > faultTolerate, holding ${fmtQps(this.target)} QPS (faultAction stop); ${last}`,
          `${overFaultTolerate} at ${fmtQps(this.target)} (faultAction stop); ${last}`,
          this.target,
        );
        return false;
      }
      this.firstBad = { qps: this.target, errorRate };
      this.phase = 'revising';
      return this.stepTo(stepDown, 'revise', `scan: revising down from ${fmtQps(this.target)} QPS`);
    }
    if (failed) {
      // over maxRT or saturated: the capacity is the last step that met every limit, held once this step's backlog drains
      verdict(`scan: ${summary}; ${failed.why}`, failed.verdict, failed.why);
      const good = this.lastGood;
      if (!good) {
        this.overLimitsAtFloor(failed.why);
        return false;
      }
      this.hold({ qps: good.qps, tp99Ms: good.tp99, errorRate: good.errorRate, reason: failed.reason }, `scan: ${failed.why}, holding ${fmtQps(good.qps)} QPS`, `${failed.why} at ${fmtQps(this.target)}`);
      this.target = good.qps;
      return this.drainThen(good.qps);
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

  protected lowerRate(qps: number): number | undefined {
    // the grid of the growth, never below one qpsGrowthDelta: the lowest rate scan tries
    const lower = Math.max(this.optional.qpsGrowthDelta, qps - this.optional.qpsGrowthDelta);
    return lower < qps ? lower : undefined;
  }

  protected searchState(): string {
    const next = `${fmtQps(this.target)} QPS not judged yet`;
    if (this.phase === 'revising' && this.firstBad) return `revising down from ${fmtQps(this.firstBad.qps)} QPS (bad), ${next}`;
    return this.lastGood ? `last good step ${fmtQps(this.lastGood.qps)} QPS, ${next}` : `no step judged, ${next}`;
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
