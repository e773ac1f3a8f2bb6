import { namedCommonMetrics, type LlmRequestRecord, type LlmResult, type LlmSloSpec } from '../../../src/contract';
import { tokenSourceText } from './result';
import { meetsSlo } from '../../../src/measure/llm-request';
import { requestGaps, requestValues } from '../../../src/measure/llm-second';
import { decodeLlmSecond, LlmStageTotals, LlmStoredSecond, stableStageAbsence, type StageHeldAt, type StageRequest } from './stage';

/**
 * Requests that ended after the steady stage's end so far, kept until the
 * stage grows over their send or the run ends. Past this many the live
 * stage is not shown (`bench recompute` gives it from the records): a run
 * whose most in flight came once and early would otherwise keep them all.
 */
export const MAX_WAITING_REQUESTS = 200_000;
/** The token gaps those waiting requests may keep together (4 bytes each). */
export const MAX_WAITING_GAPS = 16 * 1024 * 1024;

/** What a stage keeps of a record (not its token gaps). */
export function stageRequest(r: LlmRequestRecord, slo: LlmSloSpec | undefined): StageRequest {
  return {
    sendMs: r.sendMs,
    endMs: r.endMs,
    success: r.success,
    usage: r.success && r.tokenSource === 'usage',
    good: meetsSlo(r, slo),
    values: requestValues(r),
    gaps: requestGaps(r),
  };
}

/**
 * The LLM figures of a round, built from its finalized seconds and their
 * records: the whole run from the seconds' histograms, and the steady stage
 * as AISBench finds it. It is the same whether fed live or from the stored
 * seconds and records after a restart.
 *
 * The stage: with M the most requests in flight in any second, it runs from
 * the moment the count first reached M (t2) to the last moment it left M
 * (t4), as the agents timed them. Its requests are those **sent** in
 * [t2, t4], as AISBench (and `bench recompute`) take them: a record is added
 * when it arrives if its send is inside, waits when it was sent after the
 * stage's end so far (a later second at M moves t4 past it), and is dropped
 * when it was sent before t2. A new, higher M starts the stage again.
 * Its figures are shown only when the stage passes `stableStageAbsence`.
 */
export class LlmRoundFigures {
  private readonly total = new LlmStageTotals();
  private readonly stable = new LlmStageTotals();
  private waiting: StageRequest[] = [];
  private waitingGaps = 0;
  private overflow = false;
  private most = 0;
  private stage: { startMs: number; endMs: number } | null = null;
  private version = 0;
  private cache?: { version: number; key: string; result: LlmResult };

  constructor(
    private readonly percentiles: readonly number[],
    private readonly slo?: LlmSloSpec,
    /** `stageHeldAt` of the task. */
    private readonly heldAt?: StageHeldAt,
    /** `askedRequestRate` of the task. */
    private readonly askedRatePerS?: number,
  ) {}

  /** A finalized second, then the records of the requests that ended in it. */
  addSecond(s: LlmStoredSecond, records: readonly LlmRequestRecord[] = []): void {
    this.version++;
    const decoded = decodeLlmSecond(s);
    this.total.addSecond(s, decoded);
    if (s.maxInFlight > this.most) {
      this.most = s.maxInFlight;
      const startMs = s.maxFromMs ?? s.firstSendMs ?? 0;
      this.stage = { startMs, endMs: Math.max(startMs, s.maxUntilMs ?? startMs) };
      // what was counted belonged to a lower most: sorted again against the new stage
      this.stable.reset();
      this.overflow = false;
      this.placeWaiting();
    } else if (s.maxInFlight === this.most && this.most > 0 && this.stage && s.maxUntilMs !== null && s.maxUntilMs > this.stage.endMs) {
      this.stage.endMs = s.maxUntilMs;
      this.placeWaiting();
    }
    this.addRecords(records);
  }

  /** Records, each once (live: with their second; after a restart: after every second). */
  addRecords(records: readonly LlmRequestRecord[]): void {
    if (records.length === 0) return;
    this.version++;
    for (const r of records) this.place(stageRequest(r, this.slo));
  }

  /** The waiting requests sorted again against the stage as it is now. */
  private placeWaiting(): void {
    const waiting = this.waiting;
    this.waiting = [];
    this.waitingGaps = 0;
    for (const q of waiting) this.place(q);
  }

  private place(q: StageRequest): void {
    const stage = this.stage;
    if (!stage || q.sendMs < stage.startMs) return;
    if (q.sendMs <= stage.endMs) {
      this.stable.addRequest(q);
    } else if (this.waiting.length < MAX_WAITING_REQUESTS && this.waitingGaps + q.gaps.length <= MAX_WAITING_GAPS) {
      // kept compact while it waits
      this.waiting.push({ ...q, gaps: Float32Array.from(q.gaps) });
      this.waitingGaps += q.gaps.length;
    } else {
      this.overflow = true;
    }
  }

  /** The `LLM` section (computed again only after a new second). */
  result(): LlmResult {
    const key = this.percentiles.join(',');
    if (this.cache?.version === this.version && this.cache.key === key) return this.cache.result;
    const t = this.total;
    const totalMs = t.firstSendMs !== null && t.lastEndMs !== null ? t.lastEndMs - t.firstSendMs : 0;
    const stage = this.stage;
    const common = t.common(totalMs, this.most, this.askedRatePerS);
    const absent = this.overflow
      ? `steady stage not shown live: more than ${MAX_WAITING_REQUESTS} requests (or ${MAX_WAITING_GAPS} token gaps) ended after it; bench recompute gives it from the records`
      : stableStageAbsence(stage ? stage.endMs - stage.startMs : null, t.metricMax('E2EL'), this.most, this.heldAt);
    const stableCommon = absent === undefined ? this.stable.common(stage ? stage.endMs - stage.startMs : 0, this.most, this.askedRatePerS) : undefined;
    const result: LlmResult = {
      Total: t.table(this.percentiles),
      ...(stableCommon ? { Stable: this.stable.table(this.percentiles) } : { StableAbsent: absent }),
      Common: common,
      ...(stableCommon ? { StableCommon: stableCommon } : {}),
      CommonMetric: { Total: namedCommonMetrics(common), ...(stableCommon ? { Stable: namedCommonMetrics(stableCommon) } : {}) },
      TokenSource: tokenSourceText(t.usage, t.success),
      Percentiles: [...this.percentiles],
      ...(stage ? { StableStage: { StartMs: stage.startMs, EndMs: stage.endMs } } : {}),
      Computed: 'histograms',
    };
    this.cache = { version: this.version, key, result };
    return result;
  }
}
