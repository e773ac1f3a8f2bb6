import { computeLlmResult, steadyStage } from '../../controller/metrics/llm/result';
import { llmRecords, useLlmFixtureRuns, within } from '../helpers/llm';

/**
 * |measured - expected| within 5% of expected plus `slackMs`: a request's own
 * overhead (timers, parsing, a shared 2-core machine) adds up to 10 ms to what the
 * fixture was told.
 */
function near(measured: number, expected: number, slackMs = 10): void {
  if (Math.abs(measured - expected) > expected * 0.05 + slackMs) throw new Error(`measured ${measured}, expected ${expected} (5% + ${slackMs})`);
}

/** The llm run modes (the options that change what is sent: llm-options.test.ts). */
describe('LLM run modes against the OpenAI fixture', () => {
  const { run, controller, fixture, figures } = useLlmFixtureRuns('llm-modes');

  test('pressure: streams ramp from 1 to 8 over 2 s, then hold; the steady stage is in the hold', async () => {
    const rampMs = 2000;
    const { task, llm } = await run({ ttftMs: 50, tpotMs: 5 }, { testMode: 'pressure', startConcurrency: 1, concurrency: 8, rampTime: rampMs / 1000, requestCount: 600, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [16, 16] } });
    const records = (await llmRecords(controller(), task.TaskName)).Records;
    const firstSend = Math.min(...records.map((r) => r.sendMs));
    // in flight at a moment: sends at or before it, ends after it
    const inFlightAt = (ms: number) => records.filter((r) => r.sendMs <= ms && r.endMs > ms).length;
    const stage = steadyStage(records);
    expect((await fixture().stats()).maxInFlight).toBe(8);
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
    const stats = await fixture().stats();
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

  test('drift detection in a run over llm.driftMinRunS: the fixture slows down twofold halfway, TTFT, TPOT and decode tokens/s are flagged', async () => {
    // 300 requests at a regular 20/s (burstiness 100: intervals within a few % of 50 ms) span 15 s; the
    // fixture counts arrivals, so its slow-down after request 150 lands at the run's midpoint, 7.5 s in,
    // and needs no timer of the test's. The halves split at a whole second: up to 1 s of fast requests in the second.
    // TTFT 100 ms and TPOT 10 ms: the few ms a loaded machine adds to every request barely move the ratio.
    const started = Date.now();
    const { llm } = await run({ ttftMs: 100, tpotMs: 10, slowAfterRequests: 150, slowFactor: 2 }, { testMode: 'rate', requestRate: 20, burstiness: 100, requestCount: 300, driftMinRunS: 10, dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [10, 10] } });
    expect(Date.now() - started).toBeGreaterThan(10_000);
    const d = llm.Drift!;
    expect(d).toBeDefined();
    figures.push(`drift (15 s, driftMinRunS 10): TTFT ${d.TTFT.FirstHalf} -> ${d.TTFT.SecondHalf} ms (${d.TTFT.ChangePct}%), TPOT ${d.TPOT.FirstHalf} -> ${d.TPOT.SecondHalf} ms, decode ${d.DecodeTokensPerSecond.FirstHalf} -> ${d.DecodeTokensPerSecond.SecondHalf} tok/s`);
    // about +100% for latencies, -50% for tokens/s
    expect(d.TTFT.ChangePct).toBeGreaterThan(70);
    expect(d.TPOT.ChangePct).toBeGreaterThan(70);
    expect(d.DecodeTokensPerSecond.ChangePct).toBeLessThan(-35);
    expect([d.TTFT.Flagged, d.TPOT.Flagged, d.DecodeTokensPerSecond.Flagged, d.Flagged]).toEqual([true, true, true, true]);
    near(d.TTFT.FirstHalf, 100);
  });
});
