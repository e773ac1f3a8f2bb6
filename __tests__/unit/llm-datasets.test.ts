import { encode } from 'gpt-tokenizer';
import { readTrace } from '../../controller/tasks/llm-trace';
import { promptFor, syntheticPrompt } from '../../agent/llm/prompts';
import { SeededRandom } from '../../agent/llm/prng';
import { loadTokenizer, PROMPT_WORDS, TWO_TOKENS_LEADING } from '../../agent/llm/tokens';
import { llmModeSummary } from '../../src/output/llm-mode-summary';
import { BenchError, llmDatasetSection, isLlmWork, TRACE_LIMITS, validateTask, type LlmWork } from '../../src/contract';

const task = (llm: Record<string, unknown>) => ({ service: { serviceName: 's', url: 'http://127.0.0.1:1/' }, llm: { api: 'chat', model: 'm', ...llm } });

function fieldsOf(llm: Record<string, unknown>): string[] {
  const result = validateTask(task(llm));
  return result.ok ? [] : result.errors.map((e) => e.field);
}

const trace = { type: 'trace', path: '/data/t.jsonl' } as const;

function traceError(fn: () => unknown): BenchError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BenchError);
    return err as BenchError;
  }
  throw new Error('no error');
}

describe('trace and prefix datasets: validation', () => {
  test('a trace runs in rate mode without a rate, a count or burstiness of its own', () => {
    expect(fieldsOf({ testMode: 'rate', dataset: trace })).toEqual([]);
    expect(fieldsOf({ testMode: 'rate', maxConcurrency: 4, dataset: { ...trace, speed: 2, format: 'csv', outputLength: 64 } })).toEqual([]);
    expect(fieldsOf({ testMode: 'concurrency', dataset: trace })).toEqual(['llm.testMode']);
    expect(fieldsOf({ testMode: 'rate', requestRate: 5, requestCount: 100, burstiness: 1, continuous: true, dataset: trace }).sort()).toEqual(['llm.burstiness', 'llm.continuous', 'llm.requestCount', 'llm.requestRate']);
    expect(fieldsOf({ testMode: 'rate', dataset: { type: 'trace' } })).toEqual(['llm.dataset.path']);
    expect(fieldsOf({ testMode: 'rate', dataset: { ...trace, speed: 0 } })).toEqual(['llm.dataset.speed']);
    expect(fieldsOf({ testMode: 'rate', mode: 'sessions', dataset: trace })).toContain('llm.mode');
  });

  test('a prefix dataset needs its three numbers, within their bounds; fields of other datasets are named', () => {
    const prefix = { type: 'prefix', prefixCount: 4, prefixTokens: 512, suffixTokens: 64 };
    expect(fieldsOf({ testMode: 'concurrency', dataset: { ...prefix, outputTokens: [32, 64] } })).toEqual([]);
    expect(fieldsOf({ testMode: 'concurrency', dataset: { type: 'prefix', prefixCount: 4 } }).sort()).toEqual(['llm.dataset.prefixTokens', 'llm.dataset.suffixTokens']);
    expect(fieldsOf({ testMode: 'concurrency', dataset: { ...prefix, prefixCount: 0 } })).toEqual(['llm.dataset.prefixCount']);
    expect(fieldsOf({ testMode: 'concurrency', dataset: { ...prefix, inputTokens: [10, 10], speed: 2 } }).sort()).toEqual(['llm.dataset.inputTokens', 'llm.dataset.speed']);
    expect(fieldsOf({ testMode: 'concurrency', dataset: { type: 'synthetic', prefixCount: 2 } })).toEqual(['llm.dataset.prefixCount']);
  });
});

describe('readTrace', () => {
  test('JSONL in the Mooncake layout: sorted by timestamp, offsets from the first over speed, lengths and blocks kept', () => {
    const text = ['{"timestamp": 1500, "input_length": 30, "output_length": 5, "hash_ids": [1, 2]}', '', '{"timestamp": 1600, "input_text": "from AISBench", "input_length": 99, "hash_ids": [3]}', '{"timestamp": 1000, "prompt": "hi there", "output_length": 0}', '{"timestamp": 1500, "input_length": 0}'].join('\n');
    const { records, spanMs } = readTrace(text, { ...trace, speed: 2 }, 30);
    expect(records).toEqual([
      { atMs: 0, prompt: 'hi there', outputTokens: 1 },
      { atMs: 250, inputTokens: 30, outputTokens: 5, hashIds: [1, 2] },
      { atMs: 250, inputTokens: 1 },
      { atMs: 300, prompt: 'from AISBench' },
    ]);
    expect(spanMs).toBe(300);
  });

  test("BurstGPT's CSV: Timestamp in seconds, the token columns by name", () => {
    const text = 'Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n5,ChatGPT,472,18,490,Conversation log\n5.25,GPT-4,1087,0,1087,API log\n';
    const { records } = readTrace(text, { type: 'trace', path: 'BurstGPT_1.csv' }, 30);
    expect(records).toEqual([
      { atMs: 0, inputTokens: 472, outputTokens: 18 },
      { atMs: 250, inputTokens: 1087, outputTokens: 1 },
    ]);
  });

  test('refusals name the source, the line and what is wrong', () => {
    const bad = traceError(() => readTrace('{"timestamp": 1, "input_length": 3}\n{"timestamp": "x", "input_length": 3}', trace, 30));
    expect(bad).toMatchObject({ code: 'DataSourceFailed', field: 'llm.dataset.path', resource: '/data/t.jsonl' });
    expect(bad.message).toBe('llm.dataset.path /data/t.jsonl line 2: timestamp must be a number >= 0, got "x"');
    expect(traceError(() => readTrace('{"timestamp": 1}', trace, 30)).message).toMatch(/line 1: needs input_length, input_text or prompt/);
    expect(traceError(() => readTrace('{"input_length": 5}', trace, 30)).message).toMatch(/line 1: timestamp must be a number >= 0, got undefined/);
    expect(traceError(() => readTrace('not json', trace, 30)).message).toMatch(/line 1: not valid JSON/);
    expect(traceError(() => readTrace(`{"timestamp": 1, "input_length": ${TRACE_LIMITS.maxTokens + 1}}`, trace, 30)).message).toMatch(/over 100000 tokens/);
    expect(traceError(() => readTrace('\n\n', trace, 30)).message).toMatch(/no record/);
    expect(traceError(() => readTrace('Time,Request tokens,Response tokens\n1,2,3', { type: 'trace', path: 'b.csv' }, 30)).message).toMatch(/no "Timestamp" column/);
    const many = Array.from({ length: TRACE_LIMITS.maxRecords + 1 }, (_, i) => `{"timestamp": ${i}, "input_length": 1}`).join('\n');
    expect(traceError(() => readTrace(many, trace, 300)).message).toMatch(/line 100001: more than 100000 records/);
    const long = traceError(() => readTrace('{"timestamp": 0, "input_length": 1}\n{"timestamp": 31000, "input_length": 1}', trace, 30));
    expect(long).toMatchObject({ code: 'InvalidField', field: 'llm.duration' });
    expect(long.message).toMatch(/spans 31.000 s at speed 1 from 0.1 s into the round, not ending before llm.duration \(30 s\)/);
    expect(traceError(() => readTrace('{"timestamp": 0, "input_length": 1}\n{"timestamp": 30000, "input_length": 1}', trace, 30)).field).toBe('llm.duration');
    // the trace starts 100 ms in: its last record must be due before the duration from there
    expect(traceError(() => readTrace('{"timestamp": 0, "input_length": 1}\n{"timestamp": 29900, "input_length": 1}', trace, 30)).field).toBe('llm.duration');
    expect(readTrace('{"timestamp": 0, "input_length": 1}\n{"timestamp": 29899, "input_length": 1}', trace, 30).spanMs).toBe(29899);
    expect(readTrace('{"timestamp": 0, "input_length": 1}\n{"timestamp": 31000, "input_length": 1}', { ...trace, speed: 2 }, 30).spanMs).toBe(15500);
  });
});

describe('prompts of the trace and prefix datasets', () => {
  beforeAll(() => loadTokenizer());
  const base: Omit<LlmWork, 'source'> = { api: 'chat', model: 'm', ignoreEos: false, maxTokens: 77 };

  test('TWO_TOKENS_LEADING is exactly the prompt words that are two tokens without their space', () => {
    expect(new Set(PROMPT_WORDS.filter((w) => encode(w.slice(1)).length !== 1))).toEqual(TWO_TOKENS_LEADING);
  });

  test('a synthetic prompt is its length in tokens whatever its first word (one started with "president", two tokens, before)', () => {
    for (let seed = 0; seed < 300; seed++) expect(encode(syntheticPrompt(20, new SeededRandom(seed)))).toHaveLength(20);
  });

  test('synthesised trace prompts are their length in tokens; shared hash ids share those blocks', () => {
    const work: LlmWork = { ...base, source: { kind: 'trace', seed: 3, records: [{ atMs: 0, inputTokens: 700, hashIds: [5, 6] }, { atMs: 1, inputTokens: 520, hashIds: [5, 9], outputTokens: 8 }, { atMs: 2, prompt: 'as written' }] } };
    expect(isLlmWork(work)).toBe(true);
    const [a, b, c] = [0, 1, 2].map((i) => promptFor(work, work.source as never, i));
    expect(encode(a.prompt)).toHaveLength(700);
    expect(encode(b.prompt)).toHaveLength(520);
    expect([a.promptTokens, b.promptTokens, a.maxTokens, b.maxTokens]).toEqual([700, 520, 77, 8]);
    const words = (p: string) => p.split(' ');
    expect(words(a.prompt).slice(0, 512)).toEqual(words(b.prompt).slice(0, 512));
    expect(words(a.prompt).slice(512, 520)).not.toEqual(words(b.prompt).slice(512, 520));
    expect(c).toEqual({ prompt: 'as written', promptTokens: 2, maxTokens: 77 });
  });

  test('prefix prompts: P + S tokens, prefix k mod N the same words, max_tokens in outputTokens', () => {
    const work: LlmWork = { ...base, maxTokens: null, source: { kind: 'prefix', prefixCount: 2, prefixTokens: 40, suffixTokens: 7, outputTokens: [10, 12], seed: 0 } };
    expect(isLlmWork(work)).toBe(true);
    const prompts = [0, 1, 2, 3, 4].map((i) => promptFor(work, work.source as never, i));
    for (const p of prompts) {
      expect(encode(p.prompt)).toHaveLength(47);
      expect(p.maxTokens).toBeGreaterThanOrEqual(10);
      expect(p.maxTokens).toBeLessThanOrEqual(12);
    }
    const prefix = (i: number) => prompts[i].prompt.split(' ').slice(0, 40).join(' ');
    expect(prefix(0)).toBe(prefix(2));
    expect(prefix(0)).toBe(prefix(4));
    expect(prefix(1)).toBe(prefix(3));
    expect(prefix(0)).not.toBe(prefix(1));
    expect(new Set(prompts.map((p) => p.prompt)).size).toBe(5);
  });

  test('a trace source out of order or over the bounds is refused by the agent protocol', () => {
    expect(isLlmWork({ ...base, source: { kind: 'trace', seed: 0, records: [{ atMs: 5, inputTokens: 1 }, { atMs: 4, inputTokens: 1 }] } })).toBe(false);
    expect(isLlmWork({ ...base, source: { kind: 'trace', seed: 0, records: [{ atMs: 0 }] } })).toBe(false);
    expect(isLlmWork({ ...base, source: { kind: 'trace', seed: 0, records: [] } })).toBe(false);
    expect(isLlmWork({ ...base, source: { kind: 'prefix', prefixCount: 2, prefixTokens: 4, suffixTokens: 4, outputTokens: [1], seed: 0 } })).toBe(false);
  });
});

describe('how the result names the dataset', () => {
  test('LLM.Dataset and the summary line of a prefix and a trace run; none for the others', () => {
    const prefix = llmDatasetSection({ api: 'chat', model: 'm', testMode: 'concurrency', dataset: { type: 'prefix', prefixCount: 4, prefixTokens: 2000, suffixTokens: 100 } });
    expect(prefix).toEqual({ Type: 'prefix', PrefixCount: 4, PrefixTokens: 2000, SuffixTokens: 100, PromptTokens: 2100 });
    expect(llmModeSummary({ Dataset: prefix })).toEqual(['Dataset: 4 shared prefixes of 2000 tokens, each prompt one of them and 100 tokens of its own (2100 tokens)']);
    const replay = llmDatasetSection({ api: 'chat', model: 'm', testMode: 'rate', dataset: { type: 'trace', path: 'https://x/BurstGPT_1.csv?v=2', speed: 2 } });
    expect(replay).toEqual({ Type: 'trace', Format: 'csv', Speed: 2 });
    expect(llmModeSummary({ Dataset: replay })).toEqual(['Dataset: a CSV (BurstGPT) trace replayed at its offsets, speed 2']);
    expect(llmDatasetSection({ api: 'chat', model: 'm', testMode: 'rate', dataset: { type: 'synthetic' } })).toBeUndefined();
  });
});
