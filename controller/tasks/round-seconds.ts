import type { AgentStatsFrame, Clock, LlmModeSections, LlmRequestRecord, LlmResult, LlmSpec, ParsedThreshold, RoundResult, StatsPoint, ThresholdResult } from '../../src/contract';
import type { PoolSeat } from '../fleet/pool';
import { FinalizedSecond, RoundAccumulator, SecondAggregator, SecondContext, StoredSecond, toStoredSecond } from '../metrics/aggregate';
import { FrameRefused } from '../metrics/frame-histograms';
import { LlmModeAccumulator } from '../metrics/llm/modes';
import { percentilesOf } from '../metrics/llm/result';
import { LlmRoundFigures } from '../metrics/llm/round';
import { askedRequestRate, stageHeldAt } from '../metrics/llm/stage';
import { evaluateThresholds, ServiceSeconds } from '../metrics/thresholds';
import { applyGeneratorGate } from '../modes/generator-gate';
import { FrameGate } from './frame-gate';
import { llmModeAccumulator } from './llm-run-work';

export interface RoundSecondsDeps {
  clock: Clock;
  /** When the round began (its agents were first launched): frames from well before it are refused. */
  startMs: number;
  /** Seconds a second waits for late agents before it is finalized without them. */
  finalizeGraceS: number;
  /** An LLM task's section, and the run length past which it gets a drift section. */
  llm?: { spec: LlmSpec; driftMinRunS: number };
  thresholds: readonly ParsedThreshold[];
  /** The LLM sections the mode itself keeps (a sweep's curve), merged into the round's LLM result. */
  modeSections?(): LlmModeSections | undefined;
  /** What the round was doing during `second` (Unix seconds): the figures its point carries besides the agents'. */
  contextOf(second: number): Omit<SecondContext, 'llm'>;
  /** A second is final: stored (its LLM records first), then handed to the round (the mode sees it). */
  onRecords?(records: LlmRequestRecord[]): void;
  onSecond(stored: StoredSecond, finalized: FinalizedSecond): void;
}

/**
 * The per-second pipeline of one round: frames admitted through the frame
 * gate and folded by second; a second finalized once every reporting agent
 * is past it or its grace has passed; the generator gate applied; the
 * stored seconds, the round's totals, its LLM figures and the run modes'
 * sections fed; the thresholds judged after each batch.
 */
export class RoundSeconds {
  readonly series: StatsPoint[] = [];
  private readonly accumulator = new RoundAccumulator();
  /** The seconds that passed the validity gate: what latency thresholds are judged on. */
  private readonly serviceSeconds = new ServiceSeconds();
  private thresholdResults: ThresholdResult[] = [];
  /** LLM tasks: the round's LLM figures, from its finalized seconds (the records go to disk, not here). */
  private readonly llmFigures?: LlmRoundFigures;
  /** The run modes' sections (drift, retries, token-sweep, ...), fed every record as its second is finalized. */
  private readonly llmModes: LlmModeAccumulator | null;
  private readonly aggregator: SecondAggregator;
  private readonly gate: FrameGate;
  private lastFinalized = 0;
  /** The last second each agent reported, by agent id. */
  private readonly lastSecondOf = new Map<string, number>();

  constructor(private readonly deps: RoundSecondsDeps) {
    const spec = deps.llm?.spec;
    this.gate = new FrameGate(deps.clock, deps.startMs);
    this.llmModes = deps.llm ? llmModeAccumulator(deps.llm.spec, deps.llm.driftMinRunS) : null;
    this.aggregator = new SecondAggregator(spec?.slo);
    if (spec) this.llmFigures = new LlmRoundFigures(percentilesOf(spec), spec.slo, stageHeldAt(spec), askedRequestRate(spec));
  }

  /** Takes an agent's frame; the refusal (the field and what is wrong) when the gate refuses it. */
  admit(seat: PoolSeat, frame: AgentStatsFrame): FrameRefused | undefined {
    // a frame for a second already finalized is folded into the next one: totals stay exact
    const second = frame.second <= this.lastFinalized ? this.lastFinalized + 1 : frame.second;
    let decoded;
    try {
      decoded = this.gate.admit(seat.agentId, frame, second);
    } catch (err) {
      if (err instanceof FrameRefused) return err;
      throw err;
    }
    this.lastSecondOf.set(seat.agentId, Math.max(this.lastSecondOf.get(seat.agentId) ?? 0, second));
    this.aggregator.add(seat.agentId, second === frame.second ? frame : { ...frame, second }, decoded);
    return undefined;
  }

  /** A second is final once every reporting agent has reported past it, or its grace has passed; finalizes those due. Whether any was. */
  finalizeDue(reporting: readonly PoolSeat[]): boolean {
    const nowS = Math.floor(this.deps.clock.nowMs() / 1000);
    const allReported = reporting.length ? Math.min(...reporting.map((s) => this.lastSecondOf.get(s.agentId) ?? 0)) : nowS - 1;
    return this.finalizeThrough(Math.max(allReported, nowS - 1 - this.deps.finalizeGraceS));
  }

  /** Finalizes every pending second through `lastSecond`, oldest first. Whether any was. */
  finalizeThrough(lastSecond: number): boolean {
    let finalizedAny = false;
    for (const second of this.aggregator.pendingSeconds().filter((s) => s <= lastSecond).sort((a, b) => a - b)) {
      const finalized = this.aggregator.finalize(second, { ...this.deps.contextOf(second), llm: this.deps.llm !== undefined });
      this.lastFinalized = Math.max(this.lastFinalized, second);
      this.gate.finalized(second);
      applyGeneratorGate(finalized);
      // a second's records go to disk with it, so the records file and the stored figures agree
      // (a crash leaves both at the same second); the round keeps neither
      if (finalized.llmRecords) {
        for (const r of finalized.llmRecords) this.llmModes?.add(r);
        this.deps.onRecords?.(finalized.llmRecords);
      }
      const stored = toStoredSecond(finalized);
      this.series.push(stored.point);
      this.accumulator.addStored(stored);
      this.serviceSeconds.add(stored.point, stored.rt, stored.lag);
      finalizedAny = true;
      if (stored.llm) this.llmFigures?.addSecond(stored.llm, finalized.llmRecords ?? []);
      this.deps.onSecond(stored, finalized);
    }
    return finalizedAny;
  }

  /** The round's result over `loadDurationS` (the divisor of its QPS). */
  result(loadDurationS: number | undefined): RoundResult {
    return this.accumulator.result(loadDurationS);
  }

  /** The LLM section of the round so far (computed again only after a new second), with the run modes' sections. */
  llmResult(): LlmResult | undefined {
    const figures = this.llmFigures?.result();
    return figures && this.llmModes ? { ...figures, ...this.llmModes.result(), ...this.deps.modeSections?.() } : figures;
  }

  /** The thresholds as judged last (empty without thresholds). */
  get thresholds(): ThresholdResult[] {
    return this.thresholdResults;
  }

  /**
   * Judges the thresholds on the round so far (docs/metrics.md). Returns the
   * first abortOnFail threshold that failed once its delayAbortEvalS has
   * passed (`elapsedS` into the load); a metric with nothing measured yet
   * fails nothing.
   */
  judgeThresholds(loadDurationS: number | undefined, elapsedS: number): ThresholdResult | undefined {
    const thresholds = this.deps.thresholds;
    if (thresholds.length === 0) return undefined;
    this.thresholdResults = evaluateThresholds(thresholds, { result: this.result(loadDurationS), service: this.serviceSeconds.result(), llm: this.llmResult() });
    return this.thresholdResults.find((r, i) => r.AbortOnFail && !r.Passed && r.Value !== null && elapsedS >= thresholds[i].delayAbortEvalS);
  }
}
