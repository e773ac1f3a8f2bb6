import type { LlmRequestRecord } from '../../src/contract';
import { measure } from '../../agent/llm/figures';
import { applyEvent, emptyTimeline } from '../../agent/llm/timeline';
import { arrivalTimesS } from '../../agent/llm/prng';
import { buildRequest } from '../../agent/llm/prompts';
import { SseEvent, SseParser } from '../../agent/llm/sse';
import { countTokens, loadTokenizer } from '../../agent/llm/tokens';
import { computeLlmResult, itlMs, percentile, stableRecords, steadyStage, tpotMs } from '../../controller/metrics/llm/result';
import { llmUrl, sharegptPrompts } from '../../controller/tasks/prepare';

beforeAll(async () => {
  await loadTokenizer();
});

function parseAll(bytes: Buffer, cuts: number[]): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...parser.feed(bytes.subarray(start, cut)));
    start = cut;
  }
  events.push(...parser.end());
  return events;
}

describe('SSE parser', () => {
  const stream = Buffer.from(
    ': keep-alive comment\r\n\r\n' +
      'data: {"choices":[{"delta":{"content":"héllo 你好 🙂"}}]}\n\n' +
      'data:{"choices":[{"delta":{"content":"no space"}}]}\r\n\r\n' +
      'event: error\ndata: {"error":{"message":"boom","code":503}}\n\n' +
      'data: line one\ndata: line two\r\r' +
      'data: [DONE]\n\n',
    'utf8',
  );
  const whole = parseAll(stream, []);

  test('reads comments, data with and without a space, CR/LF/CRLF, multi-line data, error events and [DONE]', () => {
    expect(whole).toEqual([
      { event: 'message', data: '{"choices":[{"delta":{"content":"héllo 你好 🙂"}}]}' },
      { event: 'message', data: '{"choices":[{"delta":{"content":"no space"}}]}' },
      { event: 'error', data: '{"error":{"message":"boom","code":503}}' },
      { event: 'message', data: 'line one\nline two' },
      { event: 'message', data: '[DONE]' },
    ]);
  });

  test('gives the same events when the stream is split at every byte boundary (inside UTF-8 characters too)', () => {
    for (let cut = 1; cut < stream.length; cut++) expect(parseAll(stream, [cut])).toEqual(whole);
    // and one byte at a time
    expect(parseAll(stream, Array.from({ length: stream.length - 1 }, (_, i) => i + 1))).toEqual(whole);
  });

  test('an event not closed by a blank line still counts at the end of the stream', () => {
    expect(parseAll(Buffer.from('data: last'), [])).toEqual([{ event: 'message', data: 'last' }]);
  });
});

describe('stream timeline', () => {
  test('TTFT skips role-only chunks; reasoning content counts; an error event fails the request', () => {
    const t = emptyTimeline();
    applyEvent(t, { event: 'message', data: '{"choices":[{"delta":{"role":"assistant","content":""}}]}' }, 5);
    applyEvent(t, { event: 'message', data: '{"choices":[{"delta":{"reasoning_content":"think"}}]}' }, 10);
    applyEvent(t, { event: 'message', data: '{"choices":[{"text":" a"}]}' }, 20);
    expect(t.chunkTimesMs).toEqual([10, 20]);
    applyEvent(t, { event: 'error', data: '{"error":{"message":"overloaded","code":503}}' }, 30);
    expect(t.error).toBe('overloaded');
    expect(t.errorStatus).toBe(503);
  });

  test('ITL: a chunk carrying k tokens counts as k gaps of gap/k; TPOT from E2EL and TTFT', () => {
    const t = emptyTimeline();
    // first token at 100 ms, then chunks of 1, 3 and 2 tokens
    applyEvent(t, { event: 'message', data: '{"choices":[{"text":" hello"}]}' }, 100);
    applyEvent(t, { event: 'message', data: '{"choices":[{"text":" hello"}]}' }, 110);
    applyEvent(t, { event: 'message', data: '{"choices":[{"text":" hello hello hello"}]}' }, 140);
    applyEvent(t, { event: 'message', data: '{"choices":[{"text":" hello hello"}]}' }, 160);
    applyEvent(t, { event: 'message', data: '{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7}}' }, 161);
    const m = measure(t, 0, 165, 99);
    expect(m).toMatchObject({ ttftMs: 100, e2elMs: 160, inputTokens: 12, outputTokens: 7, tokenSource: 'usage' });
    expect(m.itlMs).toEqual([10, 10, 10, 10, 10, 10]);
    const record = { ...m, success: true } as LlmRequestRecord;
    expect(tpotMs(record)).toBe(10);
    expect(itlMs(record)).toBe(10);
  });

  test('without usage, tokens come from the bundled tokenizer', () => {
    const t = emptyTimeline();
    applyEvent(t, { event: 'message', data: '{"choices":[{"delta":{"content":" hello hello"}}]}' }, 50);
    applyEvent(t, { event: 'message', data: '[DONE]' }, 51);
    const m = measure(t, 0, 51, 42);
    expect(m).toMatchObject({ outputTokens: 2, inputTokens: 42, tokenSource: 'tokenizer' });
  });
});

describe('rate mode schedule', () => {
  test('same seed gives the same send times; another seed does not', () => {
    expect(arrivalTimesS(5, 1, 42, 200)).toEqual(arrivalTimesS(5, 1, 42, 200));
    expect(arrivalTimesS(5, 1, 43, 200)).not.toEqual(arrivalTimesS(5, 1, 42, 200));
  });

  test.each([0.1, 0.5, 1, 4, 50])('mean interval is 1/rate (burstiness %p)', (burstiness) => {
    const n = 20000;
    const times = arrivalTimesS(8, burstiness, 7, n + 1);
    const mean = times[n] / n;
    expect(Math.abs(mean - 1 / 8) / (1 / 8)).toBeLessThan(0.05);
  });

  test('higher burstiness is more regular', () => {
    const cv = (b: number): number => {
      const t = arrivalTimesS(10, b, 1, 5001);
      const gaps = t.slice(1).map((v, i) => v - t[i]);
      const m = gaps.reduce((s, g) => s + g, 0) / gaps.length;
      return Math.sqrt(gaps.reduce((s, g) => s + (g - m) ** 2, 0) / gaps.length) / m;
    };
    expect(cv(1)).toBeGreaterThan(0.9);
    expect(cv(1)).toBeLessThan(1.1);
    expect(cv(100)).toBeLessThan(0.2);
  });
});

describe('datasets', () => {
  test('synthetic prompts have exactly the drawn number of tokens and ask for the drawn output length', () => {
    const work = { api: 'chat' as const, model: 'm', ignoreEos: true, maxTokens: null, source: { kind: 'synthetic' as const, inputTokens: [10, 300] as [number, number], outputTokens: [20, 40] as [number, number], seed: 9 } };
    for (let i = 0; i < 30; i++) {
      const prepared = buildRequest(work, work.source, i);
      const body = JSON.parse(prepared.body.toString()) as { messages: { content: string }[]; max_tokens: number; ignore_eos: boolean; stream: boolean; stream_options: unknown };
      expect(countTokens(body.messages[0].content)).toBe(prepared.promptTokens);
      expect(prepared.promptTokens).toBeGreaterThanOrEqual(10);
      expect(prepared.promptTokens).toBeLessThanOrEqual(300);
      expect(body.max_tokens).toBeGreaterThanOrEqual(20);
      expect(body).toMatchObject({ ignore_eos: true, stream: true, stream_options: { include_usage: true } });
      expect(buildRequest(work, work.source, i).body.equals(prepared.body)).toBe(true);
    }
  });

  test('custom bodies are used as given, with streaming forced on', () => {
    const work = { api: 'completions' as const, model: 'm', ignoreEos: false, maxTokens: null, source: { kind: 'bodies' as const, bodies: ['{"model":"x","prompt":"hi","stream":false,"temperature":0}'] } };
    const body = JSON.parse(buildRequest(work, work.source, 0).body.toString()) as Record<string, unknown>;
    expect(body).toEqual({ model: 'x', prompt: 'hi', stream: true, temperature: 0, stream_options: { include_usage: true } });
  });

  test('ShareGPT: the first human turn of each conversation', () => {
    const doc = JSON.stringify([
      { conversations: [{ from: 'system', value: 's' }, { from: 'human', value: 'q1' }, { from: 'gpt', value: 'a1' }] },
      { conversations: [{ from: 'gpt', value: 'only a reply' }] },
      { messages: [{ role: 'user', content: 'q2' }] },
    ]);
    expect(sharegptPrompts(doc, 'x.json')).toEqual(['q1', 'q2']);
  });

  test('the endpoint is the service URL plus the API path', () => {
    expect(llmUrl('http://h:1/api/predict/demo', 'chat')).toBe('http://h:1/api/predict/demo/v1/chat/completions');
    expect(llmUrl('http://h:1/', 'completions')).toBe('http://h:1/v1/completions');
    expect(llmUrl('http://h:1/v1/chat/completions', 'chat')).toBe('http://h:1/v1/chat/completions');
  });
});

function rec(sendMs: number, endMs: number, extra: Partial<LlmRequestRecord> = {}): LlmRequestRecord {
  return { agent: 0, seq: 0, sendMs, endMs, ttftMs: 10, e2elMs: endMs - sendMs, itlMs: [5], inputTokens: 100, outputTokens: 10, tokenSource: 'usage', success: true, status: 200, ...extra };
}

describe('steady stage (AISBench stable stage)', () => {
  test('matches a hand-computed example', () => {
    // in flight: A 0-100, B 10-60, C 20-90, D 60-150 (sent as B ends), E 95-130, F 140-200
    // counts: 1@0, 2@10, 3@20 (max reached: t2 = 20), B ends & D sent @60 (stays 3), C ends @90 -> 2,
    // E @95 -> 3, A ends @100 -> 2 (last moment at max: t4 = 100), E ends 130, F 140, D ends 150.
    const records = [rec(0, 100), rec(10, 60), rec(20, 90), rec(60, 150), rec(95, 130), rec(140, 200)];
    const stage = steadyStage(records);
    expect(stage).toEqual({ startMs: 20, endMs: 100, maxConcurrency: 3 });
    expect(stableRecords(records, stage).map((r) => r.sendMs)).toEqual([20, 60, 95]);
    // 80 ms is no reliable stage (under the minimum, and E2EL reaches 100 ms): shown only when asked for
    expect(computeLlmResult(records).StableAbsent).toMatch(/^steady stage not shown: it lasted 80 ms/);
    const result = computeLlmResult(records, undefined, undefined, stage);
    expect(result.Stable?.E2EL.N).toBe(3);
    expect(result.StableCommon).toMatchObject({ BenchmarkDuration: 80, TotalRequests: 3, MaxConcurrency: 3 });
    expect(result.Common).toMatchObject({ BenchmarkDuration: 200, TotalRequests: 6, SuccessRequests: 6, MaxConcurrency: 3 });
    // 100 input tokens and 10 ms of TTFT each, in both stages
    expect(result.Common.PrefillTokenThroughput).toBe(10000);
    expect(result.StableCommon?.PrefillTokenThroughput).toBe(10000);
  });
});

describe('LLM metrics', () => {
  test('percentiles interpolate like numpy', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5], 90)).toBeCloseTo(4.6);
  });

  test('TPOT only for more than one output token; failed requests count in Failed, not in the tables; goodput uses every given SLO', () => {
    const records = [
      rec(0, 1000, { ttftMs: 100, e2elMs: 1000, outputTokens: 10 }), // TPOT 100
      rec(0, 1000, { ttftMs: 300, e2elMs: 1000, outputTokens: 8 }), // TPOT 100, misses ttft slo
      rec(0, 500, { ttftMs: 500, e2elMs: 500, outputTokens: 1 }), // no TPOT
      rec(0, 200, { success: false, status: 500, ttftMs: null, e2elMs: null, outputTokens: 0 }),
    ];
    const result = computeLlmResult(records, { ttft: 200 });
    expect(result.Total.TPOT).toMatchObject({ Average: 100, N: 2 });
    expect(result.Total.TTFT.N).toBe(3);
    expect(result.Total.OutputTokenThroughput.Max).toBe(10);
    expect(result.Common).toMatchObject({ TotalRequests: 4, FailedRequests: 1, SuccessRequests: 3, TotalGeneratedTokens: 19, TotalInputTokens: 300, BenchmarkDuration: 1000, RequestThroughput: 3, OutputTokenThroughput: 19, Goodput: 1 });
    expect(result.TokenSource).toBe('usage');
  });

  test('PrefillTokenThroughput (AISBench): input tokens of the successful requests / the sum of their TTFT in seconds', () => {
    const records = [
      rec(0, 900, { inputTokens: 1000, ttftMs: 120 }),
      rec(0, 900, { inputTokens: 500, ttftMs: 80 }),
      rec(0, 900, { inputTokens: 250, ttftMs: 100 }),
      rec(0, 300, { inputTokens: 4000, success: false, status: 503, ttftMs: null, e2elMs: null, outputTokens: 0 }), // failed: counts in neither sum
    ];
    const common = computeLlmResult(records).Common;
    // 1750 tokens / 0.3 s = 5833.33333...; rounded to 4 decimals like every common metric
    expect(common).toMatchObject({ TotalInputTokens: 1750, PrefillTokenThroughput: 5833.3333 });
    // per duration instead: 1750 tokens in 0.9 s
    expect(common.InputTokenThroughput).toBe(1944.4444);
    // the total stage of AISBench's documented example: 8 requests, 12100 input tokens, TTFT 2006.0 ms on average
    // (2006.01 each) -> its table's 753.9843 token/s
    const aisbench = Array.from({ length: 8 }, (_, i) => rec(0, 12300, { inputTokens: i < 4 ? 1512 : 1513, ttftMs: 2006.01 }));
    expect(computeLlmResult(aisbench).Common).toMatchObject({ TotalInputTokens: 12100, PrefillTokenThroughput: 753.9843 });
    // no successful request: 0, not a division by zero
    expect(computeLlmResult([records[3]]).Common.PrefillTokenThroughput).toBe(0);
  });
});
