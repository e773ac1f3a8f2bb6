import type { FieldError } from './errors';
import type { LlmSpec } from './llm-spec';

/**
 * The trace and prefix datasets of an llm task (docs/llm.md, "Datasets"):
 * their bounds, the rules between their fields and the rest of the llm
 * section, and how the result names them.
 */
export const TRACE_LIMITS = {
  /** Records one trace may have: the whole trace travels to every agent in its assignment. */
  maxRecords: 100_000,
  /** Tokens of one record's input or output length. */
  maxTokens: 100_000,
  /** Characters of one record's prompt text. */
  maxPromptChars: 1_000_000,
  /** Tokens of one Mooncake `hash_ids` block (the trace's own block size). */
  blockTokens: 512,
  /** Block ids of one record. */
  maxHashIds: 1_000,
};

export const TRACE_DEFAULTS = { speed: 1 };

/**
 * A trace's zero, ms after the round's start: the start is a busy instant
 * (every agent, the controller and the service wake at once), and a trace's
 * first records, often due together at 0, left in it up to 12 ms late; from
 * here they leave on time. The whole trace keeps its offsets.
 */
export const TRACE_START_LEAD_MS = 100;

/** One record of a trace, as the agents get it: when it is due and what it sends. */
export interface TraceRecord {
  /** Due time, ms from the trace's first record, already divided by `speed`. */
  atMs: number;
  /** The prompt's length in tokens when the trace gives only lengths (a prompt is synthesised). */
  inputTokens?: number;
  /** The prompt text when the trace gives one. */
  prompt?: string;
  /** max_tokens; absent: the dataset's outputLength, else none. */
  outputTokens?: number;
  /** Mooncake's shared 512-token blocks: records with the same leading ids share that prompt prefix. */
  hashIds?: number[];
}

/** How the result names the dataset of a trace or prefix run (`LLM.Dataset`). */
export type LlmDatasetSection =
  | { Type: 'trace'; Format: 'jsonl' | 'csv'; Speed: number }
  | { Type: 'prefix'; PrefixCount: number; PrefixTokens: number; SuffixTokens: number; PromptTokens: number };

/**
 * What the dataset was, in one line for people (the summary, the report and
 * the live page). Self-contained (no value from outside its body): the live
 * page's script carries its source text.
 */
export function datasetLine(d: LlmDatasetSection): string {
  if (d.Type === 'prefix') return `${d.PrefixCount} shared prefixes of ${d.PrefixTokens} tokens, each prompt one of them and ${d.SuffixTokens} tokens of its own (${d.PromptTokens} tokens)`;
  return `a ${d.Format === 'csv' ? 'CSV (BurstGPT)' : 'JSONL'} trace replayed at its offsets, speed ${d.Speed}`;
}

/** The trace's format: as given, else by the path's extension (`.csv`: BurstGPT's CSV). */
export function traceFormat(path: string, format: 'jsonl' | 'csv' | undefined): 'jsonl' | 'csv' {
  if (format) return format;
  return /\.csv(\?|#|$)/i.test(path) ? 'csv' : 'jsonl';
}

export function llmDatasetSection(llm: LlmSpec): LlmDatasetSection | undefined {
  const d = llm.dataset;
  if (d?.type === 'trace') return { Type: 'trace', Format: traceFormat(d.path, d.format), Speed: d.speed ?? TRACE_DEFAULTS.speed };
  if (d?.type === 'prefix') return { Type: 'prefix', PrefixCount: d.prefixCount, PrefixTokens: d.prefixTokens, SuffixTokens: d.suffixTokens, PromptTokens: d.prefixTokens + d.suffixTokens };
  return undefined;
}

/** Which dataset types each dataset field applies to. */
const FIELD_TYPES: Record<string, readonly string[]> = {
  inputTokens: ['synthetic'],
  outputTokens: ['synthetic', 'prefix'],
  path: ['sharegpt', 'trace'],
  outputLength: ['sharegpt', 'trace'],
  format: ['trace'],
  speed: ['trace'],
  prefixCount: ['prefix'],
  prefixTokens: ['prefix'],
  suffixTokens: ['prefix'],
};

/** The rules of the dataset fields (their ranges are the schema's); each problem names its field. */
export function llmDatasetChecks(llm: LlmSpec, errors: FieldError[]): void {
  const dataset = llm.dataset;
  if (!dataset) return;
  const given = dataset as unknown as Record<string, unknown>;
  // inputTokens and outputTokens on the custom and ShareGPT datasets have their own older message (task.ts)
  const olderRule = dataset.type === 'custom' || dataset.type === 'sharegpt';
  for (const [field, types] of Object.entries(FIELD_TYPES)) {
    if (olderRule && (field === 'inputTokens' || field === 'outputTokens')) continue;
    if (given[field] !== undefined && !types.includes(dataset.type)) errors.push({ field: `llm.dataset.${field}`, message: `applies only to the ${types.join(' or ')} dataset` });
  }
  if (dataset.type === 'prefix') {
    for (const field of ['prefixCount', 'prefixTokens', 'suffixTokens'] as const) {
      if (given[field] === undefined) errors.push({ field: `llm.dataset.${field}`, message: 'is required when llm.dataset.type is prefix' });
    }
  }
  if (dataset.type !== 'trace') return;
  if (!given.path) errors.push({ field: 'llm.dataset.path', message: 'is required when llm.dataset.type is trace' });
  if (llm.testMode !== 'rate') errors.push({ field: 'llm.testMode', message: 'must be rate with the trace dataset (its records are sent open loop at their offsets)' });
  for (const field of ['requestRate', 'burstiness', 'requestCount', 'continuous'] as const) {
    if (llm[field] !== undefined) errors.push({ field: `llm.${field}`, message: 'does not apply to the trace dataset: the trace gives the requests and their times' });
  }
  if ((llm.mode ?? 'standard') !== 'standard' && llm.mode !== 'tools') errors.push({ field: 'llm.mode', message: 'must be standard or tools with the trace dataset' });
}
