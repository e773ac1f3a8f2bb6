import * as fs from 'node:fs';
import * as path from 'node:path';
import { computeLlmResult, steadyStage } from '../../controller/metrics/llm/result';
import { bodyDigest, OPENAI_FIXTURE_DEFAULTS, type OpenAiBehaviour } from '../../fixtures/openai-service';
import type { GetTaskResponse, LlmResult } from '../../src/contract';
import { createAndWait, llmRecords, within } from '../helpers/llm';
import { ControllerProcess, killAllStarted, lastJson, OpenAiFixtureProcess, runEascmd, startController, startOpenAiFixture, tempDir, waitFor, writeTask } from '../helpers/processes';

/** The fixture's defaults with quicker tokens: each test sets what it needs on top. */
const NEUTRAL: Partial<OpenAiBehaviour> = { ...OPENAI_FIXTURE_DEFAULTS, ttftMs: 20, tpotMs: 2 };
const TOKENIZER_FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'tokenizers', 'word-level.tokenizer.json');

/**
 * |measured - expected| within 5% of expected plus `slackMs`: a request's own
 * overhead (timers, parsing, a shared 2-core machine) adds up to 10 ms to what the
 * fixture was told.
 */
function near(measured: number, expected: number, slackMs = 10): void {
  if (Math.abs(measured - expected) > expected * 0.05 + slackMs) throw new Error(`measured ${measured}, expected ${expected} (5% + ${slackMs})`);
}

describe('LLM options and run modes against the OpenAI fixture', () => {
  let controller: ControllerProcess;
  let fixture: OpenAiFixtureProcess;
  let dir: string;
  const figures: string[] = [];

  beforeAll(async () => {
    dir = tempDir('llm-modes');
    fixture = await startOpenAiFixture();
    controller = await startController({ args: ['--data-root', dir] });
  });

  afterAll(async () => {
    await controller?.stop();
    await fixture?.stop();
    killAllStarted();
    if (figures.length) process.stdout.write(`${figures.join('\n')}\n`);
  });

  /** `bench create --wait --json`; a run of `waitMs` or more gets an eascmd of its own with that much more time. */
  const run = async (behaviour: Partial<OpenAiBehaviour>, llm: Record<string, unknown>, waitMs = 0): Promise<{ task: GetTaskResponse; llm: LlmResult }> => {
    await fixture.reset();
    await fixture.configure({ ...NEUTRAL, ...behaviour });
    const file = writeTask(dir, { service: { serviceName: 'llm_modes', url: fixture.url }, llm: { api: 'chat', model: 'fixture', testMode: 'concurrency', requestCount: 100, ...llm } });
    let task: GetTaskResponse;
    if (waitMs > 0) {
      const res = await runEascmd(['-c', controller.configFile, 'bench', 'create', file, '--wait', '--json'], { timeoutMs: waitMs + 30_000 });
      if (res.code !== 0) throw new Error(`bench create failed (${res.code}):\n${res.stdout}\n${res.stderr}`);
      task = lastJson<GetTaskResponse>(res.stdout);
    } else {
      task = await createAndWait(controller, file);
    }
    expect(task.Status).toBe('Stopped');
    return { task, llm: task.LLM as LlmResult };
  };

  test('llm.tokenizer: a tokenizer.json counts what usage does not give, and the result names it; ShareGPT outputLength is max_tokens; no ignore_eos unless asked', async () => {
    const prompts = ['Hello world, the quick fox!', 'the the the'];
    const file = path.join(dir, 'sharegpt-tok.json');
    fs.writeFileSync(file, JSON.stringify(prompts.map((value) => ({ conversations: [{ from: 'human', value }] }))));
    // the controller reads it like any data source: under its data roots
    const tokenizer = path.join(dir, 'models', 'word-level', 'tokenizer.json');
    fs.mkdirSync(path.dirname(tokenizer), { recursive: true });
    fs.copyFileSync(TOKENIZER_FIXTURE, tokenizer);
    const { llm } = await run({ usage: false }, { concurrency: 4, tokenizer, dataset: { type: 'sharegpt', path: file, outputLength: 12 } });
    const stats = await fixture.stats();
    // word-level: "hello world , the quick fox !" is 7 tokens (o200k: 8), "the the the" 3; the answer " hello" x 12 is 12
    expect(llm.Total.InputTokens).toMatchObject({ Min: 3, Max: 7, N: 100 });
    expect(llm.Common.TotalInputTokens).toBe(50 * 7 + 50 * 3);
    expect(llm.Common.TotalGeneratedTokens).toBe(100 * 12);
    expect(llm.Tokenizer).toBe('tokenizer.json word-level/tokenizer.json');
    expect(llm.TokenSource).toBe('tokenizer (tokenizer.json word-level/tokenizer.json: the service sent no usage)');
    expect(stats.bodies).toEqual(Object.fromEntries(prompts.map((content) => [bodyDigest({ model: 'fixture', messages: [{ role: 'user', content }], max_tokens: 12 }), 50])));
    expect(stats.ignoreEos).toBe(0);
    const synthetic = await run({}, { concurrency: 4, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } });
    expect(synthetic.llm.Tokenizer).toBe('gpt-tokenizer o200k_base');
    expect((await fixture.stats()).ignoreEos).toBe(0);
    await run({}, { concurrency: 4, ignoreEos: true, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } });
    expect((await fixture.stats()).ignoreEos).toBe(100);
  });

  test('llm.retries: every 10th request fails at the fixture and is sent again; retried requests are counted apart', async () => {
    const { llm } = await run({ errorRate: 0.1 }, { retries: 1, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } });
    const stats = await fixture.stats();
    // serial sends: S = 100 + floor(S / 10) gives 111 sends, sends 10, 20, ..., 110 failing and each retry succeeding
    expect(stats.requests).toBe(111);
    expect(stats.failed).toBe(11);
    expect(llm.Retries).toEqual({ RetriedRequests: 11, RetryAttempts: 11, RecoveredRequests: 11 });
    expect(llm.Common).toMatchObject({ TotalRequests: 100, SuccessRequests: 100, FailedRequests: 0 });
    const without = await run({ errorRate: 0.1 }, { dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } });
    expect(without.llm.Common).toMatchObject({ TotalRequests: 100, FailedRequests: 10 });
    expect(without.llm.Retries).toBeUndefined();
  });

  test('llm.warmupRequests: sent first, left out of every figure and record, said in the result', async () => {
    const cold = { ttftMs: 30, tpotMs: 5, coldRequests: 3, coldMs: 300 };
    const llm = { concurrency: 4, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } };
    // without: the service's three cold first requests are in the figures
    const without = await run(cold, llm);
    expect(without.llm.Total.TTFT.Max).toBeGreaterThan(cold.coldMs);
    expect(without.llm.Warmup).toBeUndefined();
    const { task, llm: warmed } = await run(cold, { ...llm, warmupRequests: 3 });
    const served = await fixture.stats();
    figures.push(`warm-up 3: TTFT max ${warmed.Total.TTFT.Max} ms (without: ${without.llm.Total.TTFT.Max} ms, the first 3 served ${cold.coldMs} ms slower); the service got ${served.requests} requests, the figures count ${warmed.Common.TotalRequests}`);
    expect(served.requests).toBe(103);
    expect(warmed.Common).toMatchObject({ TotalRequests: 100, SuccessRequests: 100 });
    expect(warmed.Total.TTFT.N).toBe(100);
    // none of the cold ones (30 + 300 ms) is in the figures; the longest is a warm one, however busy the machine
    expect(warmed.Total.TTFT.Max).toBeLessThan(cold.coldMs);
    expect((await llmRecords(controller, task.TaskName)).Records).toHaveLength(100);
    expect(warmed.Warmup).toEqual({ RequestsPerAgent: 3, Excluded: 'every figure and record' });
  });

  test('pressure: streams ramp from 1 to 8 over 2 s, then hold; the steady stage is in the hold', async () => {
    const rampMs = 2000;
    const { task, llm } = await run({ ttftMs: 50, tpotMs: 5 }, { testMode: 'pressure', startConcurrency: 1, concurrency: 8, rampTime: rampMs / 1000, requestCount: 600, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [16, 16] } });
    const records = (await llmRecords(controller, task.TaskName)).Records;
    const firstSend = Math.min(...records.map((r) => r.sendMs));
    // in flight at a moment: sends at or before it, ends after it
    const inFlightAt = (ms: number) => records.filter((r) => r.sendMs <= ms && r.endMs > ms).length;
    const stage = steadyStage(records);
    expect((await fixture.stats()).maxInFlight).toBe(8);
    expect(llm.Common.MaxConcurrency).toBe(8);
    // the ramp adds stream k (1..7 after the first) at k/7 of the ramp (286, 571, 857, 1143 ms, ...): 1 stream at 0.1 s, 4 at 1 s, 8 after 2 s
    expect(inFlightAt(firstSend + 100)).toBe(1);
    expect(inFlightAt(firstSend + 1000)).toBe(4);
    expect(inFlightAt(firstSend + 2300)).toBe(8);
    expect(stage).not.toBeNull();
    expect(stage!.startMs - firstSend).toBeGreaterThanOrEqual(rampMs - 50);
    expect(llm.StableCommon?.MaxConcurrency).toBe(8);
    // the live stage counts the requests sent in it, as the records do (it once counted those that ended in its seconds, 2% more)
    const exact = computeLlmResult(records).StableCommon;
    figures.push(
      `pressure 1 -> 8 over ${rampMs} ms: steady stage from +${Math.round(stage!.startMs - firstSend)} ms for ${Math.round(stage!.endMs - stage!.startMs)} ms, Stable Concurrency ${llm.StableCommon?.Concurrency}, ` +
        `${llm.StableCommon?.TotalRequests} requests ${llm.StableCommon?.RequestThroughput} req/s live, ${exact?.TotalRequests} requests ${exact?.RequestThroughput} req/s from the records`,
    );
    within(llm.StableCommon?.RequestThroughput ?? 0, exact?.RequestThroughput ?? Number.NaN, 0.005);
  });

  test('token-sweep: TTFT against prompt length, linear (2 ms a token) and super-linear (0.05 ms x tokens²) prefill', async () => {
    const lengths = [40, 80, 160];
    const linear = await run({ ttftMs: 0, prefillMsPerToken: 2 }, { mode: 'token-sweep', concurrency: 4, promptLengths: lengths, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } });
    const sweep = linear.llm.TokenSweep!;
    // 100 requests, 34 per length (the last gets the rest)
    expect(sweep.Points.map((p) => [p.PromptTokens, p.N])).toEqual([[40, 34], [80, 34], [160, 32]]);
    // medians: the first requests of a run also open their connections
    sweep.Points.forEach((p) => near(p.TTFTMedian, 2 * p.PromptTokens));
    expect(sweep.Scaling).toBe('linear');
    const square = await run({ ttftMs: 0, prefillMsPerToken: 0.05, prefillExponent: 2 }, { mode: 'token-sweep', concurrency: 8, promptLengths: lengths, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } });
    const squared = square.llm.TokenSweep!;
    squared.Points.forEach((p) => near(p.TTFTMedian, 0.05 * p.PromptTokens ** 2));
    expect(squared.Scaling).toBe('super-linear');
    // 2 exactly without the requests' own few ms, which weigh most at the shortest length
    expect(squared.Exponent).toBeGreaterThan(1.6);
    figures.push(`token-sweep: linear ${sweep.Points.map((p) => `${p.PromptTokens}:${p.TTFTMean}`).join(' ')} ms, exponent ${sweep.Exponent}; squared ${squared.Points.map((p) => `${p.PromptTokens}:${p.TTFTMean}`).join(' ')} ms, exponent ${squared.Exponent}`);
  });

  test('consistency: one prompt 100 times serially; the fixture slows down twofold halfway and the drift is flagged', async () => {
    const { llm } = await run({ ttftMs: 30, tpotMs: 10, slowAfterRequests: 50, slowFactor: 2 }, { mode: 'consistency', dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } });
    const stats = await fixture.stats();
    expect(Object.values(stats.prompts)).toEqual([100]);
    expect(stats.maxInFlight).toBe(1);
    const c = llm.Consistency!;
    // TTFT 30 ms then 60 ms: mean 45, stddev 15; decode 1000/10 = 100 then 50 tokens/s: mean 75, stddev 25
    // (timer jitter of a loaded machine spreads the decode rates: its slack is in tokens/s)
    expect(c.TTFT.N).toBe(100);
    near(c.TTFT.Mean, 45);
    near(c.TTFT.Stddev, 15);
    near(c.DecodeTokensPerSecond.Mean, 75, 5);
    near(c.DecodeTokensPerSecond.Stddev, 25, 6);
    near(c.TTFTDrift.FirstHalf, 30);
    near(c.TTFTDrift.SecondHalf, 60);
    expect(c.TTFTDrift.Flagged).toBe(true);
    expect(c.DecodeDrift.ChangePct).toBeLessThan(-40);
    expect(c.DecodeDrift.Flagged).toBe(true);
    // a run under a minute has no drift section
    expect(llm.Drift).toBeUndefined();
    figures.push(`consistency: TTFT ${c.TTFT.Mean} ± ${c.TTFT.Stddev} ms, decode ${c.DecodeTokensPerSecond.Mean} ± ${c.DecodeTokensPerSecond.Stddev} tok/s, TTFT drift ${c.TTFTDrift.ChangePct}%, decode drift ${c.DecodeDrift.ChangePct}%`);
  });

  test('sessions: 3-turn conversations at 10 sessions/s; context grows and so does TTFT by turn', async () => {
    const { llm } = await run(
      { ttftMs: 50, tpotMs: 2, prefillMsPerToken: 0.5 },
      { testMode: 'rate', requestRate: 10, mode: 'sessions', sessions: { turns: { mu: Math.log(3), sigma: 0 }, thinkTime: { mu: Math.log(0.05), sigma: 0 } }, dataset: { type: 'synthetic', inputTokens: [100, 100], outputTokens: [10, 10] } },
    );
    const s = llm.Sessions!;
    expect(s.Turns).toBe(100);
    expect(s.SessionsCompleted).toBeGreaterThanOrEqual(30);
    expect(s.SessionsCompleted).toBeLessThanOrEqual(33);
    expect(s.SessionsStarted).toBeGreaterThanOrEqual(s.SessionsCompleted);
    expect(s.ByTurn.map((t) => t.Turn)).toEqual([1, 2, 3]);
    const [t1, t2, t3] = s.ByTurn;
    // each turn sends the conversation so far: 100 prompt tokens per user turn, 10 per answer (joined by newlines)
    // (a synthetic prompt is exactly 100 tokens alone; joined, a word may merge at a boundary)
    expect(Math.abs(t1.InputTokensMean - 100)).toBeLessThan(1);
    expect(t2.InputTokensMean).toBeGreaterThan(205);
    expect(t3.InputTokensMean).toBeGreaterThan(310);
    for (const t of s.ByTurn) near(t.TTFTMean, 50 + 0.5 * t.InputTokensMean);
    expect(s.TurnLatencyP50).toBeLessThanOrEqual(s.TurnLatencyP95);
    expect(s.TurnLatencyP95).toBeLessThanOrEqual(s.TurnLatencyP99);
    figures.push(`sessions: ${s.SessionsStarted} started, ${s.SessionsCompleted} completed, ${s.Turns} turns, TTFT by turn ${s.ByTurn.map((t) => `${t.Turn}:${t.TTFTMean} ms (${t.InputTokensMean} tokens)`).join(', ')}, turn latency p50/p95/p99 ${s.TurnLatencyP50}/${s.TurnLatencyP95}/${s.TurnLatencyP99} ms`);
  });

  test('tools: half the answers call the tool, a fifth of those with arguments that do not parse', async () => {
    const { llm } = await run({ toolCallRate: 0.5, invalidToolArgsRate: 0.2, ttftMs: 50, tpotMs: 10 }, { mode: 'tools', concurrency: 4, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } });
    const t = llm.ToolCalls!;
    expect(t).toMatchObject({ Requests: 100, CalledTool: 50, Parsed: 40, CallRatePct: 50, ParseRatePct: 80 });
    // a tool call streams like any answer: E2EL = TTFT + 9 * TPOT (the median: a loaded machine adds spikes to the mean)
    near(t.CallLatencyP50, 50 + 9 * 10, 8);
    expect(llm.Total.TTFT.N).toBe(100);
    figures.push(`tools: ${t.CalledTool}/${t.Requests} called, ${t.Parsed} parsed, call latency mean ${t.CallLatencyMean} ms p99 ${t.CallLatencyP99} ms`);
  });

  test('drift detection in a run over a minute: the fixture slows down twofold halfway, TTFT, TPOT and decode tokens/s are flagged', async () => {
    const started = Date.now();
    let slowDown: NodeJS.Timeout | undefined;
    const running = run({ ttftMs: 40, tpotMs: 4 }, { continuous: true, duration: 62, concurrency: 2, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } }, 62_000);
    try {
      // the switch goes 31 s after the fixture saw the first request: the run's midpoint
      await waitFor('the first request', async () => ((await fixture.stats()).requests > 0 ? true : undefined), 20_000, 50);
      slowDown = setTimeout(() => void fixture.configure({ slowAfterRequests: 1, slowFactor: 2 }), 31_000);
      const { llm } = await running;
      const d = llm.Drift!;
      expect(Date.now() - started).toBeGreaterThan(60_000);
      // the switch lands within a second of the midpoint: about +100% for latencies, -50% for tokens/s
      expect(d.TTFT.ChangePct).toBeGreaterThan(70);
      expect(d.TPOT.ChangePct).toBeGreaterThan(70);
      expect(d.DecodeTokensPerSecond.ChangePct).toBeLessThan(-35);
      expect([d.TTFT.Flagged, d.TPOT.Flagged, d.DecodeTokensPerSecond.Flagged, d.Flagged]).toEqual([true, true, true, true]);
      near(d.TTFT.FirstHalf, 40);
      figures.push(`drift (62 s): TTFT ${d.TTFT.FirstHalf} -> ${d.TTFT.SecondHalf} ms (${d.TTFT.ChangePct}%), TPOT ${d.TPOT.FirstHalf} -> ${d.TPOT.SecondHalf} ms, decode ${d.DecodeTokensPerSecond.FirstHalf} -> ${d.DecodeTokensPerSecond.SecondHalf} tok/s`);
    } finally {
      clearTimeout(slowDown);
      await running.catch(() => undefined);
    }
  }, 150_000);
});
