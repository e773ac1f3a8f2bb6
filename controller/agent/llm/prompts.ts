import type { LlmPromptSource, LlmWork } from '../../../src/contract';
import { SeededRandom } from './prng';
import { countTokens, PROMPT_WORDS } from './tokens';

/** One request ready to send: the JSON body and what the agent knows of its prompt. */
export interface PreparedLlmRequest {
  body: Buffer;
  /** Tokens of the prompt text by the bundled tokenizer (used when the server sends no usage). */
  promptTokens: number;
}

/** The seed of prompt `index` of a synthetic dataset: prompts are the same whichever agent sends them. */
function promptSeed(seed: number, index: number): number {
  return (Math.imul(index + 1, 0x9e3779b1) ^ seed) >>> 0;
}

/** A prompt of exactly `tokens` tokens (bundled tokenizer), from the seeded word list. */
export function syntheticPrompt(tokens: number, random: SeededRandom): string {
  const words = new Array<string>(tokens);
  for (let i = 0; i < tokens; i++) words[i] = PROMPT_WORDS[random.int(0, PROMPT_WORDS.length - 1)];
  // No leading space: servers often strip it, and the word count stays the token count.
  return words.join('').slice(1);
}

function messagesText(value: unknown): string {
  if (!Array.isArray(value)) return '';
  return value
    .map((m: unknown) => {
      const content = (m as { content?: unknown } | null)?.content;
      if (typeof content === 'string') return content;
      if (Array.isArray(content)) return content.map((part: unknown) => (part as { text?: unknown } | null)?.text).filter((t): t is string => typeof t === 'string').join('');
      return '';
    })
    .join('\n');
}

/**
 * Builds the requests of one agent: request k of agent i of n is dataset
 * entry i + k*n, so agents spread over the data and a synthetic dataset is
 * the same for a given seed whatever the number of agents.
 */
export class PromptSource {
  private k = 0;

  constructor(private readonly work: LlmWork, private readonly agentIndex: number, private readonly agentCount: number) {}

  next(): PreparedLlmRequest {
    const index = this.agentIndex + this.k * this.agentCount;
    this.k++;
    return buildRequest(this.work, this.work.source, index);
  }
}

export function buildRequest(work: LlmWork, source: LlmPromptSource, index: number): PreparedLlmRequest {
  if (source.kind === 'bodies') {
    const text = source.bodies[index % source.bodies.length];
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { prompt: text };
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) body = { prompt: text };
    // Used as given, except that the request must stream and report usage.
    const full: Record<string, unknown> = { model: work.model, ...body, stream: true };
    full.stream_options = { ...(typeof body.stream_options === 'object' && body.stream_options ? body.stream_options : {}), include_usage: true };
    if (work.ignoreEos && full.ignore_eos === undefined) full.ignore_eos = true;
    const promptText = typeof body.prompt === 'string' ? body.prompt : messagesText(body.messages);
    return { body: Buffer.from(JSON.stringify(full)), promptTokens: countTokens(promptText) };
  }
  let prompt: string;
  let promptTokens: number;
  let maxTokens = work.maxTokens;
  if (source.kind === 'synthetic') {
    const random = new SeededRandom(promptSeed(source.seed, index));
    promptTokens = random.int(source.inputTokens[0], source.inputTokens[1]);
    maxTokens = random.int(source.outputTokens[0], source.outputTokens[1]);
    prompt = syntheticPrompt(promptTokens, random);
  } else {
    prompt = source.prompts[index % source.prompts.length];
    promptTokens = countTokens(prompt);
  }
  const body: Record<string, unknown> = { model: work.model };
  if (work.api === 'chat') body.messages = [{ role: 'user', content: prompt }];
  else body.prompt = prompt;
  body.stream = true;
  body.stream_options = { include_usage: true };
  if (maxTokens !== null) body.max_tokens = maxTokens;
  if (work.ignoreEos) body.ignore_eos = true;
  return { body: Buffer.from(JSON.stringify(body)), promptTokens };
}
