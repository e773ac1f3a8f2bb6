import { TRACE_LIMITS, type LlmPromptSource, type LlmRecordTags, type LlmWork, type TraceRecord } from '../../src/contract';
import { SeededRandom } from './prng';
import { countTokens, PROMPT_WORDS, TWO_TOKENS_LEADING } from './tokens';

/** One request ready to send: the JSON body and what the agent knows of its prompt. */
export interface PreparedLlmRequest {
  body: Buffer;
  /** Tokens of the prompt text by the agent's tokenizer (used when the server sends no usage). */
  promptTokens: number;
  /** What the run mode records with the request (prompt length, session and turn). */
  tags?: LlmRecordTags;
  /** The body offers tools: the record says whether the answer called one and it parsed. */
  offersTools?: boolean;
  /** Called once the request is recorded, with the generated text (null when it failed): a session's next turn. */
  onAnswer?(answer: string | null): void;
}

/** Where the client takes its next request from. */
export interface RequestSource {
  next(): PreparedLlmRequest;
}

/**
 * llm.mode tools without tools of its own: one function, as in OpenAI's
 * documentation, so a model that can call tools has one to call.
 */
export const DEFAULT_TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Get the current weather in a given city',
      parameters: { type: 'object', properties: { city: { type: 'string', description: 'City name, e.g. Hangzhou' } }, required: ['city'] },
    },
  },
];

/** The seed of prompt `index` of a synthetic dataset: prompts are the same whichever agent sends them. */
function promptSeed(seed: number, index: number): number {
  return (Math.imul(index + 1, 0x9e3779b1) ^ seed) >>> 0;
}

/** The seed of shared block `id` (a trace's hash id, a prefix's number): the same words wherever the block is used. */
function blockSeed(seed: number, id: number): number {
  return (Math.imul(id + 1, 0x85ebca6b) ^ Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2f)) >>> 0;
}

/** Appends `count` seeded words to `words`: each one token and space-led, so any run of them is that many tokens. */
function pushWords(words: string[], count: number, random: SeededRandom): void {
  for (let i = 0; i < count; i++) words.push(PROMPT_WORDS[random.int(0, PROMPT_WORDS.length - 1)]);
}

/**
 * The words as one prompt. No leading space: servers often strip it. A first
 * word that would be two tokens without its space is sent as `people`, so
 * the word count stays the token count.
 */
function promptText(words: string[]): string {
  if (words.length > 0 && TWO_TOKENS_LEADING.has(words[0])) words[0] = ' people';
  return words.join('').slice(1);
}

/** A prompt of exactly `tokens` tokens (bundled tokenizer), from the seeded word list. */
export function syntheticPrompt(tokens: number, random: SeededRandom): string {
  const words: string[] = [];
  pushWords(words, tokens, random);
  return promptText(words);
}

/**
 * A trace record's prompt: its own text, or `inputTokens` words: first its
 * Mooncake blocks (512 words each, the last cut to the length), so records
 * that share leading hash ids share that prefix, then words of its own.
 */
function tracePrompt(source: Extract<LlmPromptSource, { kind: 'trace' }>, record: TraceRecord, index: number): { prompt: string; promptTokens: number } {
  if (record.prompt !== undefined) return { prompt: record.prompt, promptTokens: countTokens(record.prompt) };
  const total = Math.max(1, record.inputTokens ?? 1);
  const words: string[] = [];
  for (const id of record.hashIds ?? []) {
    if (words.length >= total) break;
    pushWords(words, Math.min(TRACE_LIMITS.blockTokens, total - words.length), new SeededRandom(blockSeed(source.seed, id)));
  }
  pushWords(words, total - words.length, new SeededRandom(promptSeed(source.seed, index)));
  return { prompt: promptText(words), promptTokens: total };
}

export function messagesText(value: unknown): string {
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
export class PromptSource implements RequestSource {
  private k = 0;

  constructor(private readonly work: LlmWork, private readonly agentIndex: number, private readonly agentCount: number) {}

  /**
   * Goes on from this agent's `sent`-th entry when that is further on (a
   * trace lane taken over mid-round); returns where the source stands, in
   * entries of this agent.
   */
  startAt(sent: number): number {
    this.k = Math.max(this.k, sent);
    return this.k;
  }

  next(): PreparedLlmRequest {
    const index = this.agentIndex + this.k * this.agentCount;
    this.k++;
    return requestFor(this.work, index);
  }
}

/** Dataset entry `index` as the run mode sends it: token-sweep sets the prompt length, consistency always sends entry 0. */
export function requestFor(work: LlmWork, index: number): PreparedLlmRequest {
  const run = work.run;
  if (run?.kind === 'consistency') return buildRequest(work, work.source, 0);
  if (run?.kind === 'token-sweep' && work.source.kind === 'synthetic') {
    const length = run.lengths[Math.min(run.lengths.length - 1, Math.floor(index / run.perLength))];
    return { ...buildRequest(work, { ...work.source, inputTokens: [length, length] }, index), tags: { promptLength: length } };
  }
  return buildRequest(work, work.source, index);
}

/** A prompt text of dataset entry `index` (synthetic or ShareGPT) and the max_tokens to ask for. */
export function promptFor(work: LlmWork, source: Exclude<LlmPromptSource, { kind: 'bodies' }>, index: number): { prompt: string; promptTokens: number; maxTokens: number | null } {
  if (source.kind === 'synthetic') {
    const random = new SeededRandom(promptSeed(source.seed, index));
    const promptTokens = random.int(source.inputTokens[0], source.inputTokens[1]);
    const maxTokens = random.int(source.outputTokens[0], source.outputTokens[1]);
    return { prompt: syntheticPrompt(promptTokens, random), promptTokens, maxTokens };
  }
  if (source.kind === 'trace') {
    const record = source.records[index % source.records.length];
    return { ...tracePrompt(source, record, index), maxTokens: record.outputTokens ?? work.maxTokens };
  }
  if (source.kind === 'prefix') {
    // prefix k mod N, the same words in every prompt that has it; then a suffix seeded by the prompt's own index
    const random = new SeededRandom(promptSeed(source.seed, index));
    const maxTokens = random.int(source.outputTokens[0], source.outputTokens[1]);
    const words: string[] = [];
    pushWords(words, source.prefixTokens, new SeededRandom(blockSeed(source.seed, index % source.prefixCount)));
    pushWords(words, source.suffixTokens, random);
    return { prompt: promptText(words), promptTokens: source.prefixTokens + source.suffixTokens, maxTokens };
  }
  const prompt = source.prompts[index % source.prompts.length];
  return { prompt, promptTokens: countTokens(prompt), maxTokens: work.maxTokens };
}

/** The streamed body of a chat or completions request with a prompt (or a conversation). */
export function streamedBody(work: LlmWork, input: { messages: unknown[] } | { prompt: string }, maxTokens: number | null): Record<string, unknown> {
  const body: Record<string, unknown> = { model: work.model, ...input, stream: true, stream_options: { include_usage: true } };
  if (maxTokens !== null) body.max_tokens = maxTokens;
  if (work.ignoreEos) body.ignore_eos = true;
  if (work.run?.kind === 'tools') body.tools = DEFAULT_TOOLS;
  return body;
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
    if (work.run?.kind === 'tools' && full.tools === undefined) full.tools = DEFAULT_TOOLS;
    const promptText = typeof body.prompt === 'string' ? body.prompt : messagesText(body.messages);
    return { body: Buffer.from(JSON.stringify(full)), promptTokens: countTokens(promptText), offersTools: Array.isArray(full.tools) };
  }
  const { prompt, promptTokens, maxTokens } = promptFor(work, source, index);
  const body = streamedBody(work, work.api === 'chat' ? { messages: [{ role: 'user', content: prompt }] } : { prompt }, maxTokens);
  return { body: Buffer.from(JSON.stringify(body)), promptTokens, offersTools: Array.isArray(body.tools) };
}
