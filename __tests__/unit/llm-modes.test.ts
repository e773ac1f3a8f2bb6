import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateTask, type LlmRequestRecord } from '../../src/contract';
import type { TaskRecord } from '../../controller/tasks/record';
import { TaskStore } from '../../controller/tasks/store';
import { tempDir } from '../helpers/processes';
import { countTokens, loadTokenizer } from '../../agent/llm/tokens';
import { applyEvent, emptyTimeline } from '../../agent/llm/timeline';
import { toolOutcome } from '../../agent/llm/tool-calls';
import { requestFor } from '../../agent/llm/prompts';
import { halfDrift, LatencySample, LlmModeAccumulator, MAX_SAMPLES, meanStd, sweepScaling } from '../../controller/metrics/llm/modes';
import { tokenizerName } from '../../controller/tasks/llm-run-work';
import { llmModeSummary } from '../../src/output/llm-mode-summary';
import { toolCallPieces } from '../../fixtures/openai-service';

const base = { service: { serviceName: 'llm_test' } };
const llm = (fields: Record<string, unknown>) => ({ ...base, llm: { api: 'chat', model: 'm', testMode: 'concurrency', ...fields } });
const TOKENIZER_FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'tokenizers', 'word-level.tokenizer.json');

describe('llm options and modes: validation names the field', () => {
  test.each([
    [llm({ testMode: 'rate', requestRate: 1, burstiness: 0.15 }), 'llm.burstiness', 'must be a multiple of 0.1'],
    [llm({ testMode: 'rate', requestRate: 1, burstiness: 200.1 }), 'llm.burstiness', 'must be <= 200'],
    [llm({ testMode: 'rate', requestRate: 1, burstiness: 0 }), 'llm.burstiness', 'must be >= 0.1'],
    [llm({ retries: 11 }), 'llm.retries', 'must be <= 10'],
    [llm({ tokenizer: '' }), 'llm.tokenizer', 'must not be empty'],
    [llm({ dataset: { type: 'sharegpt', path: '/x.json', outputLength: 0 } }), 'llm.dataset.outputLength', 'must be >= 1'],
    [llm({ testMode: 'pressure', concurrency: 4, startConcurrency: 8 }), 'llm.startConcurrency', 'must be <= llm.concurrency (4)'],
    [llm({ testMode: 'pressure', concurrency: 8, rampTime: 60, duration: 60 }), 'llm.rampTime', 'must be shorter than llm.duration (60): the steady stage is found in the hold after the ramp'],
    [llm({ rampTime: 10 }), 'llm.rampTime', 'applies only to llm.testMode pressure'],
    [llm({ mode: 'turbo' }), 'llm.mode', 'must be one of standard, token-sweep, consistency, sessions, tools'],
    [llm({ mode: 'token-sweep' }), 'llm.requestCount', 'is required (and continuous off) in llm.mode token-sweep: it is shared equally between the prompt lengths'],
    [llm({ mode: 'token-sweep', requestCount: 100, promptLengths: [] }), 'llm.promptLengths', 'must be a non-empty list of integers'],
    [llm({ mode: 'token-sweep', requestCount: 100, promptLengths: [500, 0.5] }), 'llm.promptLengths[1]', 'must be an integer'],
    [llm({ promptLengths: [500] }), 'llm.promptLengths', 'applies only to llm.mode token-sweep'],
    [llm({ mode: 'consistency', concurrency: 2 }), 'llm.concurrency', 'must be 1 in llm.mode consistency (one prompt sent serially)'],
    [{ ...llm({ mode: 'consistency' }), optional: { agentCount: 2 } }, 'optional.agentCount', 'must be 1 in llm.mode consistency (one prompt sent serially)'],
    [llm({ mode: 'sessions' }), 'llm.testMode', 'must be rate in llm.mode sessions (llm.requestRate is the session arrival rate)'],
    [llm({ mode: 'sessions', testMode: 'rate', requestRate: 1, sessions: { turns: { mu: 1 } } }), 'llm.sessions.turns.sigma', 'is required'],
    [llm({ driftMinRunS: 0 }), 'llm.driftMinRunS', 'must be >= 1'],
    [llm({ driftMinRunS: 2.5 }), 'llm.driftMinRunS', 'must be an integer'],
    [llm({ mode: 'tools', api: 'completions' }), 'llm.api', 'must be chat in llm.mode tools (OpenAI tools are a chat completions feature)'],
  ])('%j is refused at %s', (task, field, message) => {
    const result = validateTask(task);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toEqual({ field, message });
  });

  test('the example tasks of the modes are valid', () => {
    for (const name of ['llm-sessions-task.json', 'llm-token-sweep-task.json']) {
      const result = validateTask(JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'tasks', name), 'utf8')));
      expect([name, result.ok]).toEqual([name, true]);
    }
  });

  test('burstiness in steps of 0.1 over 0.1..200, and every mode with its own fields, are accepted', () => {
    for (const burstiness of [0.1, 0.3, 1, 1.7, 37.4, 199.9, 200]) expect(validateTask(llm({ testMode: 'rate', requestRate: 1, burstiness })).ok).toBe(true);
    expect(validateTask(llm({ testMode: 'pressure', concurrency: 8, startConcurrency: 2, rampTime: 10, duration: 60, retries: 2 })).ok).toBe(true);
    expect(validateTask(llm({ mode: 'token-sweep', requestCount: 100, promptLengths: [500, 1000] })).ok).toBe(true);
    expect(validateTask(llm({ mode: 'consistency' })).ok).toBe(true);
    expect(validateTask(llm({ driftMinRunS: 5 })).ok).toBe(true);
    expect(validateTask(llm({ mode: 'sessions', testMode: 'rate', requestRate: 0.5, sessions: { profile: 'short', thinkTime: { mu: 2, sigma: 0.4 } } })).ok).toBe(true);
    expect(validateTask(llm({ mode: 'tools', tokenizer: '/models/qwen/tokenizer.json', dataset: { type: 'sharegpt', path: '/s.json', outputLength: 64 } })).ok).toBe(true);
  });
});

describe('a Hugging Face tokenizer.json counts the tokens', () => {
  afterAll(() => loadTokenizer());

  test('the shipped word-level fixture counts words and punctuation, not o200k tokens', async () => {
    await loadTokenizer();
    // the bundled encoding first, for contrast
    expect(countTokens('unbelievable things happen')).toBe(5);
    await loadTokenizer({ json: fs.readFileSync(TOKENIZER_FIXTURE, 'utf8') });
    expect(countTokens('Hello world!')).toBe(3);
    expect(countTokens('hello, hello world')).toBe(4);
    expect(countTokens(' hello'.repeat(12))).toBe(12);
    expect(countTokens('unbelievable things happen')).toBe(3);
    expect(countTokens('')).toBe(0);
  });

  test('the report names the file by its last two path segments, never a URL query', () => {
    expect(tokenizerName('/models/Qwen3-8B/tokenizer.json')).toBe('Qwen3-8B/tokenizer.json');
    expect(tokenizerName('https://host/a/Qwen3-8B/tokenizer.json?X-Signature=secret')).toBe('Qwen3-8B/tokenizer.json');
    expect(tokenizerName('tokenizer.json')).toBe('tokenizer.json');
  });
});

describe('run modes in the requests', () => {
  beforeAll(() => loadTokenizer());

  const work = { api: 'chat' as const, model: 'm', ignoreEos: false, maxTokens: null, source: { kind: 'synthetic' as const, inputTokens: [10, 10] as [number, number], outputTokens: [4, 4] as [number, number], seed: 1 } };

  test('token-sweep: request k has prompt length lengths[floor(k / perLength)], then the last one', () => {
    const sweep = { ...work, run: { kind: 'token-sweep' as const, lengths: [20, 40], perLength: 3 } };
    const lengths = [0, 1, 2, 3, 4, 5, 6].map((k) => requestFor(sweep, k));
    expect(lengths.map((r) => r.tags?.promptLength)).toEqual([20, 20, 20, 40, 40, 40, 40]);
    expect(lengths.map((r) => r.promptTokens)).toEqual([20, 20, 20, 40, 40, 40, 40]);
  });

  test('consistency sends entry 0 every time; tools offers the default tool; ignore_eos only when asked', () => {
    const consistency = { ...work, run: { kind: 'consistency' as const } };
    expect(requestFor(consistency, 7).body.equals(requestFor(consistency, 0).body)).toBe(true);
    const tools = JSON.parse(requestFor({ ...work, run: { kind: 'tools' } }, 0).body.toString()) as Record<string, unknown>;
    expect((tools.tools as { function: { name: string } }[])[0].function.name).toBe('get_weather');
    expect(tools.ignore_eos).toBeUndefined();
    expect((JSON.parse(requestFor({ ...work, ignoreEos: true }, 0).body.toString()) as Record<string, unknown>).ignore_eos).toBe(true);
  });

  test('tool calls streamed in pieces are joined by index; broken arguments are invalid', () => {
    for (const [broken, outcome] of [
      [false, 'parsed'],
      [true, 'invalid'],
    ] as const) {
      const timeline = emptyTimeline();
      toolCallPieces(6, broken).forEach((args, j) => {
        const call = { index: 0, ...(j === 0 ? { id: 'c', type: 'function', function: { name: 'get_weather', arguments: args } } : { function: { arguments: args } }) };
        applyEvent(timeline, { event: 'message', data: JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [call] } }] }) }, j);
      });
      expect(timeline.chunkTimesMs).toEqual([0, 1, 2, 3, 4, 5]);
      expect(toolOutcome(timeline.toolCalls)).toBe(outcome);
    }
    expect(toolOutcome(emptyTimeline().toolCalls)).toBe('none');
  });
});

describe('mode figures', () => {
  test('drift is given for records spanning more than driftMinRunS: a minute unless the task says', () => {
    // one request a second for 21 s, TTFT 40 ms then 80 ms from the midpoint (the second of 10.085 s)
    const records: LlmRequestRecord[] = Array.from({ length: 21 }, (_, seq) => {
      const ttft = seq < 10 ? 40 : 80;
      return { agent: 0, seq, sendMs: 1_000_000 + seq * 1000, endMs: 1_000_000 + seq * 1000 + ttft + 90, ttftMs: ttft, e2elMs: ttft + 90, itlMs: Array(9).fill(10), inputTokens: 10, outputTokens: 10, tokenSource: 'usage', success: true, status: 200 };
    });
    const drift = (driftMinRunS?: number) => {
      const modes = new LlmModeAccumulator({ mode: 'standard', retries: 0, tokenizer: 'gpt-tokenizer o200k_base', ...(driftMinRunS !== undefined ? { driftMinRunS } : {}) });
      records.forEach((r) => modes.add(r));
      return modes.result().Drift;
    };
    expect(drift()).toBeUndefined();
    expect(drift(60)).toBeUndefined();
    // the span is 20.17 s: not more than 21, more than 20
    expect(drift(21)).toBeUndefined();
    expect(drift(20)).toMatchObject({ TTFT: { FirstHalf: 40, SecondHalf: 80, ChangePct: 100, Flagged: true }, Flagged: true });
  });

  test('scaling is the least-squares exponent of TTFT against prompt length', () => {
    const point = (PromptTokens: number, TTFTMedian: number) => ({ PromptTokens, N: 10, TTFTMean: TTFTMedian, TTFTMedian, TTFTPer1kTokens: 0 });
    expect(sweepScaling([point(500, 50), point(1000, 100), point(2000, 200)])).toEqual({ Exponent: 1, Scaling: 'linear' });
    expect(sweepScaling([point(500, 25), point(1000, 100), point(2000, 400)])).toEqual({ Exponent: 2, Scaling: 'super-linear' });
    expect(sweepScaling([point(500, 100), point(2000, 200)])).toEqual({ Exponent: 0.5, Scaling: 'sub-linear' });
    expect(sweepScaling([point(500, 100)]).Scaling).toBe('unknown');
  });

  test('drift flags a degradation over 10%: up for latencies, down for rates', () => {
    expect(halfDrift(100, 111, true)).toEqual({ FirstHalf: 100, SecondHalf: 111, ChangePct: 11, Flagged: true });
    expect(halfDrift(100, 109, true).Flagged).toBe(false);
    expect(halfDrift(100, 80, true).Flagged).toBe(false);
    expect(halfDrift(44.4, 43.8, false)).toEqual({ FirstHalf: 44.4, SecondHalf: 43.8, ChangePct: -1.35, Flagged: false });
    expect(halfDrift(500, 250, false).Flagged).toBe(true);
  });

  test('mean ± population stddev', () => {
    expect(meanStd([20, 20, 40, 40])).toEqual({ Mean: 30, Stddev: 10, CvPct: 33.33, N: 4 });
    expect(meanStd([])).toEqual({ Mean: 0, Stddev: 0, CvPct: 0, N: 0 });
  });
});

describe('latency samples stay bounded', () => {
  test('exact percentiles up to MAX_SAMPLES values, then a uniform reservoir of them; the mean stays exact', () => {
    const exact = new LatencySample();
    for (let i = 1; i <= 101; i++) exact.add(i);
    expect(exact.percentiles([50, 99])).toEqual([51, 100]);
    expect(exact.mean).toBe(51);
    const long = new LatencySample();
    for (let i = 0; i < 3 * MAX_SAMPLES; i++) long.add(i % 1000);
    expect(long.mean).toBeCloseTo(499.5, 6);
    const [p50] = long.percentiles([50]);
    expect(Math.abs(p50 - 500)).toBeLessThan(15);
  });
});

describe('the summary prints the mode sections in the stress tester words', () => {
  test('consistency, drift, retries, sweep, sessions and tool calls', () => {
    const drift = (FirstHalf: number, SecondHalf: number, Flagged: boolean) => ({ FirstHalf, SecondHalf, ChangePct: ((SecondHalf - FirstHalf) / FirstHalf) * 100, Flagged });
    const text = llmModeSummary({
      Retries: { RetriedRequests: 11, RetryAttempts: 12, RecoveredRequests: 10 },
      Drift: { ThresholdPct: 10, TTFT: drift(40, 80, true), TPOT: drift(4, 4.1, false), DecodeTokensPerSecond: drift(250, 244, false), Flagged: true },
      TokenSweep: { Points: [{ PromptTokens: 500, N: 20, TTFTMean: 50, TTFTMedian: 49, TTFTPer1kTokens: 100 }], Exponent: 1.02, Scaling: 'linear' },
      Consistency: { TTFT: { Mean: 312, Stddev: 45, CvPct: 14.42, N: 30 }, DecodeTokensPerSecond: { Mean: 44.1, Stddev: 0.8, CvPct: 1.81, N: 30 }, TTFTDrift: drift(300, 320, false), DecodeDrift: drift(44.4, 43.8, false) },
      Sessions: { SessionsStarted: 36, SessionsCompleted: 31, Turns: 100, TurnLatencyP50: 174.5, TurnLatencyP95: 231.56, TurnLatencyP99: 232.88, ByTurn: [{ Turn: 1, N: 36, TTFTMean: 101, InputTokensMean: 100 }] },
      ToolCalls: { Requests: 100, CalledTool: 50, Parsed: 40, CallRatePct: 50, ParseRatePct: 80, CallLatencyMean: 146.68, CallLatencyP50: 140.2, CallLatencyP99: 183.97 },
    }).join('\n');
    expect(text).toContain('Retries: 11 requests retried (12 extra sends), 10 recovered');
    expect(text).toContain('Drift, first half against second half (flagged over 10%): DEGRADED');
    expect(text).toContain('| TTFT   |      40 ms |       80 ms |  +100% | FLAGGED |');
    expect(text).toContain('Token sweep: prefill scaling linear (TTFT ∝ tokens^1.02)');
    expect(text).toContain('Consistency: same prompt x 30 sequential runs');
    expect(text).toContain('  Decode TPS: 44.1 ± 0.8 (stddev 1.81%)');
    expect(text).toContain('  TTFT: 312 ± 45 ms (stddev 14.42%)');
    expect(text).toContain('Sessions: 31 of 36 completed, 100 turns; per-turn latency p50/p95/p99 174.5/231.56/232.88 ms');
    expect(text).toContain('Tool calls: 50 of 100 answers called a tool (50%), 40 parsed (80%); call latency mean 146.68 ms, p50 140.2 ms, p99 183.97 ms');
    expect(llmModeSummary({ Tokenizer: 'gpt-tokenizer o200k_base' })).toEqual([]);
  });
});

describe('a round read back from disk feeds the mode sections a chunk at a time', () => {
  test('forEachLlmRecord visits every stored record in order, across 1 MiB chunks and split UTF-8', () => {
    const dataDir = tempDir('llm-modes-store');
    const store = new TaskStore(dataDir, 20);
    const name = 'benchmark-llm-00aa';
    try {
      store.save({ taskName: name, taskId: 'eas-b-x', status: 'Running', rounds: [] } as unknown as TaskRecord);
      // ~3 MiB of records, each error text with multi-byte characters, so chunk edges fall inside lines and characters
      const records: LlmRequestRecord[] = Array.from({ length: 6000 }, (_, seq) => ({ agent: 0, seq, sendMs: seq, endMs: seq + 1, ttftMs: null, e2elMs: null, itlMs: [], inputTokens: 1, outputTokens: 0, tokenSource: 'usage', success: false, status: 500, error: `ü€🙂 ${'x'.repeat(seq % 500)}`, tags: { attempts: 2 } }));
      for (let i = 0; i < records.length; i += 500) store.appendLlmRecords(name, 1, records.slice(i, i + 500));
      const seen: LlmRequestRecord[] = [];
      store.forEachLlmRecord(name, 1, (r) => seen.push(r));
      expect(seen).toEqual(records);
      const modes = new LlmModeAccumulator({ mode: 'standard', retries: 1, tokenizer: 'gpt-tokenizer o200k_base' });
      store.forEachLlmRecord(name, 1, (r) => modes.add(r));
      expect(modes.result().Retries).toEqual({ RetriedRequests: 6000, RetryAttempts: 6000, RecoveredRequests: 0 });
    } finally {
      store.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
