import { LlmRequestRecord, TaskSpec } from '../../src/contract';
import { encodeHistogram } from '../../src/measure/histogram';
import { LlmSecondRecorder } from '../../src/measure/llm-second';
import { Service, ServiceQueue } from '../helpers/mode-sim';
import { RoundHarness, rtHistogram, SimAgent, START_MS } from '../helpers/round-harness';

/**
 * Modes over minutes, through the round runner in fake time: scan's steps,
 * auto's search and hold, and an LLM run's drift section, with the agents'
 * frames made from a simulated service. Each runs in milliseconds.
 */

const START_S = START_MS / 1000;
const target = (optional: TaskSpec['optional'], llm?: TaskSpec['llm']): TaskSpec => ({ service: { serviceName: 's', url: 'http://127.0.0.1:9/' }, optional, ...(llm ? { llm } : {}) });

/** Every agent sends its open-loop share to `service`; the frames carry what the service made of it. */
function serve(h: RoundHarness, service: Service, seconds: number): void {
  const queue = new ServiceQueue(service);
  h.run(seconds, (agent, second) => {
    const load = agent.load;
    const sent = load?.kind === 'open' ? Math.round(load.qps) : 0;
    const { errors, rt } = queue.second(second - START_S, sent);
    const requests = rt.totalCount;
    return { requests, errors: Math.min(errors, requests), sent, rt: requests > 0 ? encodeHistogram(rt) : '' };
  });
}

/** The open-loop rates the agent was sent, in order, repeats left out. */
function ratesSent(agent: SimAgent): number[] {
  const rates: number[] = [];
  for (const m of agent.sent) {
    const load = m.type === 'assign' ? m.assignment.load : m.type === 'load' ? m.load : undefined;
    if (load?.kind === 'open' && rates[rates.length - 1] !== load.qps) rates.push(load.qps);
  }
  return rates;
}

/** [value, how many times in a row] of a series. */
function runsOf(values: number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const v of values) {
    const last = runs[runs.length - 1];
    if (last && last[0] === v) last[1]++;
    else runs.push([v, 1]);
  }
  return runs;
}

describe('scan and auto through the round runner, over minutes of fake time', () => {
  test('scan steps every adjustInterval and holds the last step whose TP99 met maxRT', () => {
    const h = new RoundHarness(target({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 100, adjustInterval: 10, maxQPS: 1000, maxRT: 100, duration: 600 })).start();
    serve(h, { capacity: 330, serviceMs: 10 }, 60);
    expect(h.runner.snapshot().capacity).toMatchObject({ QPS: 300, Reason: 'maxRT' });
    // after the step over maxRT nothing is sent while its backlog drains, then the held rate
    expect(ratesSent(h.agents[0])).toEqual([100, 200, 300, 400, 0, 300]);
    // each step ran its adjustInterval of whole seconds at its rate (and the second the new rate reached the agents)
    expect(runsOf(h.points().map((p) => p.TargetQPS ?? 0)).slice(0, 5)).toEqual([[100, 11], [200, 11], [300, 11], [400, 11], [0, 2]]);
    expect(h.eventLines('verdict')[3]).toBe('scan: 400 QPS: achieved 330, TP99 2132 ms, error rate 0.00%; TP99 2132 ms > maxRT 100 ms');
    expect(h.runner.snapshot().liveOutcome).toMatch(/^holding 300 QPS/);
    expect(h.runner.snapshot().phase).toBe('running');
  });

  test('auto searches for the capacity and holds it for the rest of a three-minute round, which ends at its duration', () => {
    const h = new RoundHarness(target({ maxQPS: 20000, maxRT: 150, duration: 180 })).start();
    serve(h, { capacity: 200, serviceMs: 20 }, 180);
    const found = h.runner.snapshot().capacity;
    expect(found).toBeDefined();
    expect(found!.QPS).toBeLessThanOrEqual(200);
    expect(found!.QPS).toBeGreaterThanOrEqual(180);
    expect(h.eventLines('hold').length).toBeGreaterThan(0);
    const lastMinute = h.points().slice(-60).map((p) => p.TargetQPS);
    expect(new Set(lastMinute)).toEqual(new Set([found!.QPS]));
    h.agents[0].done();
    expect(h.finished).toMatchObject({ endReason: 'duration', reason: 'duration of 180 s reached' });
    expect(h.runner.snapshot().outcome).toContain(`${found!.QPS} QPS`);
  });
});

/**
 * What an LLM agent sends for a second in which it sent two requests, 10 ms
 * apart from the second's start: TTFT `ttftMs`, ten output tokens 10 ms
 * apart; its LLM figures from the agent's own recorder (times in
 * performance.now() ms, as the agent gives them).
 */
function llmSecond(recorder: LlmSecondRecorder, second: number, ttftMs: number, seq: { next: number }): { requests: number; rt: string; llmRecords: LlmRequestRecord[]; llm: ReturnType<LlmSecondRecorder['take']> } {
  const perf = (unixMs: number): number => unixMs - performance.timeOrigin;
  const records: LlmRequestRecord[] = [];
  for (let k = 0; k < 2; k++) {
    const sendMs = second * 1000 + k * 10;
    const e2elMs = ttftMs + 90;
    const record: LlmRequestRecord = {
      agent: 0, seq: seq.next++, sendMs, endMs: sendMs + e2elMs, ttftMs, e2elMs, itlMs: Array(9).fill(10),
      inputTokens: 10, outputTokens: 10, tokenSource: 'usage', success: true, status: 200,
    };
    recorder.began(perf(sendMs));
    recorder.ended(perf(record.endMs), record);
    records.push(record);
  }
  return { requests: 2, rt: rtHistogram(2, ttftMs + 90), llmRecords: records, llm: recorder.take(perf((second + 1) * 1000)) };
}

describe('an LLM run\'s drift section through the round runner', () => {
  const llm: TaskSpec['llm'] = { api: 'chat', model: 'm', testMode: 'concurrency', concurrency: 2, continuous: true, duration: 300 };

  /** A run of `seconds` whose TTFT is 100 ms in its first half and 150 ms in its second. */
  /** One agent (concurrency 2 is one agent's), whose seconds the test makes. */
  function driftRun(seconds: number, driftMinRunS?: number): RoundHarness {
    const h = new RoundHarness(target({}, llm), { timing: driftMinRunS === undefined ? {} : { driftMinRunS } }).start();
    const seq = { next: 0 };
    const recorder = new LlmSecondRecorder();
    h.run(seconds, (_agent, second) => llmSecond(recorder, second, second - START_S < seconds / 2 ? 100 : 150, seq));
    void h.runner.stop('stopped by the user', 'stopped');
    h.runToEnd();
    return h;
  }

  test('a run past a minute gets the drift section: a TTFT 50% worse in the second half is flagged', () => {
    const drift = driftRun(62).runner.llmResult()?.Drift;
    // the halves meet at the run's midpoint, from the first send to the last end: a second of 100 ms falls in the second half
    expect(drift).toMatchObject({ Flagged: true, TTFT: { FirstHalf: 100, Flagged: true } });
    expect(drift!.TTFT.ChangePct).toBeGreaterThan(45);
  });

  test('a run shorter than driftMinRunS has none; a test that sets it shorter gets one', () => {
    expect(driftRun(40).runner.llmResult()?.Drift).toBeUndefined();
    expect(driftRun(25, 20).runner.llmResult()?.Drift).toMatchObject({ Flagged: true, TTFT: { FirstHalf: 100, Flagged: true } });
  });
});
