import { DEFAULTS, namedCommonMetrics, roundTo, type LlmCommonMetrics, type LlmMetricName, type LlmRequestRecord, type LlmResult, type LlmSloSpec, type LlmSpec, type LlmStatistic, type LlmSteadyChoice } from '../../src/contract';
import { itlMs, meetsSlo, outputTps, tpotMs } from './llm-request';
import { commonFromSums, emptyStatistic, statisticRow } from './llm-stage';

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
  if (values.length === 0) return emptyStatistic(percentiles);
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return statisticRow(roundTo(sum / sorted.length, 4), roundTo(sorted[0], 4), roundTo(sorted[sorted.length - 1], 4), sorted.length, percentiles, (p) => roundTo(percentile(sorted, p), 4));
}

export { itlMs, meetsSlo, outputTps, tpotMs } from './llm-request';

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
  if (records.length === 0) return null;
  const events: [number, number][] = [];
  for (const r of records) {
    events.push([r.sendMs, 1]);
    events.push([Math.max(r.sendMs, r.endMs), -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let max = 0;
  for (const [, d] of events) {
    current += d;
    max = Math.max(max, current);
  }
  let startMs = Number.NaN;
  let endMs = Number.NaN;
  current = 0;
  for (const [t, d] of events) {
    current += d;
    if (d === 1 && current === max && Number.isNaN(startMs)) startMs = t;
    if (d === -1 && current === max - 1) endMs = t;
  }
  return { startMs, endMs, maxConcurrency: max };
}

export function stableRecords(records: readonly LlmRequestRecord[], stage: SteadyStage | null): LlmRequestRecord[] {
  if (!stage) return [];
  return records.filter((r) => r.sendMs >= stage.startMs && r.sendMs <= stage.endMs);
}

function stageTable(records: readonly LlmRequestRecord[], percentiles: readonly number[]): Record<LlmMetricName, LlmStatistic> {
  const ok = records.filter((r) => r.success);
  const pick = (f: (r: LlmRequestRecord) => number | null): number[] => {
    const out: number[] = [];
    for (const r of ok) {
      const v = f(r);
      if (v !== null) out.push(v);
    }
    return out;
  };
  return {
    TTFT: statistic(pick((r) => r.ttftMs), percentiles),
    TPOT: statistic(pick(tpotMs), percentiles),
    ITL: statistic(pick(itlMs), percentiles),
    E2EL: statistic(pick((r) => r.e2elMs), percentiles),
    InputTokens: statistic(pick((r) => r.inputTokens), percentiles),
    OutputTokens: statistic(pick((r) => r.outputTokens), percentiles),
    OutputTokenThroughput: statistic(pick(outputTps), percentiles),
  };
}

/** Common metrics of a stage from its records (see commonFromSums). */
export function commonMetrics(records: readonly LlmRequestRecord[], durationMs: number, maxConcurrency: number, slo: LlmSloSpec | undefined): LlmCommonMetrics {
  let success = 0;
  let good = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  let ttftSumMs = 0;
  let busyMs = 0;
  for (const r of records) {
    busyMs += Math.max(0, r.endMs - r.sendMs);
    if (!r.success) continue;
    success++;
    if (meetsSlo(r, slo)) good++;
    inputTokens += r.inputTokens;
    outputTokens += r.outputTokens;
    ttftSumMs += r.ttftMs ?? 0;
  }
  return commonFromSums({ durationMs, maxConcurrency, requests: records.length, success, good, inputTokens, outputTokens, ttftSumMs, busyMs });
}

/** Where the round's token counts came from, for the report: usage, tokenizer, or both with their shares. */
export function tokenSourceText(usage: number, success: number): string {
  if (success === 0) return 'none';
  if (usage === success) return 'usage';
  if (usage === 0) return 'tokenizer (gpt-tokenizer o200k_base: the service sent no usage)';
  return `usage for ${usage} requests, tokenizer (gpt-tokenizer o200k_base) for ${success - usage}`;
}

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
export function computeLlmResult(records: readonly LlmRequestRecord[], slo?: LlmSloSpec, percentiles: readonly number[] = DEFAULTS.llmPercentiles, stageOverride?: SteadyStage | null): LlmResult {
  const found = steadyStage(records);
  const stage = stageOverride === undefined ? found : stageOverride;
  const stable = stableRecords(records, stage);
  let firstSend = Number.POSITIVE_INFINITY;
  let lastEnd = Number.NEGATIVE_INFINITY;
  for (const r of records) {
    firstSend = Math.min(firstSend, r.sendMs);
    lastEnd = Math.max(lastEnd, r.endMs);
  }
  const totalMs = records.length > 0 ? lastEnd - firstSend : 0;
  const maxConcurrency = found?.maxConcurrency ?? 0;
  const common = commonMetrics(records, totalMs, maxConcurrency, slo);
  const stableCommon = commonMetrics(stable, stage ? stage.endMs - stage.startMs : 0, stage?.maxConcurrency ?? maxConcurrency, slo);
  return {
    Total: stageTable(records, percentiles),
    Stable: stageTable(stable, percentiles),
    Common: common,
    StableCommon: stableCommon,
    CommonMetric: { Total: namedCommonMetrics(common), Stable: namedCommonMetrics(stableCommon) },
    TokenSource: tokenSource(records),
    Percentiles: [...percentiles],
    ...(stage ? { StableStage: { StartMs: stage.startMs, EndMs: stage.endMs } } : {}),
    Computed: 'records',
  };
}

/**
 * `bench recompute`: the exact `LLM` section of some records with the steady
 * stage chosen: AISBench's rule (`auto`), none, or a window of seconds after
 * the first send.
 */
export function recomputeLlm(records: readonly LlmRequestRecord[], options: { slo?: LlmSloSpec; percentiles: readonly number[]; steady: LlmSteadyChoice }): LlmResult {
  const { steady } = options;
  if (steady === 'auto') return computeLlmResult(records, options.slo, options.percentiles);
  if (steady === 'none') return computeLlmResult(records, options.slo, options.percentiles, null);
  let firstSend = Number.POSITIVE_INFINITY;
  for (const r of records) firstSend = Math.min(firstSend, r.sendMs);
  const found = steadyStage(records);
  const stage = records.length === 0 ? null : { startMs: firstSend + steady.FromS * 1000, endMs: firstSend + steady.ToS * 1000, maxConcurrency: found?.maxConcurrency ?? 0 };
  return computeLlmResult(records, options.slo, options.percentiles, stage);
}

/** A record as `bench recompute` keeps it: its ITL gaps folded into their mean (one value per request, as the tables use). */
export function compactRecord(r: LlmRequestRecord): LlmRequestRecord {
  const itl = itlMs(r);
  const { error: _error, ...rest } = r;
  return { ...rest, itlMs: itl === null ? [] : [itl] };
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

export const RECORDS_CSV_HEADER = 'agent,seq,sendMs,endMs,success,status,ttftMs,tpotMs,itlMs,e2elMs,inputTokens,outputTokens,tokenSource,error';

/** One record's CSV line (no line end), under RECORDS_CSV_HEADER. */
export function recordCsvLine(r: LlmRequestRecord): string {
  const tpot = tpotMs(r);
  const itl = itlMs(r);
  return [r.agent, r.seq, r.sendMs, r.endMs, r.success, r.status, r.ttftMs, tpot === null ? null : roundTo(tpot, 4), itl === null ? null : roundTo(itl, 4), r.e2elMs, r.inputTokens, r.outputTokens, r.tokenSource, r.error].map(csvCell).join(',');
}

/** The records as one CSV text (the `records?format=csv` download). */
export function recordsCsv(records: readonly LlmRequestRecord[]): string {
  return `${[RECORDS_CSV_HEADER, ...records.map(recordCsvLine)].join('\n')}\n`;
}
