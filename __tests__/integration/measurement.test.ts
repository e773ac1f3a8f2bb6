import { StatsPoint, TaskEvent } from '../../src/contract';
import { signedFetch } from '../helpers/api';
import { ControllerProcess, FixtureProcess, killAllStarted, lastJson, runEascmd, startController, startFixture, tempDir, writeTask } from '../helpers/processes';

interface Detail {
  TaskName: string;
  Status: string;
  Capacity?: { Reason: string };
  Events: TaskEvent[];
}
interface Stats {
  Series: StatsPoint[];
  Result: { TotalRequests: number; DurationS: number; GeneratorLimitedShare?: number; GeneratorLimitedSeconds?: number };
}

/** A fixed open-loop rate: a scan whose first step is also its last. */
const fixedRate = (url: string, qps: number, durationS: number, maxRT?: number) => ({
  service: { serviceName: 'measure', url },
  optional: { mode: 'scan', minQPS: qps, maxQPS: qps, qpsGrowthDelta: 1, adjustInterval: 1200, duration: durationS, faultTolerate: 1, ...(maxRT ? { maxRT } : {}) },
});

async function runTask(controller: ControllerProcess, dir: string, task: unknown): Promise<{ detail: Detail; stats: Stats }> {
  const res = await runEascmd(['-c', controller.configFile, 'bench', 'create', writeTask(dir, task), '--wait', '--json'], { timeoutMs: 120000 });
  const detail = lastJson<Detail>(res.stdout);
  const stats = await signedFetch(controller.url, controller.accessId, controller.secret, 'GET', `/api/v2/benchmark-tasks/cn-local/${detail.TaskName}/stats`);
  return { detail, stats: stats.json as unknown as Stats };
}

describe('measurement truth', () => {
  const dir = tempDir('measure');
  let fixture: FixtureProcess;
  beforeAll(async () => {
    fixture = await startFixture(['--latency-ms', '1']);
  });
  afterAll(async () => {
    await fixture?.stop();
    killAllStarted();
  });

  test('5000 QPS for 5 s: the fixture counts 25 000 ± 25 requests, and so does the round', async () => {
    const controller = await startController();
    try {
      await fixture.reset();
      const { detail, stats } = await runTask(controller, dir, fixedRate(`${fixture.url}/count`, 5000, 5));
      expect(detail.Status).toBe('Stopped');
      const counted = (await fixture.stats()).requests;
      expect(Math.abs(counted - 25_000)).toBeLessThanOrEqual(25);
      expect(Math.abs(stats.Result.TotalRequests - 25_000)).toBeLessThanOrEqual(25);
      expect(stats.Result.DurationS).toBe(5);
      // every second carries the agents' own figures and the gate's verdict on it
      expect(stats.Series.filter((p) => p.Requests > 0).every((p) => p.Generator !== undefined)).toBe(true);
      expect(stats.Result.GeneratorLimitedShare).toBeGreaterThanOrEqual(0);
    } finally {
      await controller.stop();
    }
  });

  test('an agent that blocks its event loop 50 ms every second: those seconds are generator-limited, and a scan with maxRT neither holds nor stops on them', async () => {
    // test-only hook (agent/test-hooks.ts), inherited by the agents the controller launches
    const controller = await startController({ env: { ...process.env, EASCMD_AGENT_TEST_BLOCK_LOOP_MS: '50' }, args: ['--max-agents', '1'] });
    try {
      const { detail, stats } = await runTask(controller, dir, {
        service: { serviceName: 'blocked', url: `${fixture.url}/blocked` },
        optional: { mode: 'scan', minQPS: 200, qpsGrowthDelta: 100, adjustInterval: 3, maxQPS: 400, maxRT: 25, faultTolerate: 1, duration: 12 },
      });
      expect(detail.Status).toBe('Stopped');
      // a block of 50 ms is seen by the agent itself: every such second is marked
      const blocked = stats.Series.filter((p) => p.Requests > 0 && (p.Generator?.LoopDelayMaxMs ?? 0) >= 35);
      expect(blocked.length).toBeGreaterThanOrEqual(5);
      for (const p of blocked) expect(p.Generator?.Limited).toBe(true);
      expect(stats.Result.GeneratorLimitedSeconds).toBeGreaterThanOrEqual(blocked.length);
      // maxRT 25 ms is far over what the 1 ms fixture takes and far under what the blocks cost: only a gate-less scan holds on it
      expect(detail.Capacity?.Reason).not.toBe('maxRT');
      expect(detail.Events.some((e) => e.Kind === 'hold' && /maxRT/.test(e.Message) && !/generator-limited/.test(e.Message))).toBe(false);
      expect(detail.Events.some((e) => e.Kind === 'verdict' && e.Step?.Verdict === 'bad')).toBe(false);
    } finally {
      await controller.stop();
    }
  });
});
