import * as fs from 'node:fs';
import { signedFetch } from '../helpers/api';
import { ControllerProcess, FixtureProcess, killAllStarted, lastJson, livePids, runEascmd, startController, startFixture, tempDir, waitFor, writeTask } from '../helpers/processes';

interface TaskJson {
  TaskName: string;
  Status: string;
  AvailableAgent: number;
  DesiredAgent: number;
  RoundId: number;
  Message: string;
  Result?: { TotalRequests: number; SuccessRequests: number; StatusCodes: Record<string, number> };
}

describe('manual mode end to end through the real eascmd', () => {
  let controller: ControllerProcess;
  let fixture: FixtureProcess;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('manual');
    fixture = await startFixture(['--latency-ms', '2']);
    controller = await startController();
  });
  afterAll(async () => {
    await controller?.stop();
    await fixture?.stop();
    killAllStarted();
  });

  const cli = (...args: string[]) => runEascmd(['-c', controller.configFile, ...args]);
  const getTask = async (name: string): Promise<TaskJson> => (await signedFetch(controller.url, controller.accessId, controller.secret, 'GET', `/api/v2/benchmark-tasks/cn-local/${name}`)).json as unknown as TaskJson;
  const manualTask = (optional: Record<string, unknown>) => writeTask(dir, { service: { serviceName: 'demo', url: `${fixture.url}/api/predict/demo` }, data: { content: 'aGVsbG8K' }, optional: { mode: 'manual', ...optional } });

  test('create, ls, desc, update, report, start, stop, delete behave as the spec says, and the target saw every reported request', async () => {
    await fixture.reset();
    const created = await cli('bench', 'create', manualTask({ agentCount: 2, concurrency: 4, duration: 8 }));
    expect(created.code).toBe(0);
    const lines = created.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\[RequestId\]: [0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    const name = /^\[OK\] Task \[(benchmark-demo-[0-9a-f]{4})\] is creating$/.exec(lines[1])?.[1] ?? '';
    expect(name).not.toBe('');
    expect(lines).toContain('[OK] Benchmark task is Running');
    expect(lines).toContain('[OK] [Agnet: 2/2]: Benchmark task is Running');

    const ls = await cli('bench', 'ls');
    expect(ls.stdout).toMatch(/\|\s+TASKNAME\s+\|\s+TASKID\s+\|\s+REGION\s+\|\s+AVAILABLEAGENT\s+\|\s+STATUS\s+\|\s+CREATETIME\s+\|/);
    expect(ls.stdout).toMatch(new RegExp(`\\| ${name} \\| eas-b-[a-z0-9]{18} \\| cn-local \\|\\s+2 \\| Running \\|`));

    await waitFor('a second of data', async () => ((await getTask(name)).Result?.TotalRequests ?? 0) > 0);
    const desc = await cli('bench', 'desc', name);
    for (const key of ['TaskName', 'TaskId', 'ServiceName', 'Region', 'DesiredAgent', 'AvailableAgent', 'Status', 'Message', 'CreateTime', 'UpdateTime', 'Config', 'CurrentQPS', 'TP99', 'ErrorRate']) {
      expect(desc.stdout).toMatch(new RegExp(`\\|\\s+${key} \\|`));
    }

    const update = await cli('bench', 'update', name, '-Doptional.concurrency=2', '-Doptional.agentCount=1');
    expect(update.code).toBe(0);
    expect(update.stdout).toContain(`[OK] Running [TaskName: ${name}, DesiredAgent:1, AvailableAgent: `);
    expect(update.stdout).toContain(`[OK] Benchmark task ${name} was updated successfully`);
    await waitFor('one agent left', async () => {
      const t = await getTask(name);
      return t.AvailableAgent === 1 && t.DesiredAgent === 1;
    });

    const early = await cli('bench', 'report', name);
    expect(early.code).toBe(1);
    expect(early.stdout + early.stderr).toMatch(/\[ERROR\] ReportNotReady: /);

    const stopped = await waitFor('Stopped', async () => ((await getTask(name)).Status === 'Stopped' ? getTask(name) : undefined), 30000);
    expect(stopped.Message).toContain('duration of 8 s reached');
    const counted = (await fixture.stats()).requests;
    expect(stopped.Result?.TotalRequests).toBe(counted);
    expect(stopped.Result?.StatusCodes).toEqual({ '200': counted });

    const report = await cli('bench', 'report', name);
    const url = /report url: (\S+)$/m.exec(report.stdout)?.[1] ?? '';
    expect(url).toMatch(new RegExp(`/reports/summary/${name}-10001-[0-9a-f]{32}\\.html$`));
    const html = await (await fetch(url)).text();
    expect(html).toContain(String(counted));

    const started = await cli('bench', 'start', name, '-y');
    expect(started.stdout).toContain(`[OK] Task [${name}] is starting`);
    expect(started.stdout).toContain('[OK] Benchmark task is Running');
    expect((await getTask(name)).RoundId).toBe(10002);

    const cancelled = await runEascmd(['-c', controller.configFile, 'bench', 'stop', name], { input: 'n\n' });
    expect(cancelled.stdout).toContain(`Are you sure to stop the benchmark task [${name}] in [cn-local]? [Y/n]`);
    expect((await getTask(name)).Status).toBe('Running');

    const stop = await runEascmd(['-c', controller.configFile, 'bench', 'stop', name], { input: 'y\n' });
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain(`[OK] Task [${name}] is stopping`);
    expect(stop.stdout).toContain('[OK] Benchmark task is stopped');
    expect((await getTask(name)).Status).toBe('Stopped');

    const summaryDir = `${controller.dataDir}/reports/summary`;
    const roundFiles = (): string[] => fs.readdirSync(summaryDir).filter((f) => f.startsWith(`${name}-`));
    expect(roundFiles().filter((f) => f.startsWith(`${name}-10002-`)).length).toBe(2);
    const deleted = await cli('bench', 'delete', name, '-y');
    expect(deleted.stdout).toContain(`[OK] Benchmark task ${name} is Deleting`);
    expect(deleted.stdout).toContain('[OK] Benchmark task was deleted successfully');
    expect(roundFiles()).toEqual([]);
    expect((await cli('bench', 'ls')).stdout).not.toContain(name);
    expect(livePids(name)).toEqual([]);
  });

  test('requestCount is honoured exactly', async () => {
    await fixture.reset();
    const created = await cli('bench', 'create', manualTask({ agentCount: 2, concurrency: 3, duration: 60, requestCount: 1500 }), '--wait');
    expect(created.code).toBe(0);
    expect((await fixture.stats()).requests).toBe(1500);
    expect(created.stdout).toMatch(/TotalRequests\s*\|\s*1500\b/);
  });

  test('a bad task JSON gets one clear error naming the field, and no task is created', async () => {
    const before = (await cli('bench', 'ls', '--json')).stdout;
    const bad = await cli('bench', 'create', manualTask({ duration: 5000 }));
    expect(bad.code).toBe(1);
    expect((bad.stdout + bad.stderr).trim()).toBe('[ERROR] InvalidField: optional.duration: must be <= 1200');
    const after = (await cli('bench', 'ls', '--json')).stdout;
    expect(JSON.parse(after).Tasks).toEqual(JSON.parse(before).Tasks);
  });

  test('timeouts are recorded as 512 and refused connections as 599', async () => {
    await fixture.configure({ latencyMs: 300 });
    const timeouts = await cli('bench', 'create', writeTask(dir, { service: { serviceName: 'demo', url: `${fixture.url}/slow` }, http: { timeout: 100 }, optional: { mode: 'manual', concurrency: 2, duration: 2 } }), '--wait', '--json');
    await fixture.configure({ latencyMs: 2 });
    const t = lastJson<TaskJson>(timeouts.stdout);
    expect(Object.keys(t.Result?.StatusCodes ?? {})).toEqual(['512']);
    const refused = await cli('bench', 'create', writeTask(dir, { service: { serviceName: 'demo', url: 'http://127.0.0.1:9/closed' }, optional: { mode: 'manual', concurrency: 1, duration: 2 } }), '--wait', '--json');
    const r = lastJson<TaskJson>(refused.stdout);
    expect(Object.keys(r.Result?.StatusCodes ?? {})).toEqual(['599']);
  });
});

describe('controller crash', () => {
  afterAll(() => killAllStarted());

  test('kill -9 during a run, then a restart: the task is Terminated with its data so far, and its report is written', async () => {
    const fixture = await startFixture(['--latency-ms', '2']);
    const controller = await startController();
    const dir = tempDir('crash');
    const created = await runEascmd(['-c', controller.configFile, 'bench', 'create', writeTask(dir, { service: { serviceName: 'demo', url: `${fixture.url}/x` }, optional: { mode: 'manual', concurrency: 2, duration: 60 } })]);
    const name = /Task \[(\S+)\] is creating/.exec(created.stdout)?.[1] ?? '';
    const call = (c: ControllerProcess, path: string) => signedFetch(c.url, c.accessId, c.secret, 'GET', path);
    await waitFor('3 seconds of data', async () => ((await call(controller, `/api/v2/benchmark-tasks/cn-local/${name}/stats`)).json.Series as unknown[]).length >= 3);
    await controller.stop('SIGKILL');
    await waitFor('agents to exit with their controller', () => livePids(name).length === 0, 10000);
    const port = new URL(controller.url).port;
    const restarted = await startController({ dataDir: controller.dataDir, args: ['--port', port] });
    try {
      const task = (await call(restarted, `/api/v2/benchmark-tasks/cn-local/${name}`)).json as unknown as TaskJson;
      expect(task.Status).toBe('Terminated');
      expect(task.Message).toMatch(/^Terminated: the controller stopped while the task was Running/);
      const stats = (await call(restarted, `/api/v2/benchmark-tasks/cn-local/${name}/stats`)).json as { Series: unknown[]; Result: { TotalRequests: number } };
      expect(stats.Series.length).toBeGreaterThanOrEqual(3);
      expect(stats.Result.TotalRequests).toBeGreaterThan(0);
      const report = await waitFor('the report', async () => {
        const r = await call(restarted, `/api/v2/benchmark-tasks/cn-local/${name}/report`);
        return r.status === 200 ? (r.json.ReportUrl as string) : undefined;
      });
      expect((await fetch(report)).status).toBe(200);
    } finally {
      await restarted.stop();
      await fixture.stop();
    }
  });
});
