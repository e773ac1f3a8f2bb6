/**
 * The result sections of the llm run modes and options, beside the AISBench
 * tables of `LlmResult` (`GET .../{TaskName}` → `LLM`). Times ms, rates per second.
 */
import type { LlmDatasetSection } from './llm-datasets';

/** Mean and population standard deviation; Cv is stddev / mean in %. */
export interface MeanStd {
  Mean: number;
  Stddev: number;
  CvPct: number;
  N: number;
}

/** First half against second half of one figure; ChangePct is (second − first) / first in %. */
export interface HalfDrift {
  FirstHalf: number;
  SecondHalf: number;
  ChangePct: number;
  /** The change is a degradation (TTFT, TPOT up; decode tokens/s down) of more than the threshold. */
  Flagged: boolean;
}

/** Every run longer than a minute: by send time, before and after the run's midpoint. */
export interface LlmDrift {
  ThresholdPct: number;
  TTFT: HalfDrift;
  TPOT: HalfDrift;
  DecodeTokensPerSecond: HalfDrift;
  Flagged: boolean;
}

export interface LlmRetries {
  /** Requests that failed at least once and were sent again. */
  RetriedRequests: number;
  /** Extra sends, over all requests. */
  RetryAttempts: number;
  /** Retried requests that succeeded in the end (they count as successful in the tables). */
  RecoveredRequests: number;
}

export interface LlmSweepPoint {
  PromptTokens: number;
  N: number;
  TTFTMean: number;
  TTFTMedian: number;
  /** Mean TTFT per 1000 prompt tokens. */
  TTFTPer1kTokens: number;
}

export interface LlmTokenSweep {
  Points: LlmSweepPoint[];
  /** b of TTFT ∝ PromptTokens^b, least squares on the logs of the points' median TTFT. */
  Exponent: number;
  Scaling: 'linear' | 'sub-linear' | 'super-linear' | 'unknown';
}

export interface LlmConsistency {
  TTFT: MeanStd;
  DecodeTokensPerSecond: MeanStd;
  /** In sending order: the first half of the requests against the second. */
  TTFTDrift: HalfDrift;
  DecodeDrift: HalfDrift;
}

export interface LlmTurnPosition {
  Turn: number;
  N: number;
  TTFTMean: number;
  InputTokensMean: number;
}

export interface LlmSessions {
  SessionsStarted: number;
  SessionsCompleted: number;
  Turns: number;
  /** E2EL of every successful turn. */
  TurnLatencyP50: number;
  TurnLatencyP95: number;
  TurnLatencyP99: number;
  ByTurn: LlmTurnPosition[];
}

export interface LlmToolCalls {
  /** Successful requests that offered tools. */
  Requests: number;
  CalledTool: number;
  Parsed: number;
  /** CalledTool / Requests and Parsed / CalledTool, in %. */
  CallRatePct: number;
  ParseRatePct: number;
  /** E2EL of the answers that called a tool. */
  CallLatencyMean: number;
  CallLatencyP50: number;
  CallLatencyP99: number;
}

/** One load of a sweep, judged on its steady requests (those sent at this load, ended in its seconds that passed the generator gate). */
export interface LlmSweepStep {
  /** req/s (`By` rate) or streams (`By` concurrency). */
  Load: number;
  Phase: 'step' | 'bisect';
  /** Seconds judged (the generator gate passed them) and left out (generator-limited). */
  Seconds: number;
  GeneratorLimitedSeconds: number;
  Requests: number;
  ErrorRate: number;
  /** Completed and good (every llm.slo bound met) requests per judged second. */
  RequestThroughput: number;
  Goodput: number;
  OutputTokenThroughput: number;
  /** The step's `SloPercentile` of each metric over its successful steady requests, ms; null when none succeeded. */
  TTFT: number | null;
  TPOT: number | null;
  E2EL: number | null;
  Verdict: 'good' | 'slo' | 'flat' | 'errors' | 'agents-behind';
  Why: string;
}

/**
 * testMode sweep: the highest load at which every `llm.slo` bound held on
 * the steady requests and goodput still rose, the curve of every load judged,
 * and where latency bent against throughput.
 */
export interface LlmSweep {
  By: 'rate' | 'concurrency';
  SloPercentile: number;
  /** `running` while it steps; `found`; `no capacity` (the first load failed); `not finished` (the round ended first). */
  Status: 'running' | 'found' | 'no capacity' | 'not finished';
  /** The load found (req/s or streams) and its step; null until one is good. */
  Capacity: number | null;
  CapacityStep: LlmSweepStep | null;
  /** The point where latency bent against throughput (Kneedle, over the judged loads by load); null with fewer than 3. */
  Knee: { Load: number; RequestThroughput: number; LatencyMetric: 'TTFT' | 'TPOT' | 'E2EL'; LatencyMs: number } | null;
  /** Every load judged, in the order they ran. */
  Steps: LlmSweepStep[];
  /** The outcome in words, as the task's Message gives it. */
  Outcome: string;
}

export interface LlmModeSections {
  /** Which tokenizer counted tokens that `usage` did not give. */
  Tokenizer?: string;
  /** The trace or prefix dataset the requests came from (`llm-datasets.ts`). */
  Dataset?: LlmDatasetSection;
  Retries?: LlmRetries;
  /** llm.warmupRequests: what each agent sent first, left out of every figure and record. */
  Warmup?: { RequestsPerAgent: number; Excluded: 'every figure and record' };
  Drift?: LlmDrift;
  TokenSweep?: LlmTokenSweep;
  Consistency?: LlmConsistency;
  Sessions?: LlmSessions;
  ToolCalls?: LlmToolCalls;
  Sweep?: LlmSweep;
}

/**
 * AISBench's "Common Metric" table, by its names without spaces, in its order.
 * Durations ms, throughputs per second of BenchmarkDuration (token/s, req/s).
 * A type alias, not an interface, so it reads as a `Record<string, number>` too.
 */
export type LlmCommonMetrics = {
  BenchmarkDuration: number;
  TotalRequests: number;
  FailedRequests: number;
  SuccessRequests: number;
  /** Mean requests in flight: the sum of (end - send) / BenchmarkDuration, at most MaxConcurrency. */
  Concurrency: number;
  MaxConcurrency: number;
  RequestThroughput: number;
  /** Rate mode: the request rate asked for (llm.requestRate), req/s. */
  AskedRequestRate?: number;
  /** Rate mode: the rate requests were sent at, (TotalRequests - 1) / (last send - first send), req/s; under the asked one when maxConcurrency held the schedule back. */
  AchievedRequestRate?: number;
  TotalInputTokens: number;
  /** TotalInputTokens / the sum of the successful requests' TTFT in seconds, token/s; 0 when no TTFT was measured. */
  PrefillTokenThroughput: number;
  TotalGeneratedTokens: number;
  InputTokenThroughput: number;
  OutputTokenThroughput: number;
  TotalTokenThroughput: number;
  /** Successful requests meeting every `llm.slo` bound, per second. */
  Goodput: number;
};
