import { roundTo, type LlmCommonMetrics, type LlmMetricName, type LlmRequestRecord, type LlmResult, type LlmSloSpec, type LlmStatistic } from '../../src/contract';

/** Most per-request records a round keeps (requestCount <= 1000, or a duration's worth). */
export const MAX_LLM_RECORDS = 200_000;

const METRICS: readonly LlmMetricName[] = ['TTFT', 'TPOT', 'ITL', 'E2EL', 'InputTokens', 'OutputTokens', 'OutputTokenThroughput'];

/** Percentile with linear interpolation between closest ranks (numpy's default, which AISBench uses). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export function statistic(values: readonly number[]): LlmStatistic {
  if (values.length === 0) return { Average: 0, Min: 0, Max: 0, Median: 0, P75: 0, P90: 0, P99: 0, N: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    Average: roundTo(sum / sorted.length, 4),
    Min: roundTo(sorted[0], 4),
    Max: roundTo(sorted[sorted.length - 1], 4),
    Median: roundTo(percentile(sorted, 50), 4),
    P75: roundTo(percentile(sorted, 75), 4),
    P90: roundTo(percentile(sorted, 90), 4),
    P99: roundTo(percentile(sorted, 99), 4),
    N: sorted.length,
  };
}

/** TPOT of a request, ms: (E2EL - TTFT)/(outputTokens - 1); only for outputTokens > 1. */
export function tpotMs(r: LlmRequestRecord): number | null {
  if (!r.success || r.e2elMs === null || r.ttftMs === null || r.outputTokens <= 1) return null;
  return (r.e2elMs - r.ttftMs) / (r.outputTokens - 1);
}

/** A request's ITL, ms: the mean of its token gaps (AISBench gives one ITL per request, N = requests). */
export function itlMs(r: LlmRequestRecord): number | null {
  if (!r.success || r.itlMs.length === 0) return null;
  return r.itlMs.reduce((s, v) => s + v, 0) / r.itlMs.length;
}

/** Output tokens per second of one request: outputTokens / E2EL. */
export function outputTps(r: LlmRequestRecord): number | null {
  if (!r.success || r.e2elMs === null || r.e2elMs <= 0) return null;
  return r.outputTokens / (r.e2elMs / 1000);
}

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

function stageTable(records: readonly LlmRequestRecord[]): Record<LlmMetricName, LlmStatistic> {
  const ok = records.filter((r) => r.success);
  const pick = (f: (r: LlmRequestRecord) => number | null): number[] => {
    const out: number[] = [];
    for (const r of ok) {
      const v = f(r);
      if (v !== null) out.push(v);
    }
    return out;
  };
  const table: Record<LlmMetricName, LlmStatistic> = {
    TTFT: statistic(pick((r) => r.ttftMs)),
    TPOT: statistic(pick(tpotMs)),
    ITL: statistic(pick(itlMs)),
    E2EL: statistic(pick((r) => r.e2elMs)),
    InputTokens: statistic(pick((r) => r.inputTokens)),
    OutputTokens: statistic(pick((r) => r.outputTokens)),
    OutputTokenThroughput: statistic(pick(outputTps)),
  };
  for (const name of METRICS) table[name] = table[name] ?? statistic([]);
  return table;
}

function meetsSlo(r: LlmRequestRecord, slo: LlmSloSpec | undefined): boolean {
  if (!r.success) return false;
  if (!slo) return true;
  if (slo.ttft !== undefined && (r.ttftMs === null || r.ttftMs > slo.ttft)) return false;
  const tpot = tpotMs(r);
  if (slo.tpot !== undefined && tpot !== null && tpot > slo.tpot) return false;
  if (slo.e2el !== undefined && (r.e2elMs === null || r.e2elMs > slo.e2el)) return false;
  return true;
}

/**
 * Common metrics of a stage, by AISBench's names without spaces. Durations ms,
 * throughputs per second of `durationMs`; Concurrency is the mean number of
 * requests in flight (sum of request latencies / duration), shown no higher
 * than MaxConcurrency as AISBench does. PrefillTokenThroughput is AISBench's
 * "Prefill Token Throughput": the stage's input tokens over the sum of its
 * successful requests' TTFT (not over the duration).
 */
export function commonMetrics(records: readonly LlmRequestRecord[], durationMs: number, maxConcurrency: number, slo: LlmSloSpec | undefined): LlmCommonMetrics {
  const ok = records.filter((r) => r.success);
  const durationS = durationMs > 0 ? durationMs / 1000 : 0;
  const per = (v: number): number => (durationS > 0 ? roundTo(v / durationS, 4) : 0);
  const inputTokens = ok.reduce((s, r) => s + r.inputTokens, 0);
  const outputTokens = ok.reduce((s, r) => s + r.outputTokens, 0);
  const ttftS = ok.reduce((s, r) => s + (r.ttftMs ?? 0), 0) / 1000;
  const busyMs = records.reduce((s, r) => s + Math.max(0, r.endMs - r.sendMs), 0);
  return {
    BenchmarkDuration: roundTo(durationMs, 4),
    TotalRequests: records.length,
    FailedRequests: records.length - ok.length,
    SuccessRequests: ok.length,
    Concurrency: durationMs > 0 ? roundTo(Math.min(maxConcurrency, busyMs / durationMs), 4) : 0,
    MaxConcurrency: maxConcurrency,
    RequestThroughput: per(ok.length),
    TotalInputTokens: inputTokens,
    PrefillTokenThroughput: ttftS > 0 ? roundTo(inputTokens / ttftS, 4) : 0,
    TotalGeneratedTokens: outputTokens,
    InputTokenThroughput: per(inputTokens),
    OutputTokenThroughput: per(outputTokens),
    TotalTokenThroughput: per(inputTokens + outputTokens),
    Goodput: per(records.filter((r) => meetsSlo(r, slo)).length),
  };
}

/** Where the round's token counts came from, for the report: usage, tokenizer, or both with their shares. */
export function tokenSource(records: readonly LlmRequestRecord[], tokenizer = BUNDLED_TOKENIZER): string {
  const ok = records.filter((r) => r.success);
  const usage = ok.filter((r) => r.tokenSource === 'usage').length;
  if (ok.length === 0) return 'none';
  if (usage === ok.length) return 'usage';
  if (usage === 0) return `tokenizer (${tokenizer}: the service sent no usage)`;
  return `usage for ${usage} requests, tokenizer (${tokenizer}) for ${ok.length - usage}`;
}

/** How the report names the bundled encoding (llm.tokenizer names its own). */
export const BUNDLED_TOKENIZER = 'gpt-tokenizer o200k_base';

/** The `LLM` section of GET task: Total and Stable tables, and the common metrics of both stages. */
export function computeLlmResult(records: readonly LlmRequestRecord[], slo?: LlmSloSpec, tokenizer?: string): LlmResult {
  const stage = steadyStage(records);
  const stable = stableRecords(records, stage);
  const firstSend = records.reduce((m, r) => Math.min(m, r.sendMs), Number.POSITIVE_INFINITY);
  const lastEnd = records.reduce((m, r) => Math.max(m, r.endMs), Number.NEGATIVE_INFINITY);
  const totalMs = records.length > 0 ? lastEnd - firstSend : 0;
  const maxConcurrency = stage?.maxConcurrency ?? 0;
  return {
    Total: stageTable(records),
    Stable: stageTable(stable),
    Common: commonMetrics(records, totalMs, maxConcurrency, slo),
    StableCommon: commonMetrics(stable, stage ? stage.endMs - stage.startMs : 0, maxConcurrency, slo),
    TokenSource: tokenSource(records, tokenizer),
  };
}

/** Per-second figures of the records that ended in one second (StatsPoint.TTFTAvg, TPOTAvg, OutputTPS). */
export function secondFigures(records: readonly LlmRequestRecord[]): { TTFTAvg?: number; TPOTAvg?: number; OutputTPS: number } {
  let ttftSum = 0;
  let ttftN = 0;
  let tpotSum = 0;
  let tpotN = 0;
  let tokens = 0;
  for (const r of records) {
    if (!r.success) continue;
    if (r.ttftMs !== null) {
      ttftSum += r.ttftMs;
      ttftN++;
    }
    const tpot = tpotMs(r);
    if (tpot !== null) {
      tpotSum += tpot;
      tpotN++;
    }
    tokens += r.outputTokens;
  }
  return {
    ...(ttftN > 0 ? { TTFTAvg: roundTo(ttftSum / ttftN, 4) } : {}),
    ...(tpotN > 0 ? { TPOTAvg: roundTo(tpotSum / tpotN, 4) } : {}),
    OutputTPS: tokens,
  };
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

/** One CSV line per record (the `records?format=csv` download). */
export function recordsCsv(records: readonly LlmRequestRecord[]): string {
  const header = 'agent,seq,sendMs,endMs,success,status,ttftMs,tpotMs,itlMs,e2elMs,inputTokens,outputTokens,tokenSource,error';
  const lines = records.map((r) => {
    const tpot = tpotMs(r);
    const itl = itlMs(r);
    return [r.agent, r.seq, r.sendMs, r.endMs, r.success, r.status, r.ttftMs, tpot === null ? null : roundTo(tpot, 4), itl === null ? null : roundTo(itl, 4), r.e2elMs, r.inputTokens, r.outputTokens, r.tokenSource, r.error].map(csvCell).join(',');
  });
  return `${[header, ...lines].join('\n')}\n`;
}
