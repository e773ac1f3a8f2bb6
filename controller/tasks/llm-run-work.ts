import { DEFAULTS, LLM_MODE_DEFAULTS, llmDatasetSection, resolveSessions, type LlmRunWork, type LlmSpec } from '../../src/contract';
import { BUNDLED_TOKENIZER } from '../metrics/llm/result';
import { LlmModeAccumulator } from '../metrics/llm/modes';

/** What an llm task's run mode adds to the agents' work (nothing for the standard mode). */
export function llmRunWork(llm: LlmSpec): { run?: LlmRunWork } {
  switch (llm.mode ?? 'standard') {
    case 'token-sweep': {
      const lengths = [...(llm.promptLengths ?? LLM_MODE_DEFAULTS.promptLengths)];
      // the validator makes requestCount required in this mode
      const total = llm.requestCount ?? lengths.length;
      return { run: { kind: 'token-sweep', lengths, perLength: Math.max(1, Math.ceil(total / lengths.length)) } };
    }
    case 'consistency':
      return { run: { kind: 'consistency' } };
    case 'sessions':
      return { run: { kind: 'sessions', ...resolveSessions(llm.sessions) } };
    case 'tools':
      return { run: { kind: 'tools' } };
    case 'standard':
      return {};
  }
}

/**
 * How the report names a tokenizer.json: its last two path segments
 * ("Qwen3-8B/tokenizer.json"), never a query string or credentials of a URL.
 */
export function tokenizerName(path: string): string {
  let pathname = path;
  try {
    pathname = new URL(path).pathname;
  } catch {
    // a local path
  }
  const parts = pathname.split(/[\\/]+/).filter((p) => p.length > 0);
  return parts.slice(-2).join('/') || 'tokenizer.json';
}

/** The tokenizer that counts what `usage` does not give, as the report names it. */
export function llmTokenizerName(llm: LlmSpec): string {
  return llm.tokenizer !== undefined ? `tokenizer.json ${tokenizerName(llm.tokenizer)}` : BUNDLED_TOKENIZER;
}

/**
 * The accumulator of an llm task's mode sections (Retries, Drift, TokenSweep,
 * Consistency, Sessions, ToolCalls). The drift span is the task's
 * `llm.driftMinRunS` when it sets one, else the controller's
 * (`--round-drift-min-run-s`), else LLM_MODE_DEFAULTS.driftMinRunS.
 */
export function llmModeAccumulator(llm: LlmSpec, controllerDriftMinRunS?: number): LlmModeAccumulator {
  return new LlmModeAccumulator({
    mode: llm.mode ?? 'standard',
    retries: llm.retries ?? 0,
    tokenizer: llmTokenizerName(llm),
    warmupRequests: llm.warmupRequests ?? DEFAULTS.llmWarmupRequests,
    dataset: llmDatasetSection(llm),
    driftMinRunS: llm.driftMinRunS ?? controllerDriftMinRunS ?? LLM_MODE_DEFAULTS.driftMinRunS,
  });
}
