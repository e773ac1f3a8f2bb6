import { AgentStatsFrame, EXIT_CODES, exitCodeForVerdict, RoundResult, taskThresholds, validateTask } from '../../src/contract';
import { RoundAccumulator, SecondAggregator, toStoredSecond } from '../../controller/metrics/aggregate';
import { createLatencyHistogram, encodeHistogram, percentileMs, recordUs } from '../../src/measure/histogram';
import { evaluateThresholds, ServiceSeconds } from '../../controller/metrics/thresholds';
import { applyGeneratorGate } from '../../controller/modes/generator-gate';
import { buildVerdict } from '../../controller/tasks/verdict';

const SERVICE = { serviceName: 'demo', url: 'http://127.0.0.1:1/x' };

function problems(task: unknown): string[] {
  const checked = validateTask(task);
  return checked.ok ? [] : checked.errors.map((e) => `${e.field}: ${e.message}`);
}

describe('thresholds in the task JSON: refused at create with the field named', () => {
  test('every HTTP metric name, both value forms and every operator are taken', () => {
    const thresholds = {
      TP50: '< 10', TP75: '<= 20', TP90: '> 0', TP95: '>= 0.5', TP99: '< 200', 'TP99.9': { expr: '< 1e3' },
      AvgRT: '== 3', MinRT: '>= 0', MaxRT: { expr: '< 5000', abortOnFail: true, delayAbortEvalS: 10 }, ErrorRate: '<= 0.01', QPS: '>= 100',
    };
    expect(problems({ service: SERVICE, thresholds })).toEqual([]);
    const parsed = taskThresholds({ service: SERVICE, thresholds });
    expect(parsed.find((t) => t.metric === 'MaxRT')).toEqual({ metric: 'MaxRT', expr: '< 5000', op: '<', bound: 5000, abortOnFail: true, delayAbortEvalS: 10 });
    expect(parsed.find((t) => t.metric === 'TP99.9')).toMatchObject({ op: '<', bound: 1000, abortOnFail: false, delayAbortEvalS: 0 });
  });

  test('an unknown name, a bad expression, a bad object and a non-object each name their field', () => {
    expect(problems({ service: SERVICE, thresholds: { TP98: '< 10' } })).toEqual([
      'thresholds.TP98: unknown metric; one of TP50, TP75, TP90, TP95, TP99, TP99.9, AvgRT, MinRT, MaxRT, ErrorRate, QPS',
    ]);
    expect(problems({ service: SERVICE, thresholds: { TP99: '<< 200' } })).toEqual([
      'thresholds.TP99: bad expression "<< 200": write an operator (<, <=, >, >=, ==) and a number, e.g. "< 200"',
    ]);
    expect(problems({ service: SERVICE, thresholds: { TP99: '< fast' } })[0]).toMatch(/^thresholds\.TP99: bad expression/);
    expect(problems({ service: SERVICE, thresholds: { TP99: 200 } })[0]).toMatch(/^thresholds\.TP99: must be an expression string/);
    expect(problems({ service: SERVICE, thresholds: { TP99: { expr: '< 1', abortOnFail: 'yes', delayAbortEvalS: -1, after: 2 } } })).toEqual([
      'thresholds.TP99.after: unknown field',
      'thresholds.TP99.abortOnFail: must be a boolean',
      'thresholds.TP99.delayAbortEvalS: must be a number of seconds from 0 to 86400',
    ]);
    expect(problems({ service: SERVICE, thresholds: { TP99: { abortOnFail: true } } })).toEqual(['thresholds.TP99.expr: is required']);
    expect(problems({ service: SERVICE, thresholds: { TP99: { expr: '=< 3' } } })[0]).toMatch(/^thresholds\.TP99\.expr: bad expression "=< 3"/);
    expect(problems({ service: SERVICE, thresholds: ['TP99 < 3'] })).toEqual(['thresholds: must be an object of metric name to expression, e.g. {"TP99": "< 200"}']);
  });

  test('LLM names need an llm section, and a percentile must be one of llm.percentiles', () => {
    const llm = { api: 'chat', model: 'm', testMode: 'concurrency' };
    expect(problems({ service: SERVICE, thresholds: { 'TTFT.P99': '< 500' } })).toEqual(['thresholds.TTFT.P99: an LLM metric needs the task to have an llm section']);
    expect(problems({ service: SERVICE, llm, thresholds: { 'TTFT.P99': '< 500', 'TPOT.Average': '< 50', 'ITL.P99': '< 80', 'E2EL.P90': '< 9000', OutputTokenThroughput: '>= 10', Goodput: '>= 1', RequestThroughput: '> 0', TP99: '< 9000' } })).toEqual([]);
    expect(problems({ service: SERVICE, llm, thresholds: { 'TTFT.P99.9': '< 500' } })).toEqual([
      'thresholds.TTFT.P99.9: unknown statistic "P99.9"; one of Average, Min, Max, Median, P75, P90, P95, P99 (percentiles are those of llm.percentiles)',
    ]);
    expect(problems({ service: SERVICE, llm: { ...llm, percentiles: [50, 99.9] }, thresholds: { 'TTFT.P99.9': '< 500' } })).toEqual([]);
    expect(problems({ service: SERVICE, llm, thresholds: { 'TTFX.P99': '< 1' } })[0]).toMatch(/^thresholds\.TTFX\.P99: unknown metric; one of TP50, .*TTFT, TPOT, ITL, ITLGap, E2EL.*Goodput/);
  });
});

/** One agent's frame for `second`, its samples in µs. */
function frame(second: number, samplesUs: number[], codes: Record<string, number>, lagUs = 100): AgentStatsFrame {
  const rt = createLatencyHistogram();
  for (const us of samplesUs) recordUs(rt, us);
  const lag = createLatencyHistogram();
  for (let i = 0; i < samplesUs.length; i++) recordUs(lag, lagUs);
  return {
    second, requests: samplesUs.length, sent: samplesUs.length, statusCodes: codes, bytesIn: 0, bytesOut: 0, dropped: 0, inFlight: 0,
    rtHistogram: encodeHistogram(rt), lagHistogram: encodeHistogram(lag), totalSent: samplesUs.length, eventLoopLagMs: 1,
  };
}

/** Seconds folded as the round folds them: merged across agents, gated, accumulated. */
function foldRound(seconds: AgentStatsFrame[][]): { result: RoundResult; service: RoundResult | undefined } {
  const aggregator = new SecondAggregator();
  const accumulator = new RoundAccumulator();
  const service = new ServiceSeconds();
  seconds.forEach((frames, i) => {
    frames.forEach((f, agent) => aggregator.add(`agent-${agent}`, f));
    const finalized = aggregator.finalize(frames[0].second, { elapsed: i, agentsDesired: frames.length, agentsAvailable: frames.length });
    applyGeneratorGate(finalized);
    const stored = toStoredSecond(finalized);
    accumulator.addSecond(stored.point, stored.rt, stored.lag);
    service.add(stored.point, stored.rt, stored.lag);
  });
  return { result: accumulator.result(seconds.length), service: service.result() };
}

describe('thresholds judged on the round: one evaluation over the histograms merged from every agent', () => {
  test('two agents with different latencies: TP99 is that of all their samples together, exactly, not a mean of the two', () => {
    // agent 0 answers in 1..100 ms, agent 1 in 201..300 ms, over three seconds
    const a0 = Array.from({ length: 100 }, (_, i) => (i + 1) * 1000);
    const a1 = Array.from({ length: 100 }, (_, i) => (i + 201) * 1000);
    const seconds = [1000, 1001, 1002].map((s) => [frame(s, a0, { '200': 100 }), frame(s, a1, { '200': 99, '503': 1 })]);
    const { result, service } = foldRound(seconds);
    const all = createLatencyHistogram(64);
    for (let i = 0; i < 3; i++) for (const us of [...a0, ...a1]) recordUs(all, us);
    const expected = percentileMs(all, 99);
    const perAgentMean = (percentileMs(histOf(a0), 99) + percentileMs(histOf(a1), 99)) / 2;
    expect(expected).not.toBeCloseTo(perAgentMean, 0);
    const judged = evaluateThresholds(taskThresholds({ service: SERVICE, thresholds: { TP99: '< 298', ErrorRate: '<= 0.005', QPS: '>= 200' } }), { result, service });
    expect(judged).toEqual([
      { Metric: 'TP99', Expr: '< 298', Value: expected, Passed: expected < 298 },
      { Metric: 'ErrorRate', Expr: '<= 0.005', Value: 0.005, Passed: true },
      { Metric: 'QPS', Expr: '>= 200', Value: 200, Passed: true },
    ]);
    expect(expected).toBeGreaterThan(290);
  });

  test('generator-limited seconds are left out of latency thresholds; ErrorRate and QPS count every second', () => {
    const fast = Array.from({ length: 50 }, () => 2000);
    const slow = Array.from({ length: 50 }, () => 900_000);
    // the middle second's agents sent 50 ms late: its 900 ms are the generator's, not the service's
    const seconds = [[frame(2000, fast, { '200': 50 })], [frame(2001, slow, { '200': 40, '599': 10 }, 50_000)], [frame(2002, fast, { '200': 50 })]];
    const { result, service } = foldRound(seconds);
    expect(result.MaxRT).toBeGreaterThan(800);
    const judged = evaluateThresholds(taskThresholds({ service: SERVICE, thresholds: { MaxRT: '< 10', ErrorRate: '< 0.05' } }), { result, service });
    expect(judged[0]).toMatchObject({ Metric: 'MaxRT', Passed: true });
    expect(judged[0].Value).toBeLessThan(10);
    expect(judged[1]).toEqual({ Metric: 'ErrorRate', Expr: '< 0.05', Value: roundRate(10 / 150), Passed: false });
  });

  test('a round whose every second was generator-limited is judged on all of them', () => {
    const slow = Array.from({ length: 10 }, () => 50_000);
    const { result, service } = foldRound([[frame(3000, slow, { '200': 10 }, 50_000)], [frame(3001, slow, { '200': 10 }, 50_000)]]);
    expect(service).toBeUndefined();
    const [tp99] = evaluateThresholds(taskThresholds({ service: SERVICE, thresholds: { TP99: '< 10' } }), { result, service });
    expect(tp99.Value).toBe(result.TP99);
    expect(tp99.Passed).toBe(false);
  });

  test('nothing measured: the value is null and the threshold did not hold', () => {
    const empty = new RoundAccumulator().result();
    expect(evaluateThresholds(taskThresholds({ service: SERVICE, thresholds: { TP99: '< 10', ErrorRate: '<= 1' } }), { result: empty })).toEqual([
      { Metric: 'TP99', Expr: '< 10', Value: null, Passed: false },
      { Metric: 'ErrorRate', Expr: '<= 1', Value: null, Passed: false },
    ]);
  });
});

function histOf(samplesUs: number[]) {
  const h = createLatencyHistogram(64);
  for (const us of samplesUs) recordUs(h, us);
  return h;
}

function roundRate(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

describe('the verdict: one function, one line', () => {
  const ok = { ...new RoundAccumulator().result(), TotalRequests: 100, SuccessRequests: 100, StatusCodes: { '200': 100 } };
  const allRefused = { ...ok, SuccessRequests: 0, ErrorRequests: 100, ErrorRate: 1, StatusCodes: { '599': 100 } };

  test('every request failed: no result, even without thresholds (exit 98)', () => {
    const v = buildVerdict({ ended: true, searchesCapacity: false, result: allRefused, thresholds: [], endReason: 'duration', endedWords: 'duration of 2 s reached' });
    expect(v).toEqual({
      Outcome: 'no result',
      EndReason: 'duration',
      Ended: 'duration of 2 s reached',
      Thresholds: [],
      Text: 'Verdict: no result; no request succeeded (100 requests, status codes 599: 100); ended: duration of 2 s reached',
    });
    expect(exitCodeForVerdict(v)).toBe(EXIT_CODES.noResult);
  });

  test('a task that failed to start: no result', () => {
    const v = buildVerdict({ ended: true, startFailed: 'data source could not be fetched', searchesCapacity: true, thresholds: [], endReason: 'createFailed', endedWords: 'data source could not be fetched' });
    expect(v.Outcome).toBe('no result');
    expect(v.Text).toBe('Verdict: no result; the task failed to start: data source could not be fetched');
  });

  test('a failed threshold fails the round (99); held ones pass it (0); scan or auto without a capacity has none (0)', () => {
    const failed = buildVerdict({ ended: true, searchesCapacity: false, result: ok, thresholds: [{ Metric: 'TP99', Expr: '< 200', Value: 212.4, Passed: false }, { Metric: 'QPS', Expr: '>= 1', Value: 50, Passed: true }], endReason: 'threshold', endedWords: 'threshold TP99 < 200 failed (TP99 212.4 ms) after 10 s (abortOnFail)' });
    expect(failed.Outcome).toBe('failed');
    expect(failed.Text).toBe('Verdict: failed; threshold TP99 < 200 failed (TP99 212.4 ms); 1 of 2 thresholds held; ended: threshold TP99 < 200 failed (TP99 212.4 ms) after 10 s (abortOnFail)');
    expect(exitCodeForVerdict(failed)).toBe(EXIT_CODES.thresholdFailed);
    const capacity = { QPS: 120, TP99: 91.84, ErrorRate: 0, Reason: 'maxRT' as const };
    const passed = buildVerdict({ ended: true, searchesCapacity: true, result: ok, capacity, thresholds: [{ Metric: 'TP99', Expr: '< 200', Value: 12, Passed: true }], endReason: 'duration', endedWords: 'duration of 30 s reached' });
    expect(passed.Text).toBe('Verdict: passed; 1 of 1 threshold held; capacity 120 QPS (TP99 91.8 ms, error rate 0.00%, limit maxRT); ended: duration of 30 s reached');
    expect(passed.Capacity).toEqual(capacity);
    expect(exitCodeForVerdict(passed)).toBe(0);
    const none = buildVerdict({ ended: true, searchesCapacity: true, result: ok, noCapacityWhy: 'no capacity: error rate 5.00% > faultTolerate 0.10% even at the lowest rate, 5 QPS', thresholds: [], endReason: 'faultAction', endedWords: 'faultAction stop' });
    expect(none.Outcome).toBe('no capacity');
    expect(exitCodeForVerdict(none)).toBe(0);
  });

  test('while the round runs: the verdict so far, without an end', () => {
    const v = buildVerdict({ ended: false, searchesCapacity: true, result: ok, thresholds: [{ Metric: 'TP99', Expr: '< 200', Value: 12, Passed: true }], endReason: 'duration', endedWords: 'x' });
    expect(v).toEqual({ Outcome: 'passed', Thresholds: [{ Metric: 'TP99', Expr: '< 200', Value: 12, Passed: true }], Text: 'Verdict so far: passed; 1 of 1 threshold holding' });
  });
});
