import { DEFAULTS, resolveSweep, type Capacity, type LlmLoad, type LlmModeSections, type LlmRequestRecord, type LlmSpec, type LlmSweep, type LlmSweepStep, type LoadShape, type ResolvedOptional, type ResolvedSweep } from '../../src/contract';
import { createLlmHistogram, LLM_HIGHEST, LLM_SCALE, requestValues } from '../../src/measure/llm-second';
import { percentileMs, recordUs, type LatencyHistogram } from '../../src/measure/histogram';
import { meetsSlo } from '../../src/measure/llm-request';
import type { FinalizedSecond } from '../metrics/aggregate';
import { firstWholeSecond, ModeContext, ModeDriver, splitInteger, splitRate } from './base';
import { DRAIN } from './stepped';
import { curveMetric, judgeSweepStep, SweepFigures, SweepLimits, SweepSearch, sweepKnee } from './sweep-search';
import { SETTLE_SECONDS } from './window';

/** The steady requests of one load: its seconds after the settle one, the requests sent at this load that ended in them. */
class SweepWindow {
  seconds = 0;
  generatorLimitedSeconds = 0;
  requests = 0;
  failed = 0;
  good = 0;
  outputTokens = 0;
  private readonly h: Record<'TTFT' | 'TPOT' | 'E2EL', LatencyHistogram> = { TTFT: createLlmHistogram(), TPOT: createLlmHistogram(), E2EL: createLlmHistogram() };
  private readonly n = { TTFT: 0, TPOT: 0, E2EL: 0 };

  constructor(private readonly slo: LlmSpec['slo']) {}

  add(second: FinalizedSecond, sentFromMs: number): void {
    // a generator-limited second's latency is the agents' own: none of its requests is judged
    if (second.point.Generator?.Limited) {
      this.generatorLimitedSeconds++;
      return;
    }
    this.seconds++;
    for (const r of second.llmRecords ?? []) if (r.sendMs >= sentFromMs) this.addRecord(r);
  }

  private addRecord(r: LlmRequestRecord): void {
    this.requests++;
    if (!r.success) {
      this.failed++;
      return;
    }
    if (meetsSlo(r, this.slo)) this.good++;
    this.outputTokens += r.outputTokens;
    const values = requestValues(r);
    for (const key of ['TTFT', 'TPOT', 'E2EL'] as const) {
      const v = values[key];
      if (v === null) continue;
      recordUs(this.h[key], v * LLM_SCALE[key], LLM_HIGHEST);
      this.n[key]++;
    }
  }

  figures(load: number, phase: 'step' | 'bisect', p: number): SweepFigures {
    const at = (key: 'TTFT' | 'TPOT' | 'E2EL'): number | null => (this.n[key] > 0 ? percentileMs(this.h[key], p) : null);
    return { load, phase, seconds: this.seconds, generatorLimitedSeconds: this.generatorLimitedSeconds, requests: this.requests, failed: this.failed, good: this.good, outputTokens: this.outputTokens, ttft: at('TTFT'), tpot: at('TPOT'), e2el: at('E2EL') };
  }
}

/** req/s each agent sends while a rate sweep's backlog drains. */
const DRAIN_RATE_PER_AGENT = 0.1;

const fmtLoad = (by: ResolvedSweep['by'], load: number): string => (by === 'rate' ? `${load} req/s` : `${load} stream${load === 1 ? '' : 's'}`);

/**
 * llm.testMode sweep (docs/llm.md, "Capacity under an SLO"): the load is
 * stepped, then bisected, to the highest at which every `llm.slo` bound holds
 * at the sweep percentile on the steady requests and goodput still rises.
 * Each load runs `stepS` seconds; its first whole second settles and is not
 * judged, nor is any generator-limited second. After a load that failed,
 * each agent keeps one stream (a trickle of 0.1 req/s by rate) until the
 * service's backlog drains, so the
 * next load is not judged on the queue the failed one left. The search ends
 * the round once it has a verdict; a `bench stop` or the duration before
 * then leaves it "not finished", with the best load so far.
 */
export class LlmSweepMode implements ModeDriver {
  readonly mode = 'llm' as const;
  private readonly sweep: ResolvedSweep;
  private readonly search: SweepSearch;
  private readonly limits: SweepLimits;
  private agentCount: number;
  private readonly steps: LlmSweepStep[] = [];
  private best?: LlmSweepStep;
  private status: LlmSweep['Status'] = 'running';
  private outcomeLine?: string;
  /** The first whole second at the current load (undefined until the first second), and the earliest send that belongs to it. */
  private stepStartS?: number;
  private sentFromMs = 0;
  private window: SweepWindow;
  /** A load whose seconds were mostly generator-limited runs once more before the search gives up on it. */
  private rerun = false;
  private draining?: { next: number; fromS: number };

  constructor(private readonly llm: LlmSpec, private optional: ResolvedOptional, private readonly ctx: ModeContext) {
    this.sweep = resolveSweep(llm.sweep ?? { max: 1 });
    this.search = new SweepSearch(this.sweep);
    this.limits = { slo: llm.slo ?? {}, sloPercentile: this.sweep.sloPercentile, minGoodputGain: this.sweep.minGoodputGain, faultTolerate: optional.faultTolerate };
    this.agentCount = Math.max(1, Math.min(optional.agentCount, ctx.maxAgents));
    this.window = new SweepWindow(llm.slo);
    const s = this.sweep;
    ctx.event('step', `sweep: ${fmtLoad(s.by, this.search.load)}, +${s.step} every ${s.stepS} s up to ${fmtLoad(s.by, s.max)}, then ${s.bisections} bisection(s); SLO judged at p${s.sloPercentile}`);
  }

  desiredAgents(): number {
    return this.agentCount;
  }

  loadFor(index: number, count: number): LoadShape {
    const base = { kind: 'llm' as const, burstiness: this.llm.burstiness ?? DEFAULTS.llmBurstiness, seed: ((this.llm.seed ?? DEFAULTS.llmSeed) + index) >>> 0 };
    if (this.sweep.by === 'concurrency') {
      // the agent's pool opens once, at the first load: sized for the most streams the sweep may ask
      const connections = Math.max(1, splitInteger(this.sweep.max, index, count));
      // while a failed load's backlog drains, one stream per agent: the service is left to empty its queue
      const streams = this.draining ? 1 : Math.max(1, splitInteger(this.search.load, index, count));
      return { ...base, testMode: 'concurrency', concurrency: streams, ratePerS: 0, maxInFlight: null, connections } satisfies LlmLoad;
    }
    const maxInFlight = this.llm.maxConcurrency !== undefined ? Math.max(1, splitInteger(this.llm.maxConcurrency, index, count)) : null;
    // draining: a trickle (the first request at once, then one every ten seconds or so) rather than a stop, which a rate load cannot say
    const rate = this.draining ? DRAIN_RATE_PER_AGENT : splitRate(this.search.load, count);
    return { ...base, testMode: 'rate', concurrency: 1, ratePerS: rate, maxInFlight } satisfies LlmLoad;
  }

  onSecond(second: FinalizedSecond): boolean {
    if (this.status !== 'running') return false;
    const t = second.point.Time;
    if (this.draining) return this.drain(second);
    // the first second carries the agents' start; the load counts from the next one
    this.stepStartS ??= t + 1;
    if (t < this.stepStartS + SETTLE_SECONDS) return false;
    this.window.add(second, this.sentFromMs);
    if (t < this.stepStartS + this.sweep.stepS - 1) return false;
    return this.judge();
  }

  private judge(): boolean {
    const figures = this.window.figures(this.search.load, this.search.phase, this.sweep.sloPercentile);
    // mostly the generator's seconds: the load runs once more, then the search ends on it
    if (figures.seconds < figures.generatorLimitedSeconds && !this.rerun) {
      this.rerun = true;
      this.ctx.event('verdict', `sweep: ${fmtLoad(this.sweep.by, figures.load)}: ${figures.generatorLimitedSeconds} of ${figures.seconds + figures.generatorLimitedSeconds} s generator-limited, running it again`);
      return this.startLoad();
    }
    this.rerun = false;
    const step = judgeSweepStep(figures, this.limits, this.best);
    this.steps.push(step);
    this.ctx.event('verdict', `sweep: ${fmtLoad(this.sweep.by, step.Load)}: ${step.Verdict}: ${step.Why}`);
    const good = step.Verdict === 'good';
    if (good) this.best = step;
    if (step.Verdict === 'agents-behind') return this.finish(`the agents could not send ${fmtLoad(this.sweep.by, step.Load)} cleanly (run more agents, optional.agentCount)`);
    if (step.Verdict === 'errors' && this.optional.faultAction === 'stop') {
      this.finish(`${step.Why} at ${fmtLoad(this.sweep.by, step.Load)} (faultAction stop)`, 'faultAction');
      return false;
    }
    const next = this.search.next(good);
    if (next === undefined) return this.finish();
    if (good) return this.startLoad();
    this.draining = { next, fromS: firstWholeSecond(this.ctx) };
    return true;
  }

  private drain(second: FinalizedSecond): boolean {
    const d = this.draining!;
    const t = second.point.Time;
    if (t < d.fromS) return false;
    // one stream per agent stays in flight while draining
    const drained = second.agentLoad.inFlight <= this.agentCount + DRAIN.inFlightMin;
    if (!drained && t - d.fromS < DRAIN.maxS) return false;
    this.draining = undefined;
    return this.startLoad();
  }

  /** The search's current load from the next whole second, on a new window. */
  private startLoad(): boolean {
    const first = firstWholeSecond(this.ctx);
    this.stepStartS = first;
    this.sentFromMs = (first - 1) * 1000;
    this.window = new SweepWindow(this.llm.slo);
    return true;
  }

  /** The search has its verdict: said, and the round ended (`sweep`; `faultAction` for faultAction stop). */
  private finish(why?: string, endReason: 'sweep' | 'faultAction' = 'sweep'): boolean {
    const best = this.best;
    this.status = best ? 'found' : 'no capacity';
    const by = this.sweep.by;
    const last = this.steps[this.steps.length - 1];
    // the lowest load that failed bounds the capacity; with none, the sweep reached its max
    const firstBad = this.search.firstBad;
    const reason = why ?? (firstBad !== undefined ? `${fmtLoad(by, firstBad)} failed` : `${fmtLoad(by, this.sweep.max)} is llm.sweep.max`);
    this.outcomeLine = best
      ? `sweep capacity ${fmtLoad(by, best.Load)} (goodput ${best.Goodput}/s, ${this.curveFigure(best)}; ${reason})`
      : `sweep: no capacity: even ${fmtLoad(by, this.sweep.start)} failed (${last?.Why ?? reason})`;
    this.ctx.event('hold', this.outcomeLine);
    this.ctx.end(this.outcomeLine, endReason);
    return false;
  }

  private curveFigure(step: LlmSweepStep): string {
    const metric = curveMetric(this.limits.slo);
    return `${metric} p${this.sweep.sloPercentile} ${step[metric] ?? '-'} ms`;
  }

  update(optional: ResolvedOptional): boolean {
    // the loads are the sweep's: only a new agent count changes what is sent; faultTolerate and faultAction apply from the next judged load
    this.optional = optional;
    this.limits.faultTolerate = optional.faultTolerate;
    const next = Math.max(1, Math.min(optional.agentCount, this.ctx.maxAgents));
    if (next === this.agentCount) return false;
    this.ctx.event('update', `sweep: ${this.agentCount} -> ${next} agents`);
    this.agentCount = next;
    return true;
  }

  targetQps(): number | undefined {
    return this.sweep.by === 'rate' && !this.draining ? this.search.load : undefined;
  }

  concurrency(): number | undefined {
    if (this.draining) return this.agentCount;
    return this.sweep.by === 'concurrency' ? this.search.load : this.llm.maxConcurrency;
  }

  describeTarget(): string {
    if (this.status !== 'running') return `llm sweep: ${this.outcomeLine ?? this.status}`;
    if (this.draining) return `llm sweep: draining before ${fmtLoad(this.sweep.by, this.draining.next)}`;
    return `llm sweep: ${fmtLoad(this.sweep.by, this.search.load)} (${this.search.phase})`;
  }

  capacity(): Capacity | undefined {
    return undefined;
  }

  outcome(): string | undefined {
    return this.outcomeLine;
  }

  finalOutcome(): string | undefined {
    if (this.outcomeLine) return this.outcomeLine;
    const by = this.sweep.by;
    const best = this.best ? `best so far ${fmtLoad(by, this.best.Load)}` : 'no load good yet';
    return `sweep not finished: ${best}, ${fmtLoad(by, this.search.load)} not judged when the round ended`;
  }

  /** `LLM.Sweep`: what the search found so far. */
  llmSections(): LlmModeSections {
    return {
      Sweep: {
        By: this.sweep.by,
        SloPercentile: this.sweep.sloPercentile,
        Status: this.status,
        Capacity: this.status === 'found' && this.best ? this.best.Load : null,
        CapacityStep: this.status === 'found' ? (this.best ?? null) : null,
        Knee: sweepKnee(this.steps, curveMetric(this.limits.slo)),
        Steps: [...this.steps],
        Outcome: this.outcomeLine ?? 'running',
      },
    };
  }

  /** The round ended before the search did: what it knew is kept as `not finished`. */
  roundEnded(): void {
    if (this.status !== 'running') return;
    this.status = 'not finished';
    this.outcomeLine = this.finalOutcome();
  }
}
