import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { signedFetch } from '../helpers/api';
import { BIN, ControllerProcess, killAllStarted, livePids, runEascmd, startController, startFixture, tempDir, waitFor, writeTask } from '../helpers/processes';

interface Detail {
  TaskName: string;
  Status: string;
  Message: string;
  AvailableAgent: number;
  Events: { Kind: string; Message: string; Time: string }[];
  Result?: { TotalRequests: number; StatusCodes: Record<string, number> };
}

const get = async (c: ControllerProcess, p: string) => (await signedFetch(c.url, c.accessId, c.secret, 'GET', p)).json;
const detail = async (c: ControllerProcess, name: string) => (await get(c, `/api/v2/benchmark-tasks/cn-local/${name}`)) as unknown as Detail;
const createTask = async (c: ControllerProcess, task: unknown): Promise<string> => {
  const res = await signedFetch(c.url, c.accessId, c.secret, 'POST', '/api/v2/benchmark-tasks', JSON.stringify(task));
  expect(res.status).toBe(200);
  const name = res.json.TaskName as string;
  await waitFor('Running', async () => (await detail(c, name)).Status === 'Running');
  return name;
};

afterAll(() => killAllStarted());

describe('faults', () => {
  test('an agent killed with -9 is replaced within 5 s, the task goes on, and events record it', async () => {
    const fixture = await startFixture(['--latency-ms', '2']);
    const controller = await startController();
    try {
      const name = await createTask(controller, { service: { serviceName: 'demo', url: `${fixture.url}/x` }, optional: { mode: 'manual', agentCount: 2, concurrency: 2, duration: 14 } });
      await new Promise((r) => setTimeout(r, 3000));
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
    } finally {
      await controller.stop();
      await fixture.stop();
    }
  });

  test('the target going away and coming back: errors are counted as 599 and the task continues', async () => {
    const fixture = await startFixture(['--latency-ms', '2']);
    const port = new URL(fixture.url).port;
    const controller = await startController();
    try {
      const name = await createTask(controller, { service: { serviceName: 'demo', url: `${fixture.url}/x` }, optional: { mode: 'manual', concurrency: 2, duration: 10 } });
      await new Promise((r) => setTimeout(r, 2500));
      await fixture.stop();
      await new Promise((r) => setTimeout(r, 2500));
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
    await new Promise((r) => setTimeout(r, 2500));
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
      expect(fs.existsSync(path.join(controller.dataDir, 'reports', 'summary', `${name}-10001.html`))).toBe(true);
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
    const res = await post(huge);
    expect(res.status).toBe(413);
    expect(res.json.Code).toBe('PayloadTooLarge');
    expect((await get(controller, '/api/v2/benchmark-tasks')).Tasks).toEqual([]);
  });
});

describe('security', () => {
  test('secrets never appear in desc, reports or the controller log; config files are 0600', async () => {
    const fixture = await startFixture(['--latency-ms', '1']);
    const controller = await startController();
    try {
      const dir = tempDir('secrets');
      const token = 'tok-SECRET-1234567890';
      const apiKey = 'key-SECRET-0987654321';
      const created = await runEascmd(['-c', controller.configFile, 'bench', 'create', writeTask(dir, { service: { serviceName: 'demo', url: `${fixture.url}/x`, requestToken: token }, http: { headers: [`X-Api-Key:${apiKey}`] }, optional: { mode: 'manual', concurrency: 1, duration: 2 } }), '--wait']);
      const name = /Task \[(\S+)\]/.exec(created.stdout)?.[1] ?? '';
      const desc = await runEascmd(['-c', controller.configFile, 'bench', 'desc', name]);
      const json = await runEascmd(['-c', controller.configFile, 'bench', 'desc', name, '--json']);
      const reportDir = path.join(controller.dataDir, 'reports', 'summary');
      const reports = fs.readdirSync(reportDir).map((f) => fs.readFileSync(path.join(reportDir, f), 'utf8')).join('\n');
      for (const text of [created.stdout, desc.stdout, json.stdout, reports, controller.output()]) {
        expect(text).not.toContain(token);
        expect(text).not.toContain(apiKey);
      }
      expect(controller.output()).not.toContain(controller.secret);
      expect(fs.statSync(path.join(controller.dataDir, 'credentials.json')).mode & 0o777).toBe(0o600);
      const cfg = path.join(dir, 'written.ini');
      const res = await runEascmd(['-c', cfg, 'config', '-i', 'AK', '-k', 'SK', '-e', 'http://127.0.0.1:1']);
      expect(res.code).toBe(0);
      expect(fs.statSync(cfg).mode & 0o777).toBe(0o600);
    } finally {
      await controller.stop();
      await fixture.stop();
    }
  });
});
