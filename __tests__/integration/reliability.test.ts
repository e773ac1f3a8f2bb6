import { spawnSync } from 'node:child_process';
import { signedFetch, signedPostHeadFirst } from '../helpers/api';
import { BIN, ControllerProcess, killAllStarted, livePids, startController, startFixture, waitFor } from '../helpers/processes';
import { createTask, detail, get, reportFiles, withFixtureAndController } from '../helpers/reliability';

/** Faults of the processes and the target, and broken input (the full data dir: reliability-disk; security: reliability-security). */

afterAll(() => killAllStarted());

describe('faults', () => {
  test('an agent killed with -9 is replaced within 5 s, the task goes on, and events record it', () =>
    withFixtureAndController(2, async (fixture, controller) => {
      const name = await createTask(controller, { service: { serviceName: 'demo', url: `${fixture.url}/x` }, optional: { mode: 'manual', agentCount: 2, concurrency: 2, duration: 14 } });
      await waitFor('both agents sending', async () => (await detail(controller, name)).AvailableAgent === 2 && (await fixture.stats()).requests > 0, 20000, 100);
      const [victim] = livePids(`${name}-10001-`);
      process.kill(victim, 'SIGKILL');
      const killedAt = Date.now();
      await waitFor('a replacement agent', async () => (await detail(controller, name)).Events.some((e) => e.Kind === 'agent-added'), 5000, 100);
      expect(Date.now() - killedAt).toBeLessThan(5000);
      const end = await waitFor('Stopped', async () => {
        const d = await detail(controller, name);
        return d.Status === 'Stopped' ? d : undefined;
      }, 30000);
      expect(end.Events.some((e) => e.Kind === 'agent-lost' && /killed by SIGKILL/.test(e.Message))).toBe(true);
      const stats = (await get(controller, `/api/v2/benchmark-tasks/cn-local/${name}/stats`)) as { Series: { AgentsAvailable: number; AgentsDesired: number }[] };
      expect(stats.Series.some((s) => s.AgentsAvailable < s.AgentsDesired)).toBe(true);
      // the killed agent's unsent last second is the only loss: every recorded second is kept
      const counted = (await fixture.stats()).requests;
      expect(end.Result!.TotalRequests).toBeLessThanOrEqual(counted);
      expect(end.Result!.TotalRequests).toBeGreaterThan(counted * 0.8);
    }));

  test('the target going away and coming back: errors are counted as 599 and the task continues', async () => {
    const fixture = await startFixture(['--latency-ms', '2']);
    const port = new URL(fixture.url).port;
    const controller = await startController();
    try {
      const name = await createTask(controller, { service: { serviceName: 'demo', url: `${fixture.url}/x` }, optional: { mode: 'manual', concurrency: 2, duration: 10 } });
      await waitFor('requests answered', async () => (await fixture.stats()).requests > 0, 20000, 100);
      await fixture.stop();
      await waitFor('refused requests counted as 599', async () => ((await detail(controller, name)).Result?.StatusCodes['599'] ?? 0) > 0, 20000, 100);
      const back = await startFixture(['--latency-ms', '2', '--port', port]);
      try {
        const end = await waitFor('Stopped', async () => {
          const d = await detail(controller, name);
          return d.Status === 'Stopped' ? d : undefined;
        }, 30000);
        expect(end.Result!.StatusCodes['200']).toBeGreaterThan(0);
        expect(end.Result!.StatusCodes['599']).toBeGreaterThan(0);
        expect((await back.stats()).requests).toBeGreaterThan(0);
      } finally {
        await back.stop();
      }
    } finally {
      await controller.stop();
    }
  });

  test('SIGTERM stops running tasks, writes their reports, and exits', async () => {
    const fixture = await startFixture(['--latency-ms', '2']);
    const controller = await startController();
    const name = await createTask(controller, { service: { serviceName: 'demo', url: `${fixture.url}/x` }, optional: { mode: 'manual', concurrency: 2, duration: 120 } });
    await waitFor('requests counted', async () => ((await detail(controller, name)).Result?.TotalRequests ?? 0) > 0, 20000, 100);
    controller.proc.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => controller.proc.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(livePids(name)).toEqual([]);
    const restarted = await startController({ dataDir: controller.dataDir });
    try {
      const d = await detail(restarted, name);
      expect(d.Status).toBe('Stopped');
      expect(d.Message).toContain('the controller is shutting down');
      expect(d.Result!.TotalRequests).toBeGreaterThan(0);
      expect(reportFiles(controller.dataDir, name)).toHaveLength(1);
    } finally {
      await restarted.stop();
      await fixture.stop();
    }
  });

  test('a data dir that cannot be used is one clear error', () => {
    const res = spawnSync(process.execPath, [BIN.controller, '--port', '0', '--data-dir', '/etc/hostname/data'], { encoding: 'utf8' });
    expect(res.status).toBe(1);
    expect(res.stderr.trim()).toBe('eascmd-controller: data dir /etc/hostname/data is not writable: ENOTDIR');
  });
});

describe('bad input', () => {
  let controller: ControllerProcess;
  beforeAll(async () => {
    controller = await startController();
  });
  afterAll(() => controller.stop());

  const post = (body: string | Buffer) => signedFetch(controller.url, controller.accessId, controller.secret, 'POST', '/api/v2/benchmark-tasks', body);

  test.each([
    ['wrong type', JSON.stringify({ service: { serviceName: 5 } }), 400, 'InvalidField', 'service.serviceName: must be a string, got a number'],
    ['out of range', JSON.stringify({ service: { serviceName: 'a', url: 'http://127.0.0.1:9/' }, optional: { concurrency: -1 } }), 400, 'InvalidField', 'optional.concurrency: must be >= 1'],
    ['unknown field', JSON.stringify({ service: { serviceName: 'a' }, optional: { turbo: true } }), 400, 'InvalidField', 'optional.turbo: unknown field'],
    ['deep nesting', `{"service":{"serviceName":"a"},"x":${'['.repeat(3000)}${']'.repeat(3000)}}`, 400, 'InvalidField', 'x: unknown field'],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), 400, 'InvalidJson', 'the request body is not valid UTF-8'],
    ['not JSON', 'service=demo', 400, 'InvalidJson', undefined],
    ['empty', '', 400, 'InvalidJson', 'the request body is empty; send the task JSON'],
  ])('%s: a 400 naming the problem, and no task', async (_label, body, status, code, message) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    expect(res.json.Code).toBe(code);
    if (message) expect(res.json.Message).toBe(message);
    expect((await get(controller, '/api/v2/benchmark-tasks')).Tasks).toEqual([]);
  });

  test('a huge body is refused with 413', async () => {
    const huge = `{"service":{"serviceName":"a"},"data":{"content":"${'A'.repeat(81 * 1024 * 1024)}"}}`;
    const res = await signedPostHeadFirst(controller.url, controller.accessId, controller.secret, '/api/v2/benchmark-tasks', huge);
    expect(res.status).toBe(413);
    expect(res.json.Code).toBe('PayloadTooLarge');
    expect((await get(controller, '/api/v2/benchmark-tasks')).Tasks).toEqual([]);
  });
});
