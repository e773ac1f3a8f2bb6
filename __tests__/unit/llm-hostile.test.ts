import { encode } from 'gpt-tokenizer';
import { AGENT_LIMITS, isLlmWork, parseAgentMessage, recordValueCount, validateTask, type AgentStatsFrame, type LlmRequestRecord } from '../../src/contract';
import { LlmClient } from '../../agent/llm/client';
import { COUNT_EXACT_CHARS, MAX_RECORD_ITL, measure } from '../../agent/llm/figures';
import { applyEvent, emptyTimeline } from '../../agent/llm/timeline';
import { HeldResponses, MAX_EVENT_BYTES, ResponseTooLargeError } from '../../agent/llm/response-limits';
import type { PreparedLlmRequest } from '../../agent/llm/prompts';
import { MAX_CONVERSATION_CHARS, SessionsDriver, TurnQueue } from '../../agent/llm/sessions';
import { SseParser } from '../../agent/llm/sse';
import { countTokens, loadTokenizer, MAX_RUN_CHARS, PROMPT_WORDS } from '../../agent/llm/tokens';
import { FRAME_RECORDS_BYTES, recordBytes, splitRecords, StatsRecorder } from '../../agent/stats-recorder';
import { CAUSE } from '../../agent/error-cause';
import { HostileBehaviour, startHostileService } from '../helpers/hostile-service';

/**
 * What a hostile service under test can send an LLM agent, one mechanism at
 * a time (docs/reliability.md, security): each case made the agent grow
 * without bound, pin its CPU, or send frames the controller refuses.
 */

beforeAll(async () => {
  await loadTokenizer();
});

describe('token counting', () => {
  test('normal text counts exactly as one encode of the whole, as before', () => {
    const samples = [
      'The quick brown fox jumps over the lazy dog. '.repeat(2000),
      '你好，世界。这是一个测试句子，没有空格但有标点。'.repeat(300),
      'function f(x) {\n    return x * 2; // doubled\n}\n\n'.repeat(500),
      'Prices: 1234567.89, 42, 3.14159; emoji 🙂🚀 and é à ü. '.repeat(500),
      PROMPT_WORDS.join('').repeat(20),
      `indent${' '.repeat(MAX_RUN_CHARS)}x ${'w'.repeat(MAX_RUN_CHARS)} end`,
    ];
    for (const text of samples) expect(countTokens(text)).toBe(encode(text).length);
  });

  test('a 300 KB one-word answer is counted in bounded time, about as many tokens as whole (quadratic before: 80 KB took 4 s)', () => {
    const word = 'a'.repeat(300_000);
    const started = performance.now();
    const tokens = countTokens(word);
    // generous: the old count of this word took over a minute on the same machine
    expect(performance.now() - started).toBeLessThan(3000);
    expect(tokens).toBe(37_500); // 'aaaaaaaa' is one token, sliced or not
    expect(countTokens(` ${' '.repeat(100_000)}🙂`.repeat(2))).toBeGreaterThan(0);
  });

  test('a special token written by the service is counted as text, never thrown on', () => {
    expect(countTokens('a <|endoftext|> b <|im_start|>')).toBeGreaterThan(4);
  });
});

describe('SSE parser bounds', () => {
  test('a line that never ends and an event that never ends are cut at the bound, with the class', () => {
    const line = new SseParser(1000);
    expect(() => {
      for (let i = 0; i < 20; i++) line.feed(Buffer.from('data: '.padEnd(100, 'x')));
    }).toThrow(ResponseTooLargeError);
    const event = new SseParser(1000);
    let thrown: unknown;
    try {
      for (let i = 0; i < 20; i++) event.feed(Buffer.from(`data: ${'z'.repeat(90)}\n`));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ResponseTooLargeError);
    expect((thrown as ResponseTooLargeError).errorClass).toBe('response too large');
    expect((thrown as Error).message).toBe('response too large: an SSE event over 1000 bytes');
  });

  test('complete events are not held: many of them pass any bound, and nothing stays held', () => {
    const parser = new SseParser(1000);
    let events = 0;
    for (let i = 0; i < 200; i++) events += parser.feed(Buffer.from(`data: {"choices":[{"text":"${'t'.repeat(50)}"}]}\n\n`)).length;
    expect(events).toBe(200);
    expect(parser.heldBytes).toBe(0);
  });

  test('the agent-wide bound fails the response that passes it and gives its share back', () => {
    const held = new HeldResponses(1000);
    held.change(0, 600);
    expect(() => held.change(0, 500)).toThrow(ResponseTooLargeError);
    expect(held.bytes).toBe(600);
    held.release(600);
    expect(held.bytes).toBe(0);
  });
});

describe('usage values that are no token counts', () => {
  test.each([1.5, -3, 1e308, '12', Number.MAX_SAFE_INTEGER + 2])('usage.prompt_tokens %p: ignored for the request, the tokenizer counts, the record is one the controller accepts', (bad) => {
    const t = emptyTimeline();
    applyEvent(t, { event: 'message', data: '{"choices":[{"delta":{"content":" hello"}}]}' }, 10);
    applyEvent(t, { event: 'message', data: '{"choices":[{"delta":{"content":" hello"}}]}' }, 20);
    applyEvent(t, { event: 'message', data: JSON.stringify({ choices: [], usage: { prompt_tokens: bad, completion_tokens: 2 } }) }, 21);
    expect(t.badUsage).toBe(`usage.prompt_tokens ${JSON.stringify(bad)}`);
    const m = measure(t, 0, 21, 33);
    expect(m).toMatchObject({ inputTokens: 33, outputTokens: 2, tokenSource: 'tokenizer' });
    const record: LlmRequestRecord = { agent: 0, seq: 0, sendMs: 1, endMs: 2, ttftMs: m.ttftMs, e2elMs: m.e2elMs, itlMs: m.itlMs, inputTokens: m.inputTokens, outputTokens: m.outputTokens, tokenSource: m.tokenSource, success: true, status: 200 };
    expect(typeof parseAgentMessage(JSON.stringify({ type: 'stats', frame: { ...frameOf([record]) } }))).toBe('object');
  });
});

/** A frame carrying `records`, as the recorder sends one, for the contract's parser. */
function frameOf(records: LlmRequestRecord[]): AgentStatsFrame {
  return { second: 1, requests: 0, sent: 0, statusCodes: {}, bytesIn: 0, bytesOut: 0, dropped: 0, inFlight: 0, rtHistogram: '', lagHistogram: '', totalSent: 0, eventLoopLagMs: 0, llmRecords: records };
}

describe('records larger than a frame', () => {
  test('an answer of a million tokens keeps MAX_RECORD_ITL gaps and counts the rest', () => {
    const t = emptyTimeline();
    applyEvent(t, { event: 'message', data: JSON.stringify({ choices: [{ text: ' hello' }] }) }, 10);
    applyEvent(t, { event: 'message', data: JSON.stringify({ choices: [{ text: ' a'.repeat(1_000_000) }] }) }, 1010);
    const m = measure(t, 0, 1010, 5);
    expect(m.itlMs.length).toBe(MAX_RECORD_ITL);
    expect(m.outputTokens).toBeGreaterThan(900_000);
    expect(m.itlMs.length + (m.itlLeftOut ?? 0)).toBeGreaterThan(900_000);
    expect(' a'.repeat(1_000_000).length).toBeGreaterThan(COUNT_EXACT_CHARS);
  });

  test("a second's records hold at most the values the controller admits: gaps past them are left out and counted, the frame accepted", () => {
    const frames: AgentStatsFrame[] = [];
    const recorder = new StatsRecorder({ inFlight: () => 0, totalSent: () => 24, takeConnectionWaitMaxMs: () => 0 }, (f) => frames.push(f));
    // all at one moment: the gaps' histogram takes time, and the test is about one second's records
    const now = performance.now();
    recorder.start(now);
    const itl = Array.from({ length: MAX_RECORD_ITL }, (_, i) => 10 + (i % 1000) / 1000);
    for (let seq = 0; seq < 24; seq++) {
      const r: LlmRequestRecord = { agent: 0, seq, sendMs: 1, endMs: 2, ttftMs: 1, e2elMs: 2, itlMs: itl, inputTokens: 1, outputTokens: MAX_RECORD_ITL + 1, tokenSource: 'tokenizer', success: true, status: 200 };
      recorder.response(now, 200, 1000, 10, CAUSE.none);
      recorder.llmRecord(now, r);
    }
    recorder.flush(now);
    const records = frames.flatMap((f) => f.llmRecords ?? []);
    expect(records).toHaveLength(24);
    // every gap is either kept or counted; what is kept is within the second's budget (a record itself is never dropped)
    expect(records.reduce((n, r) => n + r.itlMs.length + (r.itlLeftOut ?? 0), 0)).toBe(24 * MAX_RECORD_ITL);
    // the records may span two seconds when the loop crosses a second's end: each second on its own
    const bySecond = new Map<number, LlmRequestRecord[]>();
    for (const f of frames) bySecond.set(f.second, [...(bySecond.get(f.second) ?? []), ...(f.llmRecords ?? [])]);
    for (const held of bySecond.values()) expect(held.reduce((n, r) => n + recordValueCount(r), 0)).toBeLessThanOrEqual(AGENT_LIMITS.secondRecordValues + held.length);
    for (const frame of frames) {
      const text = JSON.stringify({ type: 'stats', frame });
      expect(Buffer.byteLength(text)).toBeLessThan(AGENT_LIMITS.frameBytes);
      expect(typeof parseAgentMessage(text)).toBe('object');
    }
    expect(frames.reduce((n, f) => n + f.requests, 0)).toBe(24);
  });

  test('records over a frame are grouped into frames that each fit, none lost, in order', () => {
    const record = (seq: number): LlmRequestRecord => ({ agent: 0, seq, sendMs: 1, endMs: 2, ttftMs: 1, e2elMs: 2, itlMs: [1, 2, 3], inputTokens: 1, outputTokens: 4, tokenSource: 'usage', success: true, status: 200 });
    const records = Array.from({ length: 100 }, (_, i) => record(i));
    const budget = recordBytes(records[0]) * 7;
    const groups = splitRecords(records, budget);
    expect(groups.length).toBeGreaterThan(10);
    for (const group of groups) expect(group.reduce((n, r) => n + recordBytes(r), 0)).toBeLessThanOrEqual(budget);
    expect(groups.flat().map((r) => r.seq)).toEqual(records.map((r) => r.seq));
    expect(FRAME_RECORDS_BYTES).toBeLessThan(AGENT_LIMITS.frameBytes);
  });
});

describe('sessions kept through think time', () => {
  /** One session of 5 turns (1 ms of thought), each answered with `answer`: the turns sent. */
  async function turnsSent(answer: string): Promise<number> {
    const queue = new TurnQueue();
    const sent: PreparedLlmRequest[] = [];
    const context = { inFlight: 0, trySend: () => (sent.push(queue.next()), true), dropped: () => undefined, sendLag: () => undefined };
    const work = { api: 'chat' as const, model: 'm', ignoreEos: false, maxTokens: null, source: { kind: 'prompts' as const, prompts: ['hi'] } };
    const run = { kind: 'sessions' as const, turns: { mu: Math.log(5), sigma: 0 }, thinkTime: { mu: Math.log(0.001), sigma: 0 }, maxTurns: 10 };
    const driver = new SessionsDriver(context, { kind: 'llm', testMode: 'rate', concurrency: 1, ratePerS: 0.001, maxInFlight: null, burstiness: 1, seed: 1 }, work, run, queue, 0, 1);
    driver.start();
    for (let i = 0; i < sent.length && i < 10; i++) {
      sent[i].onAnswer?.(answer);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    driver.stop();
    return sent.length;
  }

  test('a conversation past MAX_CONVERSATION_CHARS ends its session; short answers go the whole way', async () => {
    expect(await turnsSent('fine')).toBe(5);
    expect(await turnsSent('x'.repeat(MAX_CONVERSATION_CHARS / 2))).toBe(2);
  });
});

describe('llm.maxResponseBytes', () => {
  const task = (maxResponseBytes: unknown): unknown => ({ service: { serviceName: 's', url: 'http://127.0.0.1:1/v1' }, llm: { api: 'chat', model: 'm', testMode: 'concurrency', maxResponseBytes } });

  test('64 KiB to 1 GiB, an integer; the agent is told it with its work', () => {
    expect(validateTask(task(1024 * 1024)).ok).toBe(true);
    for (const bad of [1000, 2 ** 31, 1.5, '1MB']) {
      const res = validateTask(task(bad));
      expect(res.ok).toBe(false);
      if (!res.ok) expect(res.errors.map((e) => e.field)).toEqual(['llm.maxResponseBytes']);
    }
    const work = { api: 'chat', model: 'm', ignoreEos: false, maxTokens: null, source: { kind: 'prompts', prompts: ['hi'] } };
    expect(isLlmWork({ ...work, maxResponseBytes: 65536 })).toBe(true);
    expect(isLlmWork({ ...work, maxResponseBytes: -1 })).toBe(false);
  });
});

describe('the LLM client against a hostile service', () => {
  /** Sends `count` requests, one after another, to a service answering with `behaviour`; the records, from the recorder's frames. */
  async function recordsOf(behaviour: HostileBehaviour, count: number, maxResponseBytes?: number): Promise<{ records: LlmRequestRecord[]; warnings: string[]; errorClasses: Record<string, number> }> {
    const service = await startHostileService(() => behaviour);
    const frames: AgentStatsFrame[] = [];
    const warnings: string[] = [];
    const recorder = new StatsRecorder({ inFlight: () => 0, totalSent: () => 0, takeConnectionWaitMaxMs: () => 0 }, (f) => frames.push(f));
    const prompts = { next: () => ({ body: Buffer.from('{"model":"m","messages":[]}'), promptTokens: 5 }) };
    const client = new LlmClient(
      { url: `${service.url}/v1/chat/completions`, headers: [], timeoutMs: 20_000, agentIndex: 0, retries: 0, ...(maxResponseBytes ? { maxResponseBytes } : {}) },
      prompts,
      recorder,
      (level, message) => (level === 'warn' ? warnings.push(message) : undefined),
    );
    try {
      await client.prepare();
      recorder.start();
      for (let i = 0; i < count; i++) await new Promise<void>((resolve) => client.send(performance.now(), performance.now(), () => resolve()));
      recorder.flush();
    } finally {
      await client.close();
      await service.close();
    }
    const errorClasses: Record<string, number> = {};
    for (const f of frames) for (const [k, v] of Object.entries(f.errorClasses ?? {})) errorClasses[k] = (errorClasses[k] ?? 0) + v;
    return { records: frames.flatMap((f) => f.llmRecords ?? []), warnings, errorClasses };
  }

  test.each<[HostileBehaviour, number, RegExp]>([
    ['endless-data-lines', 599, /^response too large: an SSE event over 4194304 bytes$/],
    ['no-newline', 599, /^response too large: an SSE line over 4194304 bytes$/],
    ['endless-500', 500, /^response too large: a response body over 8388608 bytes$/],
    ['endless-tokens', 599, /^response too large: a response body over 8388608 bytes$/],
  ])('%s: the request fails at the bound as response too large (status %d), said once', async (behaviour, status, error) => {
    const { records, warnings, errorClasses } = await recordsOf(behaviour, 2, 8 * 1024 * 1024);
    expect(records).toHaveLength(2);
    expect(errorClasses).toEqual({ 'response too large': 2 });
    for (const r of records) {
      expect(r).toMatchObject({ success: false, status });
      expect(r.error).toMatch(error);
    }
    expect(warnings.filter((w) => w.includes('response too large'))).toHaveLength(1);
    expect(MAX_EVENT_BYTES).toBe(4194304);
  }, 30_000);

  test('a bad usage is ignored for its request and said once; the records are ones the controller accepts', async () => {
    const { records, warnings } = await recordsOf('bad-usage', 4);
    expect(records.map((r) => [r.success, r.tokenSource, r.outputTokens])).toEqual(Array(4).fill([true, 'tokenizer', 2]));
    expect(typeof parseAgentMessage(JSON.stringify({ type: 'stats', frame: frameOf(records) }))).toBe('object');
    expect(warnings).toEqual(['the service sent usage.prompt_tokens 1.5, not a token count: such a request\'s tokens are counted by the tokenizer']);
  }, 30_000);
});
