import type { LlmMetricKey, ScheduledLlmMetric } from './llm-protocol';
import type { LlmCommonMetrics, LlmModeSections } from './llm-results';

/** The LLM section of a round's result (`GET .../{TaskName}` → `LLM`): AISBench's tables. */

/**
 * One row of an LLM table. `Median` is always there; every other percentile
 * of `llm.percentiles` is a `P<p>` key (`P75`, `P99`, `P99.9`), in the
 * order asked (percentileKey names them).
 */
export type LlmStatistic = { Average: number; Min: number; Max: number; Median: number; N: number } & { [percentile: `P${string}`]: number };

export type LlmMetricName = LlmMetricKey;

/**
 * One stage's table: a row per metric; the rows of the scheduled metrics
 * (`ClientQueueTime`, `E2ELWithQueue`) only when some request was sent on a
 * schedule (rate mode).
 */
export type LlmTable = Record<Exclude<LlmMetricName, ScheduledLlmMetric>, LlmStatistic> & Partial<Record<ScheduledLlmMetric, LlmStatistic>>;

/** AISBench's "Common Metric" names, with their spaces, by the JSON key of LlmCommonMetrics. */
export const COMMON_METRIC_NAMES: Readonly<Record<keyof LlmCommonMetrics, string>> = {
  BenchmarkDuration: 'Benchmark Duration',
  TotalRequests: 'Total Requests',
  FailedRequests: 'Failed Requests',
  SuccessRequests: 'Success Requests',
  Concurrency: 'Concurrency',
  MaxConcurrency: 'Max Concurrency',
  RequestThroughput: 'Request Throughput',
  AskedRequestRate: 'Asked Request Rate',
  AchievedRequestRate: 'Achieved Request Rate',
  TotalInputTokens: 'Total Input Tokens',
  PrefillTokenThroughput: 'Prefill Token Throughput',
  TotalGeneratedTokens: 'Total Generated Tokens',
  InputTokenThroughput: 'Input Token Throughput',
  OutputTokenThroughput: 'Output Token Throughput',
  TotalTokenThroughput: 'Total Token Throughput',
  Goodput: 'Goodput',
};

/** The AISBench tables, and the sections of the run modes and options (`llm-results.ts`). */
export interface LlmResult extends LlmModeSections {
  Total: LlmTable;
  /** The steady stage's tables; absent when the stage is not reliable (`StableAbsent` says why). */
  Stable?: LlmTable;
  /**
   * Why `Stable` and `StableCommon` are absent, in one line: the stage is
   * shorter than the minimum, or not three times the longest E2EL
   * (AISBench's rule for reliable throughputs), or there is none.
   */
  StableAbsent?: string;
  /** Common metrics of the whole run. */
  Common: LlmCommonMetrics;
  /** The same common metrics for the steady stage. */
  StableCommon?: LlmCommonMetrics;
  /**
   * The common metrics again under the names the references give them, with
   * spaces (`Benchmark Duration`, `Max Concurrency`), as the tables show them;
   * `Common` and `StableCommon` keep SPEC 6's names without spaces.
   */
  CommonMetric?: { Total: Record<string, number>; Stable?: Record<string, number> };
  /** Where token counts came from: usage, tokenizer, or chunks (said in the report). */
  TokenSource?: string;
  /** The percentiles of the tables (`llm.percentiles`). */
  Percentiles?: number[];
  /** The steady stage, Unix ms (t2 and t4 of AISBench), when there is one. */
  StableStage?: { StartMs: number; EndMs: number };
  /**
   * How the figures were computed: `histograms` (live and stored results:
   * the agents' per-second HDR histograms, percentiles within 0.1%) or
   * `records` (`bench recompute`: exact, from every stored request).
   */
  Computed?: 'histograms' | 'records';
}
