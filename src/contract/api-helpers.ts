import type { LlmSteadyChoice, RecordsFormat } from './api';
import { RECORDS_FORMATS } from './api';
import type { LlmCommonMetrics } from './llm-results';
import { COMMON_METRIC_NAMES, type LlmResult, type LlmStatistic } from './llm-tables';

/** What reads the API's shapes from text, and words their figures, on both sides. */

/** What a round's latency figures leave out, in one line for the summary and the report (docs/performance.md). */
export function describeWarmupExcluded(seconds: number): string {
  return `first ${seconds} s (the agents' start-up, generator-limited) left out of RT and send lag; counts and QPS cover the whole round`;
}

/**
 * Rate mode: the client queue time of a whole run in one line, for the
 * summary and the report; undefined when no request waited (docs/llm.md,
 * "Client queue time").
 */
export function describeClientQueue(llm: Pick<LlmResult, 'Total' | 'Common'>): string | undefined {
  const queue = llm.Total.ClientQueueTime;
  if (!queue || queue.Max <= 0) return undefined;
  const rates = llm.Common.AskedRequestRate !== undefined && llm.Common.AchievedRequestRate !== undefined ? `: ${llm.Common.AskedRequestRate} req/s asked, ${llm.Common.AchievedRequestRate} req/s sent` : '';
  return `maxConcurrency held requests for a slot, up to ${queue.Max} ms (mean ${queue.Average} ms)${rates}; TTFT and E2EL count from the actual send, E2ELWithQueue from the scheduled one`;
}

/** The columns of an LLM table, in order (Average, Min, Max, Median, the percentiles, N), as its rows hold them. */
export function statisticColumns(stage: Partial<Record<string, LlmStatistic>> | undefined): string[] {
  const first = Object.values(stage ?? {}).find((s) => s !== undefined);
  return first ? Object.keys(first) : ['Average', 'Min', 'Max', 'Median', 'P75', 'P90', 'P99', 'N'];
}

/** The key of percentile `p` in an LlmStatistic: `Median` for 50, else `P<p>`. */
export function percentileKey(p: number): 'Median' | `P${string}` {
  return p === 50 ? 'Median' : `P${p}`;
}

/** The reference name of a common metric key (the key itself when it has none). */
export function commonMetricName(key: string): string {
  return (COMMON_METRIC_NAMES as Readonly<Record<string, string>>)[key] ?? key;
}

/** Common metrics keyed by their reference names (`Benchmark Duration`, ...), in AISBench's order. */
export function namedCommonMetrics(common: LlmCommonMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(common)) out[commonMetricName(key)] = value;
  return out;
}

export function isRecordsFormat(value: string): value is RecordsFormat {
  return (RECORDS_FORMATS as readonly string[]).includes(value);
}

/** Parses `--steady` / `?steady=`: the choice, or why the text is not one (field `steady`). */
export function parseSteadyChoice(text: string): { steady: LlmSteadyChoice } | { problem: string } {
  if (text === 'auto' || text === 'none') return { steady: text };
  const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(text);
  if (!m) return { problem: 'must be auto, none or FROM-TO (seconds after the first send, e.g. 30-90)' };
  const [fromS, toS] = [Number(m[1]), Number(m[2])];
  if (!(toS > fromS)) return { problem: `must end after it starts (${text})` };
  return { steady: { FromS: fromS, ToS: toS } };
}

/** Parses a percentile list (`50,90,99.9`): ascending numbers in (0, 100), at most 10, or why not (field `percentiles`). */
export function parsePercentileList(text: string): number[] | string {
  const parts = text.split(',').map((p) => p.trim());
  const values = parts.map(Number);
  if (parts.length === 0 || parts.length > 10 || parts.some((p) => p === '') || values.some((v) => !Number.isFinite(v))) return 'must be 1 to 10 numbers separated by commas, e.g. 50,90,99';
  if (values.some((v) => v <= 0 || v >= 100)) return 'each must be > 0 and < 100';
  if (values.some((v, i) => i > 0 && v <= values[i - 1])) return 'must be ascending, without repeats';
  return values;
}
