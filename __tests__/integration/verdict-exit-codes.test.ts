import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { GetTaskResponse, ReportResponse, Verdict } from '../../src/contract';
import { signedFetch } from '../helpers/api';
import { writeLlmTask } from '../helpers/llm';
import { BIN, ControllerProcess, FixtureProcess, killAllStarted, lastJson, OpenAiFixtureProcess, ROOT, runEascmd, startController, startFixture, startOpenAiFixture, tempDir, writeTask } from '../helpers/processes';

/**
 * SPEC 7 through the real `bin/eascmd` against a real controller, agents and
 * fixture services: the verdict's exit codes (0 held, 99 failed, 98 no
 * result), its last line, the same verdict in desc, the report and `bench
 * check` (after a controller restart too), abortOnFail ending a round early,
 * and docs/cli.md's CI example run as written.
 */

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const lastLine = (text: string): string => text.trimEnd().split('\n').pop() ?? '';

describe('verdicts and exit codes through the real eascmd', () => {
  let controller: ControllerProcess;
  let fast: FixtureProcess;
  let slow: FixtureProcess;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('verdict');
    fast = await startFixture(['--latency-ms', '1']);
    slow = await startFixture(['--latency-ms', '60']);
    controller = await startController();
  });
  afterAll(async () => {
    await controller?.stop();
    await fast?.stop();
    await slow?.stop();
    killAllStarted();
  });

  const cli = (...args: string[]) => runEascmd(['-c', controller.configFile, ...args], { timeoutMs: 90_000 });
  const detail = async (name: string): Promise<GetTaskResponse> =>
    (await signedFetch(controller.url, controller.accessId, controller.secret, 'GET', `/api/v2/benchmark-tasks/cn-local/${name}`)).json as unknown as GetTaskResponse;
  const task = (url: string, thresholds: unknown, optional: Record<string, unknown> = {}) =>
    writeTask(dir, { service: { serviceName: 'verdict', url }, optional: { mode: 'manual', concurrency: 2, duration: 3, ...optional }, ...(thresholds ? { thresholds } : {}) });
  const nameOf = (stdout: string): string => /Task \[(\S+)\] is creating/.exec(stdout)?.[1] ?? '';

  test('a closed port: no result, exit 98, even without thresholds; the verdict is the last line and desc says the same', async () => {
    const closed = await freePort();
    const res = await cli('bench', 'create', task(`http://127.0.0.1:${closed}/x`, undefined, { concurrency: 1, duration: 2 }), '--wait');
    expect(res.code).toBe(98);
    expect(lastLine(res.stdout)).toMatch(/^Verdict: no result; no request succeeded \(\d+ requests, status codes 599: \d+\); ended: duration of 2 s reached$/);
    const done = await detail(nameOf(res.stdout));
    expect(done.Verdict?.Outcome).toBe('no result');
    expect(done.Verdict?.EndReason).toBe('duration');
    expect(lastLine(res.stdout)).toBe(done.Verdict?.Text);
    expect(done.Message).toBe(`Benchmark task is stopped. ${done.Verdict?.Text}`);
    const check = await cli('bench', 'check', done.TaskName);
    expect(check.code).toBe(98);
    expect(lastLine(check.stdout)).toBe(done.Verdict?.Text);
  });

  test('thresholds held: exit 0; one verdict in --wait, desc, the report and check', async () => {
    const res = await cli('bench', 'create', task(`${fast.url}/ok`, { TP99: '< 5000', ErrorRate: '<= 0.01', QPS: { expr: '> 0' } }), '--wait');
    expect(res.code).toBe(0);
    const name = nameOf(res.stdout);
    const done = await detail(name);
    const verdict = done.Verdict as Verdict;
    expect(verdict.Outcome).toBe('passed');
    expect(verdict.Text).toBe('Verdict: passed; 3 of 3 thresholds held; ended: duration of 3 s reached');
    expect(lastLine(res.stdout)).toBe(verdict.Text);
    expect(res.stdout).toMatch(/\| TP99 +\| < 5000 +\| +[\d.]+ \| held +\|/);
    expect(verdict.Thresholds.map((t) => [t.Metric, t.Passed])).toEqual([['TP99', true], ['ErrorRate', true], ['QPS', true]]);
    expect(done.Result?.Thresholds).toEqual(verdict.Thresholds);
    const report = (await signedFetch(controller.url, controller.accessId, controller.secret, 'GET', `/api/v2/benchmark-tasks/cn-local/${name}/report`)).json as unknown as ReportResponse;
    const data = (await (await fetch(report.JsonUrl as string)).json()) as { Verdict: Verdict; Message: string };
    expect(data.Verdict).toEqual(verdict);
    expect(data.Message).toBe(done.Message);
    const stats = (await signedFetch(controller.url, controller.accessId, controller.secret, 'GET', `/api/v2/benchmark-tasks/cn-local/${name}/stats`)).json as unknown as { Verdict: Verdict };
    expect(stats.Verdict).toEqual(verdict);
    const desc = await cli('bench', 'desc', name);
    expect(desc.stdout).toMatch(/\| +Thresholds \| TP99 < 5000: [\d.]+ held +\|\n\| +\| ErrorRate <= 0\.01: 0 held +\|/);
    const check = await cli('bench', 'check', name);
    expect(check.code).toBe(0);
    expect(lastLine(check.stdout)).toBe(verdict.Text);
    const json = await cli('--json', 'bench', 'check', name, '--round', String(done.RoundId));
    expect(json.code).toBe(0);
    expect(lastJson<{ Verdict: Verdict }>(json.stdout).Verdict).toEqual(verdict);
  });

  test('a failed threshold: exit 99 from create --wait, start --wait and check; an unknown round is exit 1', async () => {
    const res = await cli('bench', 'create', task(`${slow.url}/slow`, { TP50: '< 20', ErrorRate: '<= 0.01' }, { duration: 2 }), '--wait');
    expect(res.code).toBe(99);
    expect(lastLine(res.stdout)).toMatch(/^Verdict: failed; threshold TP50 < 20 failed \(TP50 [\d.]+ ms\); 1 of 2 thresholds held; ended: duration of 2 s reached$/);
    const name = nameOf(res.stdout);
    const again = await cli('bench', 'start', name, '--wait', '-y');
    expect(again.code).toBe(99);
    expect(lastLine(again.stdout)).toMatch(/^Verdict: failed; threshold TP50 < 20 failed/);
    // the first round, judged again after the second
    const first = await cli('bench', 'check', name, '--round', '10001');
    expect(first.code).toBe(99);
    expect(first.stdout).toContain(`Benchmark task ${name}, round 10001 (Stopped):`);
    const unknown = await cli('bench', 'check', name, '--round', '99');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe(`[ERROR] NotFound: task ${name} has no round 99 (its rounds: 10001, 10002)`);
    const missing = await cli('bench', 'check', 'benchmark-nosuch-0000');
    expect(missing.code).toBe(1);
  });

  test('abortOnFail ends the round early with reason threshold, after its delay', async () => {
    const res = await cli('bench', 'create', task(`${slow.url}/slow`, { TP50: { expr: '< 20', abortOnFail: true, delayAbortEvalS: 2 } }, { duration: 60 }), '--wait', '--json');
    expect(res.code).toBe(99);
    const done = lastJson<GetTaskResponse>(res.stdout);
    expect(done.Verdict?.EndReason).toBe('threshold');
    expect(done.Verdict?.Ended).toMatch(/^threshold TP50 < 20 failed \(TP50 [\d.]+ ms\) after \d+ s \(abortOnFail\)$/);
    const after = Number(/after (\d+) s/.exec(done.Verdict?.Ended ?? '')?.[1]);
    expect(after).toBeGreaterThanOrEqual(2);
    // far from its 60 s: it ended on the threshold, not the duration
    expect(done.Result?.DurationS ?? 60).toBeLessThan(40);
  });

  test('a bad threshold is refused at create with the field named; nothing is created', async () => {
    const res = await cli('bench', 'create', task(`${fast.url}/ok`, { TP98: '< 10', TP99: '<< 3' }));
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe(
      '[ERROR] InvalidField: thresholds.TP98: unknown metric; one of TP50, TP75, TP90, TP95, TP99, TP99.9, AvgRT, MinRT, MaxRT, ErrorRate, QPS; ' +
        'thresholds.TP99: bad expression "<< 3": write an operator (<, <=, >, >=, ==) and a number, e.g. "< 200"',
    );
  });

  test('a restarted controller keeps each round\'s verdict: check judges the same', async () => {
    const res = await cli('bench', 'create', task(`${slow.url}/slow`, { TP50: '< 20' }, { duration: 2 }), '--wait');
    expect(res.code).toBe(99);
    const name = nameOf(res.stdout);
    const before = (await detail(name)).Verdict;
    await controller.stop();
    controller = await startController({ dataDir: controller.dataDir });
    const check = await cli('--json', 'bench', 'check', name);
    expect(check.code).toBe(99);
    expect(lastJson<{ Verdict: Verdict }>(check.stdout).Verdict).toEqual(before);
    expect((await detail(name)).Verdict).toEqual(before);
  });
});

describe('LLM thresholds: <METRIC>.<STAT> and common metrics, judged on the round\'s LLM figures', () => {
  let controller: ControllerProcess;
  let fixture: OpenAiFixtureProcess;
  afterAll(async () => {
    await controller?.stop();
    await fixture?.stop();
    killAllStarted();
  });

  test('TTFT.P99 and OutputTokenThroughput hold with the values of the LLM tables; E2EL.Average fails: exit 99', async () => {
    fixture = await startOpenAiFixture(['--ttft-ms', '20', '--tpot-ms', '2']);
    controller = await startController();
    const file = writeLlmTask(tempDir('verdict-llm'), fixture.url, { testMode: 'concurrency', concurrency: 4, dataset: { type: 'synthetic', inputTokens: [20, 30], outputTokens: [10, 10] } }, {
      thresholds: { 'TTFT.P99': '< 60000', OutputTokenThroughput: '> 0', 'E2EL.Average': '< 0.001' },
    });
    const res = await runEascmd(['-c', controller.configFile, 'bench', 'create', file, '--wait', '--json'], { timeoutMs: 90_000 });
    expect(res.code).toBe(99);
    const done = lastJson<GetTaskResponse>(res.stdout);
    const llm = done.LLM;
    expect(done.Verdict?.Thresholds).toEqual([
      { Metric: 'TTFT.P99', Expr: '< 60000', Value: llm?.Total.TTFT.P99, Passed: true },
      { Metric: 'OutputTokenThroughput', Expr: '> 0', Value: llm?.Common.OutputTokenThroughput, Passed: true },
      { Metric: 'E2EL.Average', Expr: '< 0.001', Value: llm?.Total.E2EL.Average, Passed: false },
    ]);
    expect(done.Verdict?.Outcome).toBe('failed');
  });
});

describe("docs/cli.md's CI example, run as written", () => {
  let controller: ControllerProcess;
  afterAll(async () => {
    await controller?.stop();
    killAllStarted();
  });

  test('it starts the service, runs create --wait, and the job passes on exit 0', async () => {
    controller = await startController();
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'cli.md'), 'utf8');
    const block = /<!-- ci-example -->\n```sh\n([\s\S]*?)```\n<!-- \/ci-example -->/.exec(doc)?.[1];
    expect(block).toBeDefined();
    const work = tempDir('ci-example');
    // `eascmd` on the PATH is this repository's bin/eascmd, its config the test controller's
    const bin = path.join(work, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'eascmd'), `#!/bin/sh\nexec "${process.execPath}" "${BIN.eascmd}" "$@"\n`, { mode: 0o755 });
    // run where the repository's dist/ is, but writing its files in a temp folder rather than the checkout
    fs.symlinkSync(path.join(ROOT, 'dist'), path.join(work, 'dist'));
    const port = await freePort();
    const result = await new Promise<{ code: number; out: string }>((resolve, reject) => {
      // its own process group: the service it starts in the background goes with it if the test gives up
      const proc = spawn('bash', ['-c', block ?? 'exit 2'], {
        cwd: work,
        detached: true,
        env: { ...process.env, NO_COLOR: '1', PATH: `${bin}:${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`, EASCMD_CONFIG: controller.configFile, PORT: String(port) },
      });
      let out = '';
      proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
      proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const timer = setTimeout(() => {
        if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
        reject(new Error(`the CI example did not end:\n${out}`));
      }, 90_000);
      proc.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, out });
      });
    });
    expect(result.out).toMatch(/\nVerdict: passed; 2 of 2 thresholds held; ended: duration of 5 s reached\nSLO met\n$/);
    expect(result.code).toBe(0);
  });
});
