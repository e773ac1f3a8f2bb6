import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import { AGENT_WS_PATH, PROTOCOL_VERSION } from '../../src/contract';
import { signedFetch } from '../helpers/api';
import { BIN, ControllerProcess, FixtureProcess, killAllStarted, livePids, runEascmd, startController, startFixture, startProcess, tempDir, waitFor, writeTask } from '../helpers/processes';
import { listeningAddresses } from '../helpers/sockets';
import { canMountSmallDisk, mountSmallDisk, SmallDisk } from '../helpers/tmpfs';

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

/** A fixture (answering after `latencyMs`) and a controller of the test's own, both stopped after it. */
async function withFixtureAndController(latencyMs: number, run: (fixture: FixtureProcess, controller: ControllerProcess) => Promise<void>): Promise<void> {
  const fixture = await startFixture(['--latency-ms', String(latencyMs)]);
  const controller = await startController();
  try {
    await run(fixture, controller);
  } finally {
    await controller.stop();
    await fixture.stop();
  }
}

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

interface Series {
  Status: string;
  Series: { Time: number; Requests: number }[];
}

/** What the task's folder on disk holds: every line must be whole JSON. */
/** The HTML reports of round 10001 in the local store (their names end in a random part). */
function reportFiles(dataDir: string, name: string): string[] {
  const dir = path.join(dataDir, 'reports', 'summary');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith(`${name}-10001-`) && f.endsWith('.html')) : [];
}

function onDisk(dataDir: string, name: string): { status: string; seconds: { point: { Time: number; Requests: number } }[]; events: { Kind: string; Message: string }[]; leftovers: string[] } {
  const dir = path.join(dataDir, 'tasks', name);
  const lines = (file: string) => fs.readFileSync(path.join(dir, file), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as never);
  return {
    status: (JSON.parse(fs.readFileSync(path.join(dir, 'task.json'), 'utf8')) as { status: string }).status,
    seconds: lines('round-10001.seconds.ndjson'),
    events: lines('round-10001.events.ndjson'),
    leftovers: fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
  };
}

// A real full disk: a small tmpfs as the data dir, filled to ENOSPC mid-run. Mounting needs root.
const mountable = canMountSmallDisk();
if (!mountable) console.warn('full-disk tests skipped: this machine does not allow mounting a tmpfs (run as root)');
const onSmallDisk = mountable ? describe : describe.skip;

onSmallDisk('a full data dir', () => {
  let disk: SmallDisk;
  let dataDir: string;
  let fixture: FixtureProcess;
  let controller: ControllerProcess;
  beforeAll(async () => {
    disk = mountSmallDisk(4 * 1024 * 1024)!;
    dataDir = path.join(disk.dir, 'data');
    fixture = await startFixture(['--latency-ms', '2']);
    controller = await startController({ dataDir });
  });
  afterAll(async () => {
    await controller?.stop();
    await fixture?.stop();
    disk?.unmount();
  });
  afterEach(() => disk.free());

  test('mid-run: the run goes on, the Message says so, and every second reaches the disk once there is room', async () => {
    await fixture.reset();
    const name = await createTask(controller, { service: { serviceName: 'demo', url: `${fixture.url}/x` }, optional: { mode: 'manual', concurrency: 2, duration: 16 } });
    const seriesLength = async (): Promise<number> => ((await get(controller, `/api/v2/benchmark-tasks/cn-local/${name}/stats`)) as unknown as Series).Series.length;
    // the disk fills once a few seconds of the run are on it
    await waitFor('seconds of the run written', async () => onDisk(dataDir, name).seconds.length >= 2, 20000, 100);
    disk.fill();
    const troubled = await waitFor('the full disk noticed', async () => {
      const d = await detail(controller, name);
      return d.Events.some((e) => e.Kind === 'storage') ? d : undefined;
    }, 10000);
    expect(troubled.Status).toBe('Running');
    expect(troubled.Message).toMatch(/\[data dir cannot be written \(ENOSPC\): \d+ lines? of data held in memory until it can\]$/);
    const described = await runEascmd(['-c', controller.configFile, 'bench', 'desc', name]);
    expect(described.stdout).toContain('data dir cannot be written (ENOSPC)');
    // the live views keep every second while the disk refuses them
    const before = await seriesLength();
    await waitFor('two more seconds in the live views', async () => (await seriesLength()) >= before + 2, 10000, 100);
    const during = (await get(controller, `/api/v2/benchmark-tasks/cn-local/${name}/stats`)) as unknown as Series;
    expect(during.Series.length).toBeGreaterThanOrEqual(before + 2);
    // nothing on disk is torn or half-written meanwhile
    const held = onDisk(dataDir, name);
    expect(held.status).toBe('Running');
    expect(held.seconds.length).toBeLessThan(during.Series.length);
    expect(held.leftovers).toEqual([]);
    disk.free();
    await waitFor('the disk writable again', async () => (await detail(controller, name)).Events.some((e) => /can be written again/.test(e.Message)), 10000);
    const end = await waitFor('Stopped', async () => {
      const d = await detail(controller, name);
      return d.Status === 'Stopped' ? d : undefined;
    }, 30000);
    expect(end.Message).not.toContain('data dir cannot be written');
    const stats = (await get(controller, `/api/v2/benchmark-tasks/cn-local/${name}/stats`)) as unknown as Series;
    const saved = onDisk(dataDir, name);
    expect(saved.status).toBe('Stopped');
    expect(saved.seconds.map((s) => s.point.Time)).toEqual(stats.Series.map((p) => p.Time));
    expect(saved.seconds.map((s) => s.point.Requests)).toEqual(stats.Series.map((p) => p.Requests));
    expect(saved.events.filter((e) => e.Kind === 'storage').map((e) => e.Message)).toEqual([
      expect.stringContaining('cannot write to the data dir (ENOSPC)'),
      expect.stringContaining('can be written again'),
    ]);
    expect(end.Result!.TotalRequests).toBe((await fixture.stats()).requests);
    expect(reportFiles(dataDir, name)).toHaveLength(1);
  });

  test('till the end of the run: the report waits for room, then everything is written', async () => {
    const name = await createTask(controller, { service: { serviceName: 'demo', url: `${fixture.url}/x` }, optional: { mode: 'manual', concurrency: 2, duration: 6 } });
    disk.fill();
    const stopped = await waitFor('Stopped', async () => {
      const d = await detail(controller, name);
      return d.Status === 'Stopped' ? d : undefined;
    }, 30000);
    expect(stopped.Message).toContain('report not written');
    expect(stopped.Message).toContain('data dir cannot be written (ENOSPC)');
    const report = await runEascmd(['-c', controller.configFile, 'bench', 'report', name]);
    expect(report.code).not.toBe(0);
    expect(report.stderr.trim()).toMatch(/^\[ERROR\] ReportNotFound: .*ENOSPC.*it is written when the data dir can be written again/);
    // the controller still answers while its disk is full
    const stats = (await get(controller, `/api/v2/benchmark-tasks/cn-local/${name}/stats`)) as unknown as Series;
    expect(stats.Series.length).toBeGreaterThan(0);
    disk.free();
    const written = await waitFor('the report', async () => {
      const res = await runEascmd(['-c', controller.configFile, 'bench', 'report', name]);
      return res.code === 0 ? res : undefined;
    }, 15000, 500);
    expect(written.stdout).toMatch(new RegExp(`${name}-10001-[0-9a-f]{32}\\.html`));
    const saved = onDisk(dataDir, name);
    expect(saved.status).toBe('Stopped');
    expect(saved.seconds.map((s) => s.point.Time)).toEqual(stats.Series.map((p) => p.Time));
    expect((await detail(controller, name)).Message).not.toMatch(/report not written|cannot be written/);
  });

  test('creating a task on a full disk is one clear error and leaves nothing behind', async () => {
    const tasksBefore = fs.readdirSync(path.join(dataDir, 'tasks'));
    disk.fill();
    const dir = tempDir('full-create');
    const res = await runEascmd(['-c', controller.configFile, 'bench', 'create', writeTask(dir, { service: { serviceName: 'demo', url: `${fixture.url}/x` }, optional: { mode: 'manual', duration: 5 } })]);
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim()).toMatch(/^\[ERROR\] StorageFull: cannot save task benchmark-demo-\S+: the data dir is full \(ENOSPC\)$/);
    expect(fs.readdirSync(path.join(dataDir, 'tasks'))).toEqual(tasksBefore);
    const listed = (await get(controller, '/api/v2/benchmark-tasks')) as { Tasks: { TaskName: string }[] };
    expect(listed.Tasks.map((t) => t.TaskName).sort()).toEqual([...tasksBefore].sort());
  });

  test('after a restart, the task written through a full disk reads back whole', async () => {
    const listed = (await get(controller, '/api/v2/benchmark-tasks')) as { Tasks: { TaskName: string }[] };
    const before = await Promise.all(listed.Tasks.map(async (t) => (await get(controller, `/api/v2/benchmark-tasks/cn-local/${t.TaskName}/stats`)) as unknown as Series & { Result: { TotalRequests: number } }));
    expect(before.map((b) => b.Status)).toEqual(listed.Tasks.map(() => 'Stopped'));
    await controller.stop();
    controller = await startController({ dataDir });
    for (const [i, t] of listed.Tasks.entries()) {
      const after = (await get(controller, `/api/v2/benchmark-tasks/cn-local/${t.TaskName}/stats`)) as unknown as Series & { Result: { TotalRequests: number } };
      expect(after.Series).toEqual(before[i].Series);
      expect(after.Result.TotalRequests).toBe(before[i].Result.TotalRequests);
    }
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

/** What the agents' endpoint answers a hello with this token: the close code, and any message before it. */
function agentHello(controller: ControllerProcess, token: string): Promise<{ code: number; reason: string; messages: string[] }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${controller.url.replace(/^http/, 'ws')}${AGENT_WS_PATH}`);
    const messages: string[] = [];
    const timer = setTimeout(() => socket.terminate(), 5000);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'hello', agentId: 'probe', token, pid: process.pid, host: 'test', version: PROTOCOL_VERSION })));
    socket.on('message', (data) => messages.push(JSON.parse(data.toString()).type as string));
    socket.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString(), messages });
    });
    socket.on('error', reject);
  });
}

const agentToken = (dataDir: string, name: string): string => (JSON.parse(fs.readFileSync(path.join(dataDir, 'tasks', name, 'task.json'), 'utf8')) as { agentToken: string }).agentToken;

describe('security', () => {
  test("the agents' endpoint takes only the running task's current agent token, renewed at every start", () =>
    withFixtureAndController(1, async (fixture, controller) => {
      const name = await createTask(controller, { service: { serviceName: 'demo', url: `${fixture.url}/x` }, optional: { mode: 'manual', concurrency: 1, duration: 60 } });
      const first = agentToken(controller.dataDir, name);
      expect(await agentHello(controller, 'not-a-token')).toMatchObject({ code: 4401, reason: 'unknown token', messages: [] });
      expect(await agentHello(controller, `${first}x`)).toMatchObject({ code: 4401, messages: [] });
      // the right token passes: the task has its agent already, so the seat is refused politely, not as unauthorized
      expect(await agentHello(controller, first)).toMatchObject({ code: 1000, reason: 'no agent needed' });
      await runEascmd(['-c', controller.configFile, 'bench', 'stop', name]);
      await waitFor('Stopped', async () => (await detail(controller, name)).Status === 'Stopped');
      expect(await agentHello(controller, first)).toMatchObject({ code: 4401 });
      await runEascmd(['-c', controller.configFile, 'bench', 'start', name]);
      await waitFor('Running', async () => (await detail(controller, name)).Status === 'Running');
      const second = agentToken(controller.dataDir, name);
      expect(second).not.toBe(first);
      expect(await agentHello(controller, first)).toMatchObject({ code: 4401 });
      expect(await agentHello(controller, second)).toMatchObject({ code: 1000, reason: 'no agent needed' });
    }));

  test('by default the controller (API and agent endpoint) and the statsview page listen on 127.0.0.1 only', () =>
    withFixtureAndController(1, async (fixture, controller) => {
      expect(listeningAddresses(Number(new URL(controller.url).port))).toEqual(['127.0.0.1']);
      const name = await createTask(controller, { service: { serviceName: 'demo', url: `${fixture.url}/x` }, optional: { mode: 'manual', concurrency: 1, duration: 6 } });
      const view = await startProcess(BIN.eascmd, ['-c', controller.configFile, 'bench', 'visualize', name], /Click the link (http:\/\/[^\s]+) to observe/, { NO_COLOR: '1' });
      try {
        expect(listeningAddresses(Number(new URL(view.match[1]).port))).toEqual(['127.0.0.1']);
      } finally {
        await view.stop('SIGINT');
      }
    }));

  test('secrets never appear in desc, reports or the controller log; config files are 0600', () =>
    withFixtureAndController(1, async (fixture, controller) => {
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
    }));
});
