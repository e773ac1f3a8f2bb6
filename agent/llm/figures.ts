import { roundTo, type LlmRequestRecord, type LlmTokenSource } from '../../src/contract';
import type { StreamTimeline } from './timeline';
import { countTokens } from './tokens';

/* A request's figures from its timeline: TTFT, E2EL, token gaps and token counts. */

/**
 * An answer longer than this (some 250,000 tokens of prose) is counted by
 * the tokenizer up to here and the rest in proportion: novel text costs the
 * tokenizer about 1 ms a KB, and a service that writes megabytes must not
 * pin the agent. Real answers are counted whole.
 */
export const COUNT_EXACT_CHARS = 1024 * 1024;
/**
 * Token gaps one record carries at the most (a JSON of some 3 MB): an answer
 * of millions of tokens once made a second's records larger than a frame.
 * The rest are left out and counted in `itlLeftOut`.
 */
export const MAX_RECORD_ITL = 262_144;

/** Tokens of an answer: counted whole up to COUNT_EXACT_CHARS, past it the head's count in proportion. */
function countAnswer(text: string): number {
  if (text.length <= COUNT_EXACT_CHARS) return countTokens(text);
  let end = COUNT_EXACT_CHARS;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end++;
  return Math.round((countTokens(text.slice(0, end)) * text.length) / end);
}

/**
 * Turns a timeline into the request's figures (SPEC 6): TTFT from the first
 * content chunk, E2EL to the last one, ITL between chunks (a chunk of k tokens
 * counts k gaps of gap/k, at most MAX_RECORD_ITL of them), tokens from `usage`
 * (unless one of its values was not a token count) or else the tokenizer.
 */
export function measure(
  timeline: StreamTimeline,
  sendMs: number,
  endMs: number,
  promptTokens: number,
): Pick<LlmRequestRecord, 'ttftMs' | 'e2elMs' | 'itlMs' | 'inputTokens' | 'outputTokens' | 'tokenSource' | 'itlLeftOut'> {
  const times = timeline.chunkTimesMs;
  const texts = timeline.chunkTexts;
  const usable = timeline.badUsage === null;
  const usagePrompt = usable ? timeline.usagePrompt : null;
  const usageCompletion = usable ? timeline.usageCompletion : null;
  const tokenSource: LlmTokenSource = usageCompletion !== null && usagePrompt !== null ? 'usage' : 'tokenizer';
  let chars = 0;
  for (const text of texts) chars += text.length;
  let counted: number | null = null;
  const tokenizerCount = (): number => (counted ??= countAnswer(texts.join('')));
  const outputTokens = usageCompletion ?? tokenizerCount();
  const inputTokens = usagePrompt ?? promptTokens;
  // Tokens per chunk: one each when the counts agree (the usual server), else the tokenizer's count
  // (in proportion past COUNT_EXACT_CHARS, where the answer was not counted whole either).
  const oneEach = outputTokens === times.length;
  const perChar = !oneEach && chars > COUNT_EXACT_CHARS ? tokenizerCount() / chars : 0;
  const itlMs: number[] = [];
  let itlLeftOut = 0;
  for (let i = 1; i < times.length; i++) {
    const k = oneEach ? 1 : Math.max(1, perChar > 0 ? Math.round(texts[i].length * perChar) : countTokens(texts[i]));
    const gap = roundTo((times[i] - times[i - 1]) / k, 3);
    const kept = Math.min(k, MAX_RECORD_ITL - itlMs.length);
    for (let j = 0; j < kept; j++) itlMs.push(gap);
    itlLeftOut += k - kept;
  }
  return {
    ttftMs: times.length > 0 ? roundTo(times[0] - sendMs, 3) : null,
    e2elMs: roundTo((times.length > 0 ? times[times.length - 1] : endMs) - sendMs, 3),
    itlMs,
    inputTokens,
    outputTokens,
    tokenSource,
    ...(itlLeftOut > 0 ? { itlLeftOut } : {}),
  };
}
