import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { AgentAssignment, AgentStatsFrame, AgentToController, LoadShape } from '../../src/contract';
import { decodeHistogram, quantilesMs } from '../../src/measure/histogram';
import { startTargetService, TargetService } from '../../fixtures/target-service';
import { AGENT_MAIN, AgentSession, FakeController, startFakeController } from '../helpers/fake-controller';

/**
 * The real agent process against the real fixture service, with this test
 * playing the controller on the agents websocket. Needs the build
 * (`npm run build`, which `npm test` runs first).
 */

interface Harness extends FakeController {
  fixture: TargetService;
}

async function startHarness(fixtureOptions: Parameters<typeof startTargetService>[0] = {}): Promise<Harness> {
  const fixture = await startTargetService(fixtureOptions);
  const controller = await startFakeController();
  return {
    ...controller,
    fixture,
    close: async () => {
      await controller.close();
      await fixture.close();
    },
  };
}

function assignment(url: string, load: LoadShape, overrides: Partial<AgentAssignment> & { timeoutMs?: number; bodies?: string[] } = {}): AgentAssignment {
  const { timeoutMs = 5000, bodies = [Buffer.from('{"x":1}').toString('base64')], ...rest } = overrides;
  return {
    taskId: 'eas-b-test',
    roundId: 10001,
    agentIndex: 0,
    agentCount: 1,
    startOffset: 0,
    request: { url: `${url}/api/predict/demo`, method: 'POST', headers: [['Content-Type', 'application/json']], bodies, timeoutMs },
    load,
    requestLimit: null,
    ...rest,
  };
}

const sum = (frames: AgentStatsFrame[], key: 'requests' | 'sent' | 'dropped'): number => frames.reduce((n, f) => n + f[key], 0);
const codes = (frames: AgentStatsFrame[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const f of frames) for (const [code, n] of Object.entries(f.statusCodes)) out[code] = (out[code] ?? 0) + n;
  return out;
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Stops the agent, waits for its `done` and its exit (code 0). */
async function stopAgent(harness: Harness, agent: AgentSession, child: ChildProcess): Promise<Extract<AgentToController, { type: 'done' }>> {
  const before = agent.done().length;
  agent.send({ type: 'stop', reason: 'test over' });
  await agent.waitForType('done', before + 1);
  expect(await harness.exitCode(child)).toBe(0);
  return agent.done()[before];
}

beforeAll(() => {
  if (!existsSync(AGENT_MAIN)) throw new Error(`${AGENT_MAIN} is missing: run \`npm run build\` first`);
});

describe('eascmd-agent process', () => {
  let harness: Harness;
  afterEach(async () => {
    await harness?.close();
  });

  test('closed loop: the fixture counts exactly the requests the frames report; stop yields done and exit 0', async () => {
    harness = await startHarness({ latencyMs: 2 });
    const child = harness.spawnAgent();
    const agent = await harness.nextAgent();
    await agent.waitForType('hello');
    expect(agent.messages[0]).toMatchObject({ type: 'hello', token: 'secret-token', agentId: 'a1', pid: child.pid, version: 1 });
    const bodies = ['a', 'b', 'c'].map((s) => Buffer.from(`{"body":"${s}"}`).toString('base64'));
    agent.send({ type: 'assign', assignment: assignment(harness.fixture.url, { kind: 'closed', concurrency: 4, maxQps: null }, { bodies, startOffset: 1 }) });
    await agent.waitForType('ready');
    // over 500 requests within 3 s, and a full second's frame (the first one is partial)
    await agent.waitFor(() => agent.frames.length >= 2 && harness.fixture.stats().requests > 500, 'a full second and 500 requests', 3000);
    const done = await stopAgent(harness, agent, child);

    const frames = agent.frames;
    const stats = harness.fixture.stats();
    expect(stats.requests).toBeGreaterThan(500);
    expect(sum(frames, 'requests')).toBe(stats.requests);
    expect(sum(frames, 'sent')).toBe(stats.requests);
    expect(done).toMatchObject({ reason: 'stopped', totalSent: stats.requests });
    expect(codes(frames)).toEqual({ '200': stats.requests });
    expect(stats.byPath).toEqual({ '/api/predict/demo': stats.requests });
    expect(stats.byMethod).toEqual({ POST: stats.requests });
    expect(stats.maxInFlight).toBeLessThanOrEqual(4);
    // Bodies are used round-robin: each within one of an equal share.
    const perBody = Object.values(stats.bodies);
    expect(perBody).toHaveLength(3);
    for (const n of perBody) expect(Math.abs(n - stats.requests / 3)).toBeLessThanOrEqual(1);
    // One frame per wall-clock second, in order, the last one being the partial second of the stop.
    const seconds = frames.map((f) => f.second);
    expect(seconds).toEqual([...seconds].sort((a, b) => a - b));
    expect(new Set(seconds).size).toBe(seconds.length);
    expect(seconds[seconds.length - 1] - seconds[0]).toBe(seconds.length - 1);
    expect(frames[frames.length - 1].inFlight).toBe(0);
    expect(quantilesMs(decodeHistogram(frames[1].rtHistogram)).TP50).toBeGreaterThanOrEqual(2);
  });

  test('open loop at 200 QPS for 3 s sends 600 requests (within 2%), with send lag recorded', async () => {
    harness = await startHarness({ latencyMs: 5 });
    const child = harness.spawnAgent();
    const agent = await harness.nextAgent();
    await agent.waitForType('hello');
    agent.send({ type: 'assign', assignment: assignment(harness.fixture.url, { kind: 'open', qps: 200, maxInFlight: 100 }) });
    await agent.waitForType('ready');
    // the run's length is what the count is checked against
    await sleep(3000);
    const done = await stopAgent(harness, agent, child);

    const frames = agent.frames;
    const total = sum(frames, 'requests');
    expect(total).toBeGreaterThanOrEqual(588);
    expect(total).toBeLessThanOrEqual(612);
    expect(total).toBe(harness.fixture.stats().requests);
    expect(done.totalSent).toBe(total);
    expect(sum(frames, 'dropped')).toBe(0);
    // Latency counts from the scheduled time, so it is at least the fixture's 5 ms.
    const full = frames.slice(1, -1);
    for (const f of full) expect(quantilesMs(decodeHistogram(f.rtHistogram)).Min).toBeGreaterThanOrEqual(4.99);
    for (const f of full) expect(decodeHistogram(f.lagHistogram).totalCount).toBe(f.sent);
  });

  test('a load update changes the rate mid-run without reconnecting', async () => {
    harness = await startHarness({ latencyMs: 1 });
    const child = harness.spawnAgent();
    const agent = await harness.nextAgent();
    await agent.waitForType('hello');
    agent.send({ type: 'assign', assignment: assignment(harness.fixture.url, { kind: 'open', qps: 100, maxInFlight: 100 }) });
    await agent.waitForType('ready');
    // The first frame covers a partial second; wait for one full second at 100 QPS.
    await agent.waitForType('stats', 2);
    const updateSecond = Math.floor(Date.now() / 1000);
    agent.send({ type: 'load', load: { kind: 'open', qps: 400, maxInFlight: 100 } });
    await agent.waitFor(() => agent.frames.some((f) => f.second >= updateSecond + 2), 'two full seconds after the update');
    await stopAgent(harness, agent, child);

    const frames = agent.frames;
    const before = frames.slice(1).filter((f) => f.second < updateSecond);
    const after = frames.filter((f) => f.second > updateSecond && f.second <= updateSecond + 2);
    expect(before.length).toBeGreaterThanOrEqual(1);
    expect(after).toHaveLength(2);
    for (const f of before) expect(Math.abs(f.sent - 100)).toBeLessThanOrEqual(3);
    for (const f of after) expect(Math.abs(f.sent - 400)).toBeLessThanOrEqual(8);
    expect(agent.messages.filter((m) => m.type === 'hello')).toHaveLength(1);
  });

  test('a closed-loop load update changes the concurrency and the rate cap in place', async () => {
    harness = await startHarness({ latencyMs: 10 });
    const child = harness.spawnAgent();
    const agent = await harness.nextAgent();
    await agent.waitForType('hello');
    agent.send({ type: 'assign', assignment: assignment(harness.fixture.url, { kind: 'closed', concurrency: 8, maxQps: 50 }) });
    await agent.waitForType('ready');
    await agent.waitForType('stats', 2);
    const capped = agent.frames[1];
    const updateSecond = Math.floor(Date.now() / 1000);
    agent.send({ type: 'load', load: { kind: 'closed', concurrency: 1, maxQps: null } });
    await agent.waitFor(() => agent.frames.some((f) => f.second >= updateSecond + 1), 'a full second after the update');
    await stopAgent(harness, agent, child);

    // 8 workers of ~10 ms could do ~700/s: the cap holds them at 50.
    expect(capped.sent).toBeLessThanOrEqual(51);
    expect(capped.sent).toBeGreaterThanOrEqual(45);
    // One worker of ~10 ms: about 90/s, and never more than one request in flight.
    const after = agent.frames.find((f) => f.second === updateSecond + 1);
    expect(after?.sent).toBeGreaterThan(60);
    expect(after?.sent).toBeLessThan(101);
    expect(after?.inFlight).toBeLessThanOrEqual(1);
  });

  test('a closed target is recorded as status 599', async () => {
    harness = await startHarness();
    const deadUrl = harness.fixture.url;
    await harness.fixture.close();
    const child = harness.spawnAgent();
    const agent = await harness.nextAgent();
    await agent.waitForType('hello');
    agent.send({ type: 'assign', assignment: assignment(deadUrl, { kind: 'closed', concurrency: 2, maxQps: null }) });
    await agent.waitForType('stats', 1);
    const done = await stopAgent(harness, agent, child);
    const frames = agent.frames;
    const all = codes(frames);
    expect(Object.keys(all)).toEqual(['599']);
    expect(all['599']).toBeGreaterThan(0);
    expect(sum(frames, 'requests')).toBe(done.totalSent);
  });

  test('a request slower than http.timeout is recorded as status 512 at the timeout', async () => {
    harness = await startHarness({ latencyMs: 1000 });
    const child = harness.spawnAgent();
    const agent = await harness.nextAgent();
    await agent.waitForType('hello');
    agent.send({ type: 'assign', assignment: assignment(harness.fixture.url, { kind: 'closed', concurrency: 2, maxQps: null }, { timeoutMs: 100 }) });
    await agent.waitFor(() => agent.frames.reduce((n, f) => n + (f.statusCodes['512'] ?? 0), 0) >= 10, '10 timeouts');
    await stopAgent(harness, agent, child);
    const frames = agent.frames;
    expect(Object.keys(codes(frames))).toEqual(['512']);
    for (const f of frames.filter((f) => f.requests > 0)) {
      const rt = quantilesMs(decodeHistogram(f.rtHistogram));
      // HDR keeps 3 significant digits: 100 ms reads back as its bucket's low edge, 99.968 ms.
      expect(rt.Min).toBeGreaterThanOrEqual(99.9);
      expect(rt.Max).toBeLessThan(160);
    }
  });

  test('the request limit ends with done(limit) after exactly that many requests; a raised limit resumes', async () => {
    harness = await startHarness({ latencyMs: 1 });
    const child = harness.spawnAgent();
    const agent = await harness.nextAgent();
    await agent.waitForType('hello');
    agent.send({ type: 'assign', assignment: assignment(harness.fixture.url, { kind: 'closed', concurrency: 4, maxQps: null }, { requestLimit: 300 }) });
    await agent.waitForType('done');
    expect(agent.done()[0]).toMatchObject({ reason: 'limit', totalSent: 300 });
    expect(harness.fixture.stats().requests).toBe(300);
    expect(sum(agent.frames, 'requests')).toBe(300);

    agent.send({ type: 'load', load: { kind: 'open', qps: 500, maxInFlight: 50 }, requestLimit: 500 });
    await agent.waitForType('done', 2);
    expect(agent.done()[1]).toMatchObject({ reason: 'limit', totalSent: 500 });
    expect(harness.fixture.stats().requests).toBe(500);
    expect(sum(agent.frames, 'requests')).toBe(500);
    expect(agent.frames[agent.frames.length - 1].totalSent).toBe(500);

    const done = await stopAgent(harness, agent, child);
    expect(done).toMatchObject({ reason: 'stopped', totalSent: 500 });
  });

  test('assigned with waitForStart, the agent is ready but sends nothing until start; a load update meanwhile is what it starts with', async () => {
    harness = await startHarness({ latencyMs: 1 });
    const child = harness.spawnAgent();
    const agent = await harness.nextAgent();
    await agent.waitForType('hello');
    agent.send({ type: 'assign', assignment: assignment(harness.fixture.url, { kind: 'closed', concurrency: 4, maxQps: null }, { requestLimit: 100, waitForStart: true }) });
    await agent.waitForType('ready');
    agent.send({ type: 'load', load: { kind: 'closed', concurrency: 2, maxQps: null }, requestLimit: 120 });
    // nothing may happen: only a fixed wait can show it
    await sleep(1500);
    expect(harness.fixture.stats().requests).toBe(0);
    expect(agent.frames).toEqual([]);
    agent.send({ type: 'start' });
    await agent.waitForType('done');
    expect(agent.done()[0]).toMatchObject({ reason: 'limit', totalSent: 120 });
    expect(harness.fixture.stats().requests).toBe(120);
    expect(harness.fixture.stats().maxInFlight).toBeLessThanOrEqual(2);
    await stopAgent(harness, agent, child);
  });

  test('with --exit-on-stdin-eof the agent exits when its stdin closes', async () => {
    harness = await startHarness();
    const child = harness.spawnAgent(['--exit-on-stdin-eof']);
    const agent = await harness.nextAgent();
    await agent.waitForType('hello');
    agent.send({ type: 'assign', assignment: assignment(harness.fixture.url, { kind: 'closed', concurrency: 1, maxQps: 20 }) });
    await agent.waitForType('ready');
    child.stdin?.end();
    expect(await harness.exitCode(child, 3000)).toBe(0);
  });

  test('the agent exits (0) when the controller closes the socket', async () => {
    harness = await startHarness();
    const child = harness.spawnAgent();
    const agent = await harness.nextAgent();
    await agent.waitForType('hello');
    agent.close();
    expect(await harness.exitCode(child, 3000)).toBe(0);
  });
});

describe('open loop across agents and under overload', () => {
  let harness: Harness;
  afterEach(async () => {
    await harness?.close();
  });

  test('two agents at 250 QPS each for 10 s deliver 5000 requests (within 1%), counted by the fixture', async () => {
    harness = await startHarness({ latencyMs: 2 });
    const children = [harness.spawnAgent(), harness.spawnAgent()];
    const agents = [await harness.nextAgent(), await harness.nextAgent()];
    for (const agent of agents) await agent.waitForType('hello');
    agents.forEach((agent, i) => agent.send({ type: 'assign', assignment: assignment(harness.fixture.url, { kind: 'open', qps: 250, maxInFlight: 1000 }, { agentIndex: i, agentCount: 2 }) }));
    await Promise.all(agents.map((a) => a.waitForType('ready')));
    // the run's length is what the count is checked against: 1% of 10 s leaves 100 ms for the agents' start and stop
    await sleep(10000);
    await Promise.all(agents.map((agent, i) => stopAgent(harness, agent, children[i])));
    const counted = harness.fixture.stats().requests;
    expect(Math.abs(counted - 5000)).toBeLessThanOrEqual(50);
    expect(agents.reduce((n, a) => n + sum(a.frames, 'requests'), 0)).toBe(counted);
  });

  test('when the service is slow, open-loop requests wait for one of at most 512 connections rather than opening more', async () => {
    harness = await startHarness({ latencyMs: 400 });
    const child = harness.spawnAgent();
    const agent = await harness.nextAgent();
    await agent.waitForType('hello');
    agent.send({ type: 'assign', assignment: assignment(harness.fixture.url, { kind: 'open', qps: 2000, maxInFlight: 5000 }) });
    await agent.waitForType('ready');
    const maxRtMs = (): number => Math.max(0, ...agent.frames.map((f) => quantilesMs(decodeHistogram(f.rtHistogram)).Max));
    // the 512 connections are all busy within 0.3 s; the queue of those waiting for one grows until a request waited 600 ms
    await agent.waitFor(() => maxRtMs() > 600, 'a request that waited for a connection');
    await stopAgent(harness, agent, child);
    const stats = harness.fixture.stats();
    expect(stats.maxInFlight).toBeLessThanOrEqual(512);
    expect(sum(agent.frames, 'dropped')).toBe(0);
    // waiting for a connection is part of the latency (counted from the schedule)
    expect(maxRtMs()).toBeGreaterThan(600);
  });
});
