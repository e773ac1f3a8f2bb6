import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { listView } from '../../controller/api/views';
import { API_PREFIX, GetTaskResponse } from '../../src/contract';
import { deleteAllTasks, idleLauncher, InProcessController, useInProcessController } from '../helpers/controller';
import { ROOT, waitFor } from '../helpers/processes';
import { closedPort } from '../helpers/sockets';
import { runCli, writeTaskFile, tempHome, writeCliConfig } from './cli-run-helper';

/**
 * What the CLI says when things go wrong, against the real controller built
 * in-process: failed requests named by cause, CTRL+C while following a task,
 * and the errors a user can fix (the task file, the key).
 */

describe('what the CLI says when things go wrong', () => {
  const live = useInProcessController();
  const idle = useInProcessController({}, { launcher: idleLauncher });
  let home: string;

  beforeEach(() => {
    home = tempHome();
    writeCliConfig(home, live());
  });
  afterEach(async () => {
    await deleteAllTasks(live());
    await deleteAllTasks(idle());
  });

  const detail = async (c: InProcessController, name: string): Promise<GetTaskResponse> =>
    (await c.call('GET', `${API_PREFIX}/${c.region}/${name}`)).json as unknown as GetTaskResponse;

  test('a dead port: every failed request is named "connection refused", in the summary, desc and desc --json', async () => {
    const port = await closedPort();
    const task = { service: { serviceName: 'demo', url: `http://127.0.0.1:${port}/` }, optional: { mode: 'manual', agentCount: 1, concurrency: 1, maxQPS: 20, duration: 2 } };
    const res = await runCli(['bench', 'create', '--wait', writeTaskFile(home, task)], { home });
    const name = /Task \[(\S+)\]/.exec(res.stdout)?.[1] ?? '';
    const done = await detail(live(), name);
    const total = done.Result?.TotalRequests ?? 0;
    expect(total).toBeGreaterThan(0);
    expect(done.Result?.ErrorRequests).toBe(total);
    // counted exactly: every request, one class
    expect(done.Result?.ErrorClasses).toEqual({ 'connection refused': total });
    const line = `599 connection refused: ${total.toLocaleString('en-US')} (100.00%)`;
    expect(res.stdout).toContain(`Failed requests by cause:\n  ${line}\n`);
    const desc = await runCli(['bench', 'desc', name], { home });
    expect(desc.stdout).toMatch(new RegExp(`\\| +ErrorCauses \\| ${line.replace(/[()]/g, '\\$&')} +\\|`));
    const json = await runCli(['--json', 'bench', 'desc', name], { home });
    expect((JSON.parse(json.stdout) as GetTaskResponse).Result?.ErrorClasses).toEqual({ 'connection refused': total });
    // the report names them, in its Test Result (and in its headline, once the round has a verdict)
    const reportUrl = /report url: (\S+)\n/.exec(res.stdout)?.[1] ?? '';
    const html = await (await fetch(reportUrl)).text();
    expect(html).toContain(`<tr><td>599 connection refused</td><td>${total.toLocaleString('en-US')}</td><td>100.00%</td></tr>`);
    // and the per-second points carry the classes too
    const stats = (await live().call('GET', `${API_PREFIX}/${live().region}/${name}/stats`)).json as unknown as { Series: { Errors: number; ErrorClasses?: Record<string, number> }[] };
    for (const p of stats.Series.filter((s) => s.Errors > 0)) expect(p.ErrorClasses).toEqual({ 'connection refused': p.Errors });
  });

  test('CTRL+C while create follows the task to Running: it says the task keeps running and how to follow or stop it, exit 130', async () => {
    writeCliConfig(home, idle());
    const task = { service: { serviceName: 'demo', url: 'http://127.0.0.1:9/' }, optional: { mode: 'manual', agentCount: 1, duration: 60 } };
    const running = runCli(['bench', 'create', writeTaskFile(home, task)], { home });
    // idle agents never connect: the task stays Creating while the command follows it
    await waitFor('the task to exist', () => listView(idle().controller.manager).length === 1, 10000, 10);
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.emit('SIGINT');
    const res = await running;
    const name = listView(idle().controller.manager)[0].TaskName;
    expect(res.code).toBe(130);
    expect(res.stderr).toBe(
      `[ERROR] Interrupted: stopped following; benchmark task ${name} keeps running. Follow it with: eascmd bench visualize ${name} (or eascmd bench desc ${name}); stop it with: eascmd bench stop ${name}\n`,
    );
    expect((await detail(idle(), name)).Status).toBe('Creating');
    // nothing is left listening for CTRL+C
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  test('a task file with a JSON syntax error is refused at its line and column', async () => {
    const res = await runCli(['bench', 'create', writeTaskFile(home, '{\n  "service": {"serviceName": "demo"},\n  "optional": {"duration": 5,}\n}\n')], { home });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^\[ERROR\] InvalidField: not valid JSON: .+ at line 3, column 30\n$/);
  });

  test('an unknown field is refused with what it most likely meant', async () => {
    const res = await runCli(['bench', 'create', writeTaskFile(home, { service: { serviceName: 'demo' }, optional: { maxqps: 100 } })], { home });
    expect(res).toEqual({ code: 1, stdout: '', stderr: '[ERROR] InvalidField: optional.maxqps: unknown field; did you mean optional.maxQPS?\n' });
  });

  test('Unauthorized says how to fix the key', async () => {
    writeCliConfig(home, { ...live(), secret: 'not-the-secret' });
    const res = await runCli(['bench', 'ls'], { home });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe('[ERROR] Unauthorized: missing or invalid credentials; check the access id, key and endpoint with: eascmd config\n');
  });

  test('no help text speaks of "the reference"', () => {
    // the real binary: yargs prints help to the process's own stdout
    for (const args of [['--help'], ['bench', '--help'], ['bench', 'create', '--help'], ['bench', 'desc', '--help'], ['bench', 'start', '--help'], ['config', '--help']]) {
      const res = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'eascmd'), ...args], { encoding: 'utf8', env: { ...process.env, HOME: home, NO_COLOR: '1' } });
      expect(res.stdout).toContain('--verbose');
      expect({ args, help: /the reference/i.test(res.stdout + res.stderr) }).toEqual({ args, help: false });
    }
  });
});
