import { DEFAULTS, isScheduledLlmMetric, LLM_METRICS, namedCommonMetrics, roundTo, type LlmCommonMetrics, type LlmMetricName, type LlmRequestRecord, type LlmResult, type LlmSloSpec, type LlmSpec, type LlmStatistic, type LlmSteadyChoice, type LlmTable } from '../../../src/contract';
import { itlMs, tpotMs } from '../../../src/measure/llm-request';
import { LlmRecordColumns } from './columns';
import { commonFromSums, emptyStatistic, stableStageAbsence, statisticRow, type StageHeldAt } from './stage';

/** Percentile with linear interpolation between closest ranks (numpy's default, which AISBench uses). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** The percentiles of a task's LLM tables: `llm.percentiles`, or the defaults. */
export function percentilesOf(spec: Pick<LlmSpec, 'percentiles'> | undefined): readonly number[] {
  return spec?.percentiles ?? DEFAULTS.llmPercentiles;
}

/** The exact row of some values (the records' path: `bench recompute`). */
export function statistic(values: readonly number[], percentiles: readonly number[] = DEFAULTS.llmPercentiles): LlmStatistic {
  return sortedStatistic(Float64Array.from(values).sort(), percentiles);
}

/** The exact row of values already sorted ascending. */
function sortedStatistic(sorted: Float64Array, percentiles: readonly number[]): LlmStatistic {
  if (sorted.length === 0) return emptyStatistic(percentiles);
  let sum = 0;
  for (const v of sorted) sum += v;
  return statisticRow(roundTo(sum / sorted.length, 4), roundTo(sorted[0], 4), roundTo(sorted[sorted.length - 1], 4), sorted.length, percentiles, (p) => roundTo(percentile(sorted, p), 4));
}

export { itlMs, meetsSlo, outputTps, tpotMs } from '../../../src/measure/llm-request';

export interface SteadyStage {
  /** Send time (Unix ms) at which the in-flight count first reached its maximum. */
  startMs: number;
  /** Last moment (Unix ms) at which the in-flight count was at its maximum. */
  endMs: number;
  maxConcurrency: number;
}

/**
 * AISBench's steady ("stable") stage: from the send of the request that first
 * brings the client-side in-flight count to its maximum (t2) to the last moment
 * the count is at that maximum (t4). A request is in flight from sendMs to endMs;
 * at equal times an end counts before a send (a closed-loop stream that sends its
 * next request as the previous one ends stays at the same count).
 */
export function steadyStage(records: readonly LlmRequestRecord[]): SteadyStage | null {
  return columnsStage(LlmRecordColumns.of(records, undefined));
}

/** steadyStage on columns: the sends and the ends sorted apart, then swept together, an end first at equal times. */
function columnsStage(c: LlmRecordColumns): SteadyStage | null {
  const n = c.n;
  if (n === 0) return null;
  const sends = c.send.slice(0, n).sort();
  const ends = new Float64Array(n);
  for (let i = 0; i < n; i++) ends[i] = Math.max(c.send[i], c.end[i]);
  ends.sort();
  const sweep = (visit: (t: number, d: 1 | -1, current: number) => void): void => {
    let i = 0;
    let j = 0;
    let current = 0;
    while (i < n || j < n) {
      if (j < n && (i >= n || ends[j] <= sends[i])) {
        current--;
        visit(ends[j++], -1, current);
      } else {
        current++;
        visit(sends[i++], 1, current);
      }
    }
  };
  let max = 0;
  sweep((_t, _d, current) => {
    if (current > max) max = current;
  });
  let startMs = Number.NaN;
  let endMs = Number.NaN;
  sweep((t, d, current) => {
    if (d === 1 && current === max && Number.isNaN(startMs)) startMs = t;
    if (d === -1 && current === max - 1) endMs = t;
  });
  return { startMs, endMs, maxConcurrency: max };
}

export function stableRecords(records: readonly LlmRequestRecord[], stage: SteadyStage | null): LlmRequestRecord[] {
  if (!stage) return [];
  return records.filter((r) => r.sendMs >= stage.startMs && r.sendMs <= stage.endMs);
}

/** The requests sent within the stage, by index. */
function stageIndices(c: LlmRecordColumns, stage: SteadyStage | null): Uint32Array {
  if (!stage) return new Uint32Array(0);
  let count = 0;
  for (let i = 0; i < c.n; i++) if (c.send[i] >= stage.startMs && c.send[i] <= stage.endMs) count++;
  const out = new Uint32Array(count);
  let k = 0;
  for (let i = 0; i < c.n; i++) if (c.send[i] >= stage.startMs && c.send[i] <= stage.endMs) out[k++] = i;
  return out;
}

function stageTable(c: LlmRecordColumns, which: Uint32Array | undefined, percentiles: readonly number[]): LlmTable {
  const table: Partial<Record<LlmMetricName, LlmStatistic>> = {};
  for (const key of LLM_METRICS) {
    const values = c.sortedValues(key, which);
    // a queue time only for requests sent on a schedule (and recorded since it was)
    if (isScheduledLlmMetric(key) && values.length === 0) continue;
    table[key] = sortedStatistic(values, percentiles);
  }
  return table as LlmTable;
}

/** The largest of the first n values, NaN left out (0 when none). */
function maxOf(values: Float64Array, n: number): number {
  let max = 0;
  for (let i = 0; i < n; i++) if (values[i] > max) max = values[i];
  return max;
}

/** Common metrics of some requests of the columns (all when `which` is absent); `askedRatePerS`: `askedRequestRate` of the task. */
function columnsCommon(c: LlmRecordColumns, which: Uint32Array | undefined, durationMs: number, maxConcurrency: number, askedRatePerS?: number): LlmCommonMetrics {
  const input = c.values.get('InputTokens') as Float64Array;
  const output = c.values.get('OutputTokens') as Float64Array;
  const ttft = c.values.get('TTFT') as Float64Array;
  const count = which ? which.length : c.n;
  let success = 0;
  let good = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  let ttftSumMs = 0;
  let busyMs = 0;
  let firstMs = Number.POSITIVE_INFINITY;
  let lastMs = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < count; j++) {
    const i = which ? which[j] : j;
    busyMs += Math.max(0, c.end[i] - c.send[i]);
    firstMs = Math.min(firstMs, c.send[i]);
    lastMs = Math.max(lastMs, c.send[i]);
    if (!c.ok[i]) continue;
    success++;
    good += c.good[i];
    inputTokens += input[i];
    outputTokens += output[i];
    if (!Number.isNaN(ttft[i])) ttftSumMs += ttft[i];
  }
  return commonFromSums({
    durationMs, maxConcurrency, requests: count, success, good, inputTokens, outputTokens, ttftSumMs, busyMs,
    ...(askedRatePerS !== undefined ? { askedRatePerS } : {}),
    ...(count > 0 ? { sends: { firstMs, lastMs } } : {}),
  });
}

/** Common metrics of a stage from its records (see commonFromSums). */
export function commonMetrics(records: readonly LlmRequestRecord[], durationMs: number, maxConcurrency: number, slo: LlmSloSpec | undefined): LlmCommonMetrics {
  return columnsCommon(LlmRecordColumns.of(records, slo), undefined, durationMs, maxConcurrency);
}

/** Where the round's token counts came from, for the report: usage, tokenizer, or both with their shares. */
export function tokenSourceText(usage: number, success: number, tokenizer = BUNDLED_TOKENIZER): string {
  if (success === 0) return 'none';
  if (usage === success) return 'usage';
  if (usage === 0) return `tokenizer (${tokenizer}: the service sent no usage)`;
  return `usage for ${usage} requests, tokenizer (${tokenizer}) for ${success - usage}`;
}

/** How the report names the bundled encoding (llm.tokenizer names its own). */
export const BUNDLED_TOKENIZER = 'gpt-tokenizer o200k_base';

export function tokenSource(records: readonly LlmRequestRecord[]): string {
  const ok = records.filter((r) => r.success);
  return tokenSourceText(ok.filter((r) => r.tokenSource === 'usage').length, ok.length);
}

/**
 * The `LLM` section computed exactly from every record (`bench recompute`,
 * AISBench's --reuse): percentiles interpolated between ranks, and the steady
 * stage by AISBench's rule on the requests' own send and end times, its
 * requests those sent in it. `stage` overrides the stage found (`--steady`),
 * null for none.
 */
export function computeLlmResult(records: readonly LlmRequestRecord[], slo?: LlmSloSpec, percentiles: readonly number[] = DEFAULTS.llmPercentiles, stageOverride?: SteadyStage | null, heldAt?: StageHeldAt, askedRatePerS?: number): LlmResult {
  return columnsResult(LlmRecordColumns.of(records, slo), percentiles, stageOverride, heldAt, askedRatePerS);
}

/** computeLlmResult on columns (the columns were built with the task's SLO); `heldAt`: `stageHeldAt` of the task, `askedRatePerS` its `askedRequestRate`. */
export function columnsResult(c: LlmRecordColumns, percentiles: readonly number[], stageOverride?: SteadyStage | null, heldAt?: StageHeldAt, askedRatePerS?: number): LlmResult {
  const found = columnsStage(c);
  const stage = stageOverride === undefined ? found : stageOverride;
  const stable = stageIndices(c, stage);
  let firstSend = Number.POSITIVE_INFINITY;
  let lastEnd = Number.NEGATIVE_INFINITY;
  let success = 0;
  let usage = 0;
  for (let i = 0; i < c.n; i++) {
    firstSend = Math.min(firstSend, c.send[i]);
    lastEnd = Math.max(lastEnd, c.end[i]);
    success += c.ok[i];
    usage += c.usage[i];
  }
  const totalMs = c.n > 0 ? lastEnd - firstSend : 0;
  const maxConcurrency = found?.maxConcurrency ?? 0;
  const common = columnsCommon(c, undefined, totalMs, maxConcurrency, askedRatePerS);
  // AISBench's rule decides whether the stage it found is shown; a stage the user chose is shown as chosen
  const absent =
    stageOverride === undefined
      ? stableStageAbsence(stage ? stage.endMs - stage.startMs : null, maxOf(c.values.get('E2EL') as Float64Array, c.n), stage?.maxConcurrency ?? 0, heldAt)
      : stage === null
        ? 'steady stage not computed (--steady none)'
        : undefined;
  const stableCommon = absent === undefined ? columnsCommon(c, stable, stage ? stage.endMs - stage.startMs : 0, stage?.maxConcurrency ?? maxConcurrency, askedRatePerS) : undefined;
  return {
    Total: stageTable(c, undefined, percentiles),
    ...(stableCommon ? { Stable: stageTable(c, stable, percentiles) } : { StableAbsent: absent }),
    Common: common,
    ...(stableCommon ? { StableCommon: stableCommon } : {}),
    CommonMetric: { Total: namedCommonMetrics(common), ...(stableCommon ? { Stable: namedCommonMetrics(stableCommon) } : {}) },
    TokenSource: tokenSourceText(usage, success),
    Percentiles: [...percentiles],
    ...(stage ? { StableStage: { StartMs: stage.startMs, EndMs: stage.endMs } } : {}),
    Computed: 'records',
  };
}

/**
 * `bench recompute`: the exact `LLM` section of the columns with the steady
 * stage chosen: AISBench's rule (`auto`), none, or a window of seconds after
 * the first send.
 */
export function recomputeLlm(c: LlmRecordColumns, options: { percentiles: readonly number[]; steady: LlmSteadyChoice; heldAt?: StageHeldAt; askedRatePerS?: number }): LlmResult {
  const { steady, askedRatePerS } = options;
  if (steady === 'auto') return columnsResult(c, options.percentiles, undefined, options.heldAt, askedRatePerS);
  if (steady === 'none') return columnsResult(c, options.percentiles, null, undefined, askedRatePerS);
  let firstSend = Number.POSITIVE_INFINITY;
  for (let i = 0; i < c.n; i++) firstSend = Math.min(firstSend, c.send[i]);
  const found = columnsStage(c);
  const stage = c.n === 0 ? null : { startMs: firstSend + steady.FromS * 1000, endMs: firstSend + steady.ToS * 1000, maxConcurrency: found?.maxConcurrency ?? 0 };
  return columnsResult(c, options.percentiles, stage, undefined, askedRatePerS);
}

/**
 * One RFC 4180 cell. Text (an error a service sent) that a spreadsheet would
 * read as a formula (= + - @, or a tab or CR before one) gets a leading `'`;
 * numbers are written as they are.
 */
export function csvCell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The columns of the records CSV; `queueMs` (rate mode's client queue time, empty without a schedule) last, so the earlier columns keep their places. */
export const RECORDS_CSV_HEADER = 'agent,seq,sendMs,endMs,success,status,ttftMs,tpotMs,itlMs,e2elMs,inputTokens,outputTokens,tokenSource,error,queueMs';

/** One record's CSV line (no line end), under RECORDS_CSV_HEADER. */
export function recordCsvLine(r: LlmRequestRecord): string {
  const tpot = tpotMs(r);
  const itl = itlMs(r);
  return [r.agent, r.seq, r.sendMs, r.endMs, r.success, r.status, r.ttftMs, tpot === null ? null : roundTo(tpot, 4), itl === null ? null : roundTo(itl, 4), r.e2elMs, r.inputTokens, r.outputTokens, r.tokenSource, r.error, r.queueMs].map(csvCell).join(',');
}

/** The records as one CSV text (the `records?format=csv` download). */
export function recordsCsv(records: readonly LlmRequestRecord[]): string {
  return `${[RECORDS_CSV_HEADER, ...records.map(recordCsvLine)].join('\n')}\n`;
}
