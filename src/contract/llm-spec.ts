/*
 * The llm section of a task, apart from task.ts (which validates the whole
 * task), so llm-modes.ts checks its modes without importing the module that
 * imports it.
 */

export type LlmApi = 'chat' | 'completions';
/** `sweep`: the load is stepped (and bisected) to the highest that meets `llm.slo` (`llm.sweep`). */
export type LlmTestMode = 'concurrency' | 'rate' | 'throughput' | 'pressure' | 'sweep';
/** What an llm task measures beyond the standard tables (the stress-tester modes, `llm-modes.ts`). */
export type LlmRunMode = 'standard' | 'token-sweep' | 'consistency' | 'sessions' | 'tools';

export type LlmDatasetSpec =
  | { type: 'synthetic'; inputTokens?: [number, number]; outputTokens?: [number, number] }
  | { type: 'custom' }
  /** outputLength: max_tokens of every request (the console's "Output Length"); absent = not truncated. */
  | { type: 'sharegpt'; path: string; outputLength?: number }
  /**
   * A timestamped trace replayed on its own schedule (`llm-datasets.ts`):
   * JSONL (`timestamp` ms, `input_length` or `prompt`, `output_length`,
   * Mooncake's `hash_ids`) or BurstGPT's CSV; offsets divided by `speed`.
   * outputLength: max_tokens of records that give no output length.
   */
  | { type: 'trace'; path: string; format?: 'jsonl' | 'csv'; speed?: number; outputLength?: number }
  /** `prefixCount` distinct prefixes of `prefixTokens` tokens, each prompt one of them and a unique suffix of `suffixTokens`. */
  | { type: 'prefix'; prefixCount: number; prefixTokens: number; suffixTokens: number; outputTokens?: [number, number] };

/** A log-normal distribution by the mean and standard deviation of its logarithm. */
export interface LogNormalSpec {
  mu: number;
  sigma: number;
}

/** sessions mode: multi-turn conversations arriving at llm.requestRate sessions/s. */
export interface LlmSessionsSpec {
  profile?: 'one-shot' | 'short' | 'long';
  /** Turns per session, rounded, at least 1. */
  turns?: LogNormalSpec;
  /** Think time between a turn's answer and the next turn, seconds. */
  thinkTime?: LogNormalSpec;
  maxTurns?: number;
}

export interface LlmSloSpec {
  ttft?: number;
  tpot?: number;
  e2el?: number;
}

/**
 * testMode sweep: what is stepped and how. `by` rate: open-loop arrivals at
 * `start`, `start + step`, ... req/s (burstiness, seed and maxConcurrency as
 * in rate mode); `by` concurrency: that many closed-loop streams. Each load
 * runs `stepS` seconds; after the first load that fails, `bisections` loads
 * halfway between the last good and the first bad one.
 */
export interface LlmSweepSpec {
  by?: 'rate' | 'concurrency';
  start?: number;
  max: number;
  step?: number;
  stepS?: number;
  bisections?: number;
  /** The percentile of TTFT, TPOT and E2EL over a step's steady requests that each `llm.slo` bound is judged on. */
  sloPercentile?: number;
  /** A load counts as raising goodput when goodput grew by at least this share of the load's own relative growth. */
  minGoodputGain?: number;
}

export interface LlmSpec {
  api: LlmApi;
  model: string;
  testMode: LlmTestMode;
  concurrency?: number;
  requestRate?: number;
  maxConcurrency?: number;
  burstiness?: number;
  seed?: number;
  requestCount?: number;
  duration?: number;
  continuous?: boolean;
  ignoreEos?: boolean;
  dataset?: LlmDatasetSpec;
  slo?: LlmSloSpec;
  /** Percentiles of every LLM table (AISBench's P50..P99 columns), ascending; default DEFAULTS.llmPercentiles. */
  percentiles?: number[];
  /** Path (any data source) of a Hugging Face tokenizer.json that counts tokens instead of the bundled encoding. */
  tokenizer?: string;
  /** Times a failed request is sent again before it counts as failed. */
  retries?: number;
  /** Bytes one response may have; past it the request fails as `response too large` (default DEFAULTS.llmMaxResponseBytes). */
  maxResponseBytes?: number;
  /** Requests each agent sends first and leaves out of every figure (default DEFAULTS.llmWarmupRequests). */
  warmupRequests?: number;
  /** Records spanning more than this many seconds get a drift section (default LLM_MODE_DEFAULTS.driftMinRunS). */
  driftMinRunS?: number;
  /** pressure: the concurrency at the start of the ramp (to `concurrency`), and the ramp's length in seconds. */
  startConcurrency?: number;
  rampTime?: number;
  mode?: LlmRunMode;
  /** token-sweep: the prompt lengths, in tokens, each run at the same concurrency. */
  promptLengths?: number[];
  sessions?: LlmSessionsSpec;
  /** testMode sweep: the loads stepped (LlmSweepSpec). */
  sweep?: LlmSweepSpec;
}
