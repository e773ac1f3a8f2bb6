import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { AGENT_LIMITS, parseAgentMessage, type AgentAssignment, type LlmLoad } from '../../src/contract';
import { AgentSession, FakeController, startFakeController } from '../helpers/fake-controller';
import { HOSTILE_BEHAVIOURS, HostileBehaviour, HostileService, startHostileService } from '../helpers/hostile-service';
import { createAndWait, llmRecords, writeLlmTask } from '../helpers/llm';
import { killAllStarted, startController, tempDir } from '../helpers/processes';

/**
 * A misbehaving service under test against a real agent process (the other
 * side of `integration/fuzz.test.ts`): each request gets a behaviour drawn
 * from a seeded generator (endless `data:` lines, a line with no end, an
 * endless 500 body, endless tokens, a 300 KB word, bad usage, status 000,
 * cut streams, a million-token answer). The agent must stay under its
 * documented memory cap (1 GiB, the Kubernetes agent limit), keep sending a
 * frame every second that the controller's parser accepts, and end with its
 * last frame and `done` when told to stop, or when signalled.
 */
const SECONDS = Number(process.env.FUZZ_HOSTILE_SECONDS ?? 12);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 100_000);
/** docs/llm.md, "Response limits": what an agent facing any service stays under. */
const AGENT_MEMORY_CAP = 1024 * 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  return kb ? Number(kb[1]) * 1024 : 0;
}

function llmAssignment(url: string, concurrency: number): AgentAssignment {
  const load: LlmLoad = { kind: 'llm', testMode: 'concurrency', concurrency, ratePerS: 0, maxInFlight: null, burstiness: 1, seed: 1 };
  return {
    taskId: 'eas-b-hostile',
    roundId: 1,
    agentIndex: 0,
    agentCount: 1,
    startOffset: 0,
    request: { url: `${url}/v1/chat/completions`, method: 'POST', headers: [['Content-Type', 'application/json']], bodies: [], timeoutMs: 60_000 },
    load,
    requestLimit: null,
    llm: { api: 'chat', model: 'hostile', ignoreEos: false, maxTokens: null, source: { kind: 'synthetic', inputTokens: [16, 16], outputTokens: [16, 16], seed: 1 } },
  };
}

/** Every message the agent sent is one the controller's parser accepts, within the frame limit; the stats frames' arrival times. */
function checkMessages(agent: AgentSession): number[] {
  const arrivals: number[] = [];
  for (const { text, atMs } of agent.received) {
    expect(Buffer.byteLength(text)).toBeLessThan(AGENT_LIMITS.frameBytes);
    const parsed = parseAgentMessage(text);
    if (typeof parsed === 'string') throw new Error(`the controller would refuse a message: ${parsed}`);
    if (parsed.type === 'stats') arrivals.push(atMs);
  }
  return arrivals;
}

describe('a hostile service against a real agent', () => {
  let controller: FakeController;
  let service: HostileService | undefined;

  beforeEach(async () => {
    controller = await startFakeController();
  });

  afterEach(async () => {
    await controller.close();
    await service?.close();
    service = undefined;
  });

  /** Runs an agent against `pick` for `seconds`, sampling its memory; then `end` (stop or a signal) must bring its last frame, `done` and exit 0. */
  async function run(pick: (n: number) => HostileBehaviour, seconds: number, end: (agent: AgentSession, child: ChildProcess) => void): Promise<{ agent: AgentSession; maxRss: number }> {
    service = await startHostileService(pick);
    const child = controller.spawnAgent();
    const agent = await controller.nextAgent();
    await agent.waitForType('hello');
    agent.send({ type: 'assign', assignment: llmAssignment(service.url, 4) });
    let maxRss = 0;
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      maxRss = Math.max(maxRss, rssBytes(child.pid!));
      await sleep(100);
    }
    end(agent, child);
    await agent.waitForType('done', 1, 20_000);
    expect(await controller.exitCode(child, 20_000)).toBe(0);
    return { agent, maxRss };
  }

  test(`random hostile answers (seed ${SEED}): memory under the cap, a frame every second, every frame accepted, done at stop`, async () => {
    // every behaviour once, in a random order, then random ones
    const [first] = fc.sample(fc.shuffledSubarray([...HOSTILE_BEHAVIOURS], { minLength: HOSTILE_BEHAVIOURS.length }), { seed: SEED, numRuns: 1 });
    const picks = [...first, ...fc.sample(fc.constantFrom(...HOSTILE_BEHAVIOURS), { seed: SEED + 1, numRuns: 1000 })];
    const { agent, maxRss } = await run((n) => picks[n % picks.length], SECONDS, (a) => a.send({ type: 'stop', reason: 'fuzz over' }));
    process.stdout.write(`hostile fuzz, seed ${SEED}: ${JSON.stringify(service?.counts)}; agent RSS at most ${(maxRss / 1048576).toFixed(0)} MiB\n`);
    expect(maxRss).toBeLessThan(AGENT_MEMORY_CAP);
    const arrivals = checkMessages(agent);
    // the agent's loop never stalled: a frame kept coming every second (generous for a shared machine)
    expect(arrivals.length).toBeGreaterThan(SECONDS / 2);
    for (let i = 1; i < arrivals.length; i++) expect(arrivals[i] - arrivals[i - 1]).toBeLessThan(5000);
    const frames = agent.frames;
    const seconds = frames.map((f) => f.second);
    for (let i = 1; i < seconds.length; i++) expect(seconds[i] - seconds[i - 1]).toBeLessThanOrEqual(1);
    const records = frames.flatMap((f) => f.llmRecords ?? []);
    expect(records.length).toBeGreaterThan(0);
    expect(frames.reduce((n, f) => n + f.requests, 0)).toBe(records.length);
    // what each behaviour must come to
    for (const r of records) {
      if (r.error?.startsWith('response too large')) expect(r.success).toBe(false);
      expect(Number.isSafeInteger(r.inputTokens) && Number.isSafeInteger(r.outputTokens)).toBe(true);
    }
  }, 90_000);

  test('an agent counting 300 KB one-word answers still answers SIGTERM with its last frame and done', async () => {
    const { agent, maxRss } = await run(() => 'one-word', 3, (_a, child) => child.kill('SIGTERM'));
    expect(maxRss).toBeLessThan(AGENT_MEMORY_CAP);
    const records = agent.frames.flatMap((f) => f.llmRecords ?? []);
    expect(records.length).toBeGreaterThan(4);
    expect(records.every((r) => r.success && r.outputTokens === 37_500)).toBe(true);
  }, 60_000);

  test('every answer a 500 that never ends: requests fail as response too large, memory under the cap', async () => {
    const { agent, maxRss } = await run(() => 'endless-500', 4, (a) => a.send({ type: 'stop', reason: 'over' }));
    expect(maxRss).toBeLessThan(AGENT_MEMORY_CAP);
    const records = agent.frames.flatMap((f) => f.llmRecords ?? []);
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => r.status === 500 && r.error === 'response too large: a response body over 67108864 bytes')).toBe(true);
  }, 60_000);
});

describe('a hostile service against a real controller and its agent', () => {
  test('bad usage and records larger than a frame: every answer recorded, no agent lost, a Result', async () => {
    const behaviours: HostileBehaviour[] = ['bad-usage', 'huge-answer', 'normal', 'huge-answer', 'status-000', 'huge-answer'];
    const service = await startHostileService((n) => behaviours[n % behaviours.length]);
    const controller = await startController();
    try {
      const t = await createAndWait(controller, writeLlmTask(tempDir('hostile'), service.url, { testMode: 'concurrency', concurrency: 4 }));
      expect(t.Status).toBe('Stopped');
      expect(t.Result?.TotalRequests).toBe(100);
      // the agent was never refused nor replaced, and no frame of it was refused
      expect(t.Events?.filter((e) => e.Kind === 'agent-lost')).toEqual([]);
      expect(t.Events?.filter((e) => /refused/.test(e.Message))).toEqual([]);
      expect(t.Events?.some((e) => /the service sent usage\.\w+ .*not a token count/.test(e.Message))).toBe(true);
      expect(t.Events?.some((e) => /token gaps: a record keeps 262144/.test(e.Message))).toBe(true);
      const records = (await llmRecords(controller, t.TaskName)).Records;
      expect(records).toHaveLength(100);
      // every gap of a huge answer is kept or counted: a record's own bound, then its second's (AGENT_LIMITS.secondRecordValues)
      const huge = records.filter((r) => r.success && r.outputTokens > 900_000);
      expect(huge.length).toBeGreaterThan(40);
      for (const r of huge) expect(r.itlMs.length + (r.itlLeftOut ?? 0)).toBeGreaterThan(900_000);
      for (const r of huge) expect(r.itlMs.length).toBeLessThanOrEqual(262_144);
      expect(records.filter((r) => r.status === 599 && !r.success)).toHaveLength(16);
    } finally {
      await controller.stop();
      await service.close();
      killAllStarted();
    }
  }, 120_000);
});
