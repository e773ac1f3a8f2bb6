import { LlmLoad, LlmWork, TaskSpec } from '../../src/contract';
import { formatTime } from '../../controller/tasks/naming';
import { ROUND_TIMING } from '../../controller/tasks/round-timing';
import { RoundHarness, shareOf, SimAgent, START_MS } from '../helpers/round-harness';

/**
 * The round runner in-process, in fake time: agents played by the test,
 * every wait of the round (its duration, graces, the replace delay) on a
 * clock the test moves. No test here waits out real time.
 */

const START_S = START_MS / 1000;

const manual = (optional: TaskSpec['optional'], extra: Partial<TaskSpec> = {}): TaskSpec => ({
  service: { serviceName: 's', url: 'http://127.0.0.1:9/' },
  optional: { mode: 'manual', ...optional },
  ...extra,
});

/** Every agent sends its closed-loop share, 10 requests a worker a second. */
const steady = (agent: SimAgent): { requests: number } => ({ requests: shareOf(agent) });

describe('RoundRunner: the end of a round', () => {
  test('at the duration, agents that said done end the round at once; the load ran exactly the duration', () => {
    const h = new RoundHarness(manual({ duration: 10, agentCount: 2, concurrency: 2 })).start();
    expect(h.runner.snapshot().phase).toBe('running');
    expect(h.agents.map((a) => a.received('start'))).toEqual([true, true]);
    h.run(10, steady);
    expect(h.runner.snapshot().phase).toBe('running');
    for (const agent of h.agents) agent.done();
    expect(h.finished).toEqual({ reason: 'duration of 10 s reached', endReason: 'duration', failed: false, atMs: START_MS + 10_100 });
    expect(h.runner.loadDurationS()).toBe(10);
    expect(h.points().map((p) => p.Requests)).toEqual(Array(10).fill(40));
    expect(h.points().map((p) => p.Time)).toEqual(Array.from({ length: 10 }, (_, i) => START_S + i));
    // the round's events are stamped by its clock
    expect(h.events[0].Time).toBe(formatTime(START_MS));
    expect(h.events[h.events.length - 1].Time).toBe(formatTime(START_MS + 10_100));
  });

  test.each([[undefined], [5]])('agents that do not end by themselves are stopped the duration-end grace after it (grace %p s)', (graceS) => {
    const h = new RoundHarness(manual({ duration: 10, agentCount: 1, concurrency: 1 }), { timing: graceS === undefined ? {} : { durationEndGraceS: graceS } }).start();
    const grace = graceS ?? ROUND_TIMING.durationEndGraceS;
    h.run(10, steady);
    h.clock.advanceTo(START_MS + (10 + grace) * 1000 - 1);
    expect(h.runner.snapshot().phase).toBe('running');
    expect(h.agents[0].received('stop')).toBe(false);
    h.clock.advance(1);
    expect(h.runner.snapshot().phase).toBe('stopping');
    expect(h.agents[0].received('stop')).toBe(true);
    // the agent answers the stop with its done 10 ms later: the round is over, its load still the duration
    h.clock.advance(10);
    expect(h.finished).toMatchObject({ endReason: 'duration', atMs: START_MS + (10 + grace) * 1000 + 10 });
    expect(h.runner.loadDurationS()).toBe(10);
  });

  test('an agent that never answers the stop is cut off after the stop wait', () => {
    const h = new RoundHarness(manual({ duration: 600, agentCount: 1 }), { timing: { stopWaitMs: 3000 } }).start();
    h.agents[0].doneAfterStopMs = null;
    h.run(2, steady);
    void h.runner.stop('stopped by the user', 'stopped');
    h.clock.advance(2999);
    expect(h.finished).toBeUndefined();
    h.clock.advance(1);
    expect(h.finished).toMatchObject({ reason: 'stopped by the user', endReason: 'stopped' });
    expect(h.agents[0].closed).toBe(true);
  });

  test('requestCount is split over the agents, the remainder to the first; the round ends once all sent their share', () => {
    const h = new RoundHarness(manual({ requestCount: 100, agentCount: 3, concurrency: 1 })).start();
    expect(h.agents.map((a) => a.requestLimit)).toEqual([34, 33, 33]);
    h.run(10, (agent) => ({ requests: Math.min(10, (agent.requestLimit ?? 0) - agent.totalSent) }));
    expect(h.agents.map((a) => a.totalSent)).toEqual([34, 33, 33]);
    expect(h.finished).toMatchObject({ reason: 'requestCount of 100 reached', endReason: 'requestCount', failed: false });
    expect(h.points().reduce((sum, p) => sum + p.Requests, 0)).toBe(100);
    expect(h.runner.snapshot().result.TotalRequests).toBe(100);
  });

  test('an agent that says it sent more than its limit is held to its limit: the others\' shares and the round go on', () => {
    const h = new RoundHarness(manual({ requestCount: 100, agentCount: 2, concurrency: 1 })).start();
    h.run(1, () => ({ requests: 10 }));
    // agent 0 claims a billion sent in its next frame (its figures say 10)
    h.agents[0].totalSent = 1e9;
    h.agents[0].frame(START_S + 1, { requests: 10 });
    h.agents[0].done('limit');
    expect(h.finished).toBeUndefined();
    // the round counts agent 0 at its limit (50) and agent 1 at what it sent: 60 of 100, not the end
    expect(h.runner.snapshot().phase).toBe('running');
    h.agents[1].crash();
    h.clock.advance(ROUND_TIMING.replaceDelayMs);
    const [replacement] = h.connectNew();
    // what is left, 100 - 50 (agent 0, held to its limit) - 10 (the lost agent), is shared again: 20 more each
    // (taken at its word, agent 0 would have left the replacement nothing to send)
    expect([h.agents[0].requestLimit, replacement.requestLimit]).toEqual([70, 20]);
  });

  test('a lost agent\'s share of requestCount goes to its replacement: what the others sent is not asked again', () => {
    const h = new RoundHarness(manual({ requestCount: 100, agentCount: 2, concurrency: 1 })).start();
    h.run(2, () => ({ requests: 10 }));
    h.agents[1].crash();
    h.clock.advance(ROUND_TIMING.replaceDelayMs);
    const [replacement] = h.connectNew();
    // 40 of 100 sent: agent 1 keeps 20 + 30 more, the replacement (with nothing sent) 30
    expect([h.agents[0].requestLimit, replacement.requestLimit]).toEqual([50, 30]);
  });
});

describe('RoundRunner: seconds', () => {
  test('a second waits the finalize grace for a late agent, then is final without it; its late frame counts in the next second', () => {
    const h = new RoundHarness(manual({ duration: 600, agentCount: 2 })).start();
    const [a, b] = h.agents;
    h.run(1, (agent) => (agent === a ? { requests: 5 } : null));
    h.clock.advanceTo((START_S + 1 + ROUND_TIMING.finalizeGraceS) * 1000 - 1);
    expect(h.seconds).toHaveLength(0);
    h.clock.advance(1);
    expect(h.points()).toEqual([expect.objectContaining({ Time: START_S, Requests: 5, AgentsAvailable: 2 })]);
    b.frame(START_S, { requests: 7 });
    a.frame(START_S + 1, { requests: 1 });
    h.clock.advanceTo((START_S + 4) * 1000);
    expect(h.points().map((p) => [p.Time, p.Requests])).toEqual([[START_S, 5], [START_S + 1, 8]]);
  });

  test('a second every agent reported is final at the next tick, without waiting the grace; a longer grace waits longer', () => {
    const h = new RoundHarness(manual({ duration: 600, agentCount: 2 }), { timing: { finalizeGraceS: 5 } }).start();
    h.run(1, () => ({ requests: 3 }));
    h.clock.advance(150);
    expect(h.points().map((p) => p.Requests)).toEqual([6]);
    h.run(1, (agent) => (agent === h.agents[0] ? { requests: 3 } : null));
    h.clock.advanceTo((START_S + 2 + 5) * 1000 - 1);
    expect(h.seconds).toHaveLength(1);
    h.clock.advance(1);
    expect(h.points().map((p) => p.Requests)).toEqual([6, 3]);
  });

  test('a threshold with abortOnFail ends the round once its delayAbortEvalS has passed, not before', () => {
    const thresholds = { ErrorRate: { expr: '< 0.01', abortOnFail: true, delayAbortEvalS: 20 } };
    const h = new RoundHarness(manual({ duration: 600, agentCount: 1, concurrency: 1 }, { thresholds })).start();
    h.run(19, () => ({ requests: 10, errors: 5 }));
    expect(h.runner.snapshot().phase).toBe('running');
    expect(h.runner.snapshot().thresholds).toEqual([expect.objectContaining({ Metric: 'ErrorRate', Passed: false, AbortOnFail: true })]);
    h.run(2, () => ({ requests: 10, errors: 5 }));
    expect(h.finished?.endReason).toBe('threshold');
    expect(h.finished?.reason).toMatch(/^threshold ErrorRate .* after 20 s \(abortOnFail\)$/);
    expect(h.eventLines('status')).toContain(h.finished?.reason);
  });
});

describe('RoundRunner: the fleet', () => {
  test('a lost agent is replaced after the replace delay; its replacement joins the running round with the lost share', () => {
    const h = new RoundHarness(manual({ duration: 600, agentCount: 2, concurrency: 4 }), { timing: { replaceDelayMs: 2000 } }).start();
    h.run(3, steady);
    const lostAtMs = h.clock.nowMs();
    h.agents[0].crash();
    expect(h.eventLines('agent-lost')).toEqual(['agent 1 lost (killed by SIGKILL); 1/2 agents available']);
    h.run(1, steady);
    h.clock.advanceTo(lostAtMs + 1999);
    expect(h.agents).toHaveLength(2);
    h.clock.advance(1);
    expect(h.agents).toHaveLength(3);
    const [replacement] = h.connectNew();
    const assign = replacement.sent.find((m) => m.type === 'assign');
    expect(assign).toMatchObject({ assignment: { agentIndex: 0, waitForStart: false, load: { kind: 'closed', concurrency: 4 } } });
    expect(h.eventLines('agent-added')).toEqual(['agent 1 connected (pid 4242 on sim-host); 2/2 agents available']);
    h.run(2, steady);
    h.clock.advance(200);
    // each second shows the fewest agents it had: one from the loss until the replacement came
    expect(h.points().map((p) => [p.Time - START_S, p.AgentsAvailable, p.Requests])).toEqual([[0, 2, 80], [1, 2, 80], [2, 2, 80], [3, 1, 40], [5, 1, 80], [6, 2, 80]]);
  });

  test('a trace lane is its seat\'s: a replacement goes on from the records the lost agent sent, on the round\'s clock; the lanes add up to the trace', () => {
    // 11 records a second apart: seat 0 sends records 0, 2, ..., 10 (6), seat 1 records 1, 3, ..., 9 (5)
    const records = Array.from({ length: 11 }, (_, i) => ({ atMs: i * 1000, inputTokens: 10 }));
    const work: LlmWork = { api: 'chat', model: 'm', ignoreEos: false, maxTokens: null, source: { kind: 'trace', records, seed: 1 } };
    const llm: TaskSpec['llm'] = { api: 'chat', model: 'm', testMode: 'rate', duration: 60 };
    const h = new RoundHarness(manual({ agentCount: 2 }, { llm }), { llmWork: work, timing: { replaceDelayMs: 1000 } }).start();
    expect(h.agents.map((a) => a.requestLimit)).toEqual([6, 5]);
    // at the start the lanes begin at their first record
    expect(h.agents.map((a) => (a.load as LlmLoad).trace)).toEqual([undefined, undefined]);
    // each sends its records as they fall due, one every other second: in 4 s two each
    h.run(4, (_agent, second) => ({ requests: (second - START_S) % 2 === 0 ? 1 : 0 }));
    expect(h.agents.map((a) => a.totalSent)).toEqual([2, 2]);
    h.agents[1].crash();
    h.clock.advance(1000);
    const [replacement] = h.connectNew();
    const assign = replacement.sent.find((m) => m.type === 'assign');
    const elapsedMs = h.clock.nowMs() - START_MS;
    // where the round stands and how many of the lane the lost agent sent; what is left of its lane is the replacement's limit
    expect(assign).toMatchObject({ assignment: { agentIndex: 1, load: { kind: 'llm', trace: { atMs: elapsedMs, sent: 2 } }, requestLimit: 3 } });
    expect(h.agents[0].requestLimit).toBe(6);
    // the round asks the whole trace: seat 0's lane, what the lost agent sent and what is left of its lane
    expect((h.agents[0].requestLimit ?? 0) + h.agents[1].totalSent + (replacement.requestLimit ?? 0)).toBe(records.length);
  });

  test('events about one agent are at most five a window; the next window starts by counting those left out', () => {
    const h = new RoundHarness(manual({ duration: 600, agentCount: 1 })).start();
    const ahead = START_S + 100;
    for (let i = 0; i < 8; i++) h.agents[0].frame(ahead, { requests: 1 });
    const refused = (): string[] => h.eventLines('error');
    expect(refused()).toHaveLength(5);
    expect(refused()[0]).toBe(`agent 1 (task-1-1): frame of second ${ahead} refused (its second is lost, the agent's others count): frame.second ${ahead} is 100 s ahead of the controller's clock (at most 5)`);
    h.clock.advance(9999);
    h.agents[0].frame(ahead, { requests: 1 });
    expect(refused()).toHaveLength(5);
    h.clock.advance(1);
    h.agents[0].frame(ahead, { requests: 1 });
    expect(refused().slice(5)).toEqual(['agent 1 (task-1-1): 4 more event(s) like the above not shown', expect.stringMatching(/^agent 1 \(task-1-1\): frame of second/)]);
  });

  test('no agent connected within the connect timeout: the round fails', () => {
    const h = new RoundHarness(manual({ duration: 600, agentCount: 1 }), { connectTimeoutS: 30 });
    h.runner.start();
    h.clock.advance(29_999);
    expect(h.finished).toBeUndefined();
    h.clock.advance(1);
    expect(h.finished).toMatchObject({ reason: 'no agent connected within 30 s', endReason: 'error', failed: true });
  });
});
