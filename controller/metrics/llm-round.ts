import { namedCommonMetrics, type LlmResult } from '../../src/contract';
import { tokenSourceText } from './llm';
import { decodeLlmSecond, LlmStageTotals, LlmStoredSecond } from './llm-stage';

/**
 * The LLM figures of a round, built from its finalized seconds only: the
 * whole run, and the steady stage found from the per-second in-flight
 * counts. It is the same whether fed live or from the stored seconds after a
 * restart, and it holds three sets of histograms whatever the run's length.
 *
 * The steady stage follows AISBench's rule on seconds: with M the most
 * requests in flight in any second, it runs from the first second that
 * reached M to the last one that did, from the moment the count first reached
 * M (t2) to the last moment it left M (t4), as the agents timed them. Its
 * requests are those that ended in its seconds (AISBench takes those sent
 * between t2 and t4: `bench recompute` gives that exact figure from the
 * records). Seconds after the stage so far wait in `tail`, merged, and join
 * the stage when a later second reaches M again.
 */
export class LlmRoundFigures {
  private readonly total = new LlmStageTotals();
  private readonly stable = new LlmStageTotals();
  private readonly tail = new LlmStageTotals();
  private most = 0;
  private stage: { startMs: number; endMs: number } | null = null;
  private version = 0;
  private cache?: { version: number; key: string; result: LlmResult };

  constructor(private readonly percentiles: readonly number[]) {}

  addSecond(s: LlmStoredSecond): void {
    this.version++;
    const decoded = decodeLlmSecond(s);
    this.total.addSecond(s, decoded);
    if (s.maxInFlight > this.most) {
      this.most = s.maxInFlight;
      this.stable.reset();
      this.tail.reset();
      this.stable.addSecond(s, decoded);
      const startMs = s.maxFromMs ?? s.firstSendMs ?? 0;
      this.stage = { startMs, endMs: Math.max(startMs, s.maxUntilMs ?? startMs) };
    } else if (s.maxInFlight === this.most && this.most > 0) {
      this.stable.addTotals(this.tail);
      this.tail.reset();
      this.stable.addSecond(s, decoded);
      if (this.stage && s.maxUntilMs !== null) this.stage.endMs = Math.max(this.stage.endMs, s.maxUntilMs);
    } else if (this.most > 0) {
      this.tail.addSecond(s, decoded);
    }
  }

  /** The `LLM` section (computed again only after a new second). */
  result(): LlmResult {
    const key = this.percentiles.join(',');
    if (this.cache?.version === this.version && this.cache.key === key) return this.cache.result;
    const t = this.total;
    const totalMs = t.firstSendMs !== null && t.lastEndMs !== null ? t.lastEndMs - t.firstSendMs : 0;
    const stage = this.stage;
    const common = t.common(totalMs, this.most);
    const stableCommon = this.stable.common(stage ? stage.endMs - stage.startMs : 0, this.most);
    const result: LlmResult = {
      Total: t.table(this.percentiles),
      Stable: this.stable.table(this.percentiles),
      Common: common,
      StableCommon: stableCommon,
      CommonMetric: { Total: namedCommonMetrics(common), Stable: namedCommonMetrics(stableCommon) },
      TokenSource: tokenSourceText(t.usage, t.success),
      Percentiles: [...this.percentiles],
      ...(stage ? { StableStage: { StartMs: stage.startMs, EndMs: stage.endMs } } : {}),
      Computed: 'histograms',
    };
    this.cache = { version: this.version, key, result };
    return result;
  }
}
