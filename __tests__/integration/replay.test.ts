import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { signedFetch } from '../helpers/api';
import { launchBrowser } from '../helpers/browser';
import { ControllerProcess, FixtureProcess, killAllStarted, lastJson, runEascmd, startController, startFixture, tempDir, writeTask } from '../helpers/processes';
import { openLivePage, reportHtml, reportSection } from '../helpers/task-views';

interface Detail {
  TaskName: string;
  Status: string;
  DesiredAgent: number;
  Message: string;
  Result?: {
    TotalRequests: number;
    ByName?: { Name: string; Requests: number; Errors: number; TP99: number }[];
    Thresholds?: { Metric: string; Expr: string; Value: number | null; Passed: boolean }[];
  };
}

interface Series {
  Series: { Elapsed: number; TargetQPS?: number; Requests: number }[];
}

/**
 * A log with a gap and a burst: second 0 holds 20 requests to /api/a, seconds
 * 1 and 2 none, second 3 a burst of 150 to /api/b recorded in the same
 * millisecond, second 4 30 POSTs with bodies to /api/c, second 5 10 to
 * /api/a with queries. Every record sits 100 ms or more from a second's
 * edge, so a late send on a busy machine stays in its second.
 */
const PATTERN = [20, 0, 0, 150, 30, 10];
const T0 = Date.UTC(2026, 11, 7, 2, 30, 0);

function jsonlLog(): string {
  const lines: string[] = [];
  for (let i = 0; i < 20; i++) lines.push(JSON.stringify({ timestamp: T0 + 100 + i * 40, method: 'GET', path: '/api/a' }));
  for (let i = 0; i < 150; i++) lines.push(JSON.stringify({ timestamp: T0 + 3500, path: '/api/b', headers: { 'X-Replay': String(i) } }));
  lines.push('{"timestamp": "not a time", "path": "/api/x"}', 'garbage that is no JSON');
  for (let i = 0; i < 30; i++) lines.push(JSON.stringify({ timestamp: T0 + 4100 + i * 25, method: 'POST', path: '/api/c', body: { id: i } }));
  for (let i = 0; i < 10; i++) lines.push(JSON.stringify({ timestamp: new Date(T0 + 5200 + i * 50).toISOString(), path: `/api/a?q=${i}` }));
  return `${lines.join('\n')}\n`;
}

describe('replay: a recorded log sent again, end to end', () => {
  let controller: ControllerProcess;
  /** The round of the log with a gap and a burst, which the live page test reads back. */
  let burstRound: { detail: Detail; series: Series } | undefined;
  let fixture: FixtureProcess;
  const dir = tempDir('replay');

  beforeAll(async () => {
    fixture = await startFixture(['--latency-ms', '1']);
    // two agents share the burst: the split across agents is part of what is counted
    controller = await startController({ args: ['--max-agent-qps', '100', '--data-root', dir, '--allow-private-data'] });
  });
  afterAll(async () => {
    await controller?.stop();
    await fixture?.stop();
    killAllStarted();
  });

  const service = () => ({ serviceName: 'replay', url: `${fixture.url}/api/predict/replay` });
  const runTask = async (task: unknown): Promise<{ detail: Detail; series: Series }> => {
    const res = await runEascmd(['-c', controller.configFile, 'bench', 'create', writeTask(dir, task), '--wait', '--json'], { timeoutMs: 120000 });
    const detail = lastJson<Detail>(res.stdout);
    const stats = await signedFetch(controller.url, controller.accessId, controller.secret, 'GET', `/api/v2/benchmark-tasks/cn-local/${detail.TaskName}/stats`);
    return { detail, series: stats.json as unknown as Series };
  };

  test('a jsonl log with a gap and a burst: its per-second pattern and exact per-path counts at the service, split over two agents', async () => {
    const log = join(dir, 'access.jsonl');
    writeFileSync(log, jsonlLog());
    await fixture.reset();
    // thresholds on the log's paths, taken at create and judged on each path's own figures
    const thresholds = { '/api/b.TP99': '< 30000', '/api/c.ErrorRate': '< 0.5' };
    const { detail, series } = await runTask({ service: service(), data: { replay: { path: log, format: 'jsonl' } }, optional: { mode: 'replay' }, thresholds });
    burstRound = { detail, series };
    expect(detail.Status).toBe('Stopped');
    expect(detail.DesiredAgent).toBe(2);
    const b = detail.Result?.ByName?.find((n) => n.Name === '/api/b');
    expect(detail.Result?.Thresholds).toEqual([
      { Metric: '/api/b.TP99', Expr: '< 30000', Value: b?.TP99, Passed: true },
      { Metric: '/api/c.ErrorRate', Expr: '< 0.5', Value: 0, Passed: true },
    ]);
    expect(detail.Message).toContain('duration of 6 s reached');
    const stats = await fixture.stats();
    expect(stats.requests).toBe(210);
    expect(stats.byPath).toEqual({ '/api/a': 30, '/api/b': 150, '/api/c': 30 });
    expect(stats.byMethod).toEqual({ GET: 180, POST: 30 });
    expect(Object.keys(stats.bodies)).toHaveLength(30);
    expect(detail.Result?.TotalRequests).toBe(210);
    const byName = Object.fromEntries((detail.Result?.ByName ?? []).map((n) => [n.Name, n.Requests]));
    expect(byName).toEqual({ '/api/a': 30, '/api/b': 150, '/api/c': 30 });
    // the service's arrivals, by second from the first: the log's pattern, gap and burst
    const arrivals = await fixture.arrivals();
    const perSecond = PATTERN.map(() => 0);
    // the first record is 100 ms into its second
    for (const t of arrivals) perSecond[Math.min(PATTERN.length - 1, Math.floor((t - arrivals[0] + 100) / 1000))]++;
    expect(perSecond).toEqual(PATTERN);
    // the burst arrived together, not spread by the sender: each agent had opened a connection for each of its 75 before the start
    const burst = arrivals.slice(20, 170);
    expect(burst[burst.length - 1] - burst[0]).toBeLessThan(900);
    expect(stats.connectionsAtFirstRequest).toBeGreaterThanOrEqual(150);
    process.stdout.write(`replay burst: 150 records of one ms arrived within ${(burst[burst.length - 1] - burst[0]).toFixed(1)} ms; ${stats.connectionsAtFirstRequest} connections open before the first request\n`);
    // TargetQPS of a wall second is the log's records scheduled in it (the round starts mid-second,
    // so the burst's second may hold some of the next): they add up to the log
    const targets = series.Series.map((s) => s.TargetQPS ?? 0);
    expect(targets.reduce((a, b) => a + b, 0)).toBe(210);
    expect(Math.max(...targets)).toBeGreaterThanOrEqual(150);
    expect(Math.max(...targets)).toBeLessThanOrEqual(180);
    expect(targets.filter((t) => t === 0).length).toBeGreaterThanOrEqual(1);
    const events = await signedFetch(controller.url, controller.accessId, controller.secret, 'GET', `/api/v2/benchmark-tasks/cn-local/${detail.TaskName}`);
    expect(JSON.stringify(events.json)).toContain('2 malformed line(s) left out, 210 records sent (first: line 171: timestamp is not ms since the epoch or an ISO-8601 time)');
    const desc = await runEascmd(['-c', controller.configFile, 'bench', 'desc', detail.TaskName]);
    expect(desc.stdout).toMatch(/\| +Requests \| \/api\/a: 30 requests, 0\.00% errors/);
    expect(desc.stdout).toContain('| /api/b: 150 requests, 0.00% errors');
    expect(desc.stdout).toContain('| /api/c: 30 requests, 0.00% errors');
    // the report's table of names holds the paths
    const section = reportSection(await reportHtml(controller, detail.TaskName), 'requests-by-name');
    expect(section).toContain('<tr><td>/api/b</td><td>150</td><td>0</td><td>0.00%</td>');
  });

  test('the live page shows each path with its figures and the log\'s seconds as the round sent them', async () => {
    expect(burstRound).toBeDefined();
    const { detail, series } = burstRound as { detail: Detail; series: Series };
    const browser = await launchBrowser();
    try {
      const live = await openLivePage(browser, controller, detail.TaskName);
      try {
        await live.page.waitForFunction(() => document.getElementById('task-names')?.textContent !== '-', undefined, { timeout: 10000 });
        const lines = ((await live.page.locator('#task-names').textContent()) ?? '').split('\n');
        expect(lines.map((l) => l.split(':')[0])).toEqual(['/api/a', '/api/b', '/api/c']);
        expect(lines[1]).toMatch(/^\/api\/b: 150 requests, 0\.00% errors, /);
        // the requests chart holds the round's seconds as the stats stream gave them: the burst's 150 are scheduled in one
        // wall second (its answers may end across two: the round starts mid-second), the gap has none
        const chart = (await live.charts())['chart-qps'];
        expect(chart.Requests.map(([, v]) => v)).toEqual(series.Series.map((p) => p.Requests));
        expect(chart.TargetQPS.map(([, v]) => v)).toEqual(series.Series.map((p) => p.TargetQPS));
        expect(Math.max(...chart.TargetQPS.map(([, v]) => v))).toBeGreaterThanOrEqual(150);
      } finally {
        await live.close();
      }
    } finally {
      await browser.close();
    }
  });

  test('an nginx access log at speed 2: each record once, the round half the log', async () => {
    const log = join(dir, 'access.log');
    const line = (s: number, request: string): string => `127.0.0.1 - - [07/Dec/2026:02:30:0${s} +0000] "${request}" 200 612 "-" "curl/8.5.0"`;
    const lines = [
      ...Array.from({ length: 12 }, (_, i) => line(0, 'GET /index.html HTTP/1.1').replace('"curl/8.5.0"', i < 4 ? '"Mozilla/5.0 (X11; Linux x86_64)"' : '"curl/8.5.0"')),
      ...Array.from({ length: 8 }, (_, i) => line(3, `GET /api/items?page=${i} HTTP/1.1`)),
      '127.0.0.1 - - [07/Dec/2026:02:30:03 +0000] "\\x16\\x03\\x01" 400 157 "-" "-"',
    ];
    writeFileSync(log, `${lines.join('\n')}\n`);
    await fixture.reset();
    const { detail } = await runTask({ service: service(), data: { replay: { path: log, format: 'nginx', speed: 2 } }, optional: { mode: 'replay' } });
    expect(detail.Status).toBe('Stopped');
    expect(detail.Message).toContain('duration of 2 s reached');
    const stats = await fixture.stats();
    expect(stats.byPath).toEqual({ '/index.html': 12, '/api/items': 8 });
    // each request with the User-Agent it was logged with
    expect(stats.byUserAgent).toEqual({ 'Mozilla/5.0 (X11; Linux x86_64)': 4, 'curl/8.5.0': 16 });
    expect(detail.Result?.TotalRequests).toBe(20);
    expect(Object.fromEntries((detail.Result?.ByName ?? []).map((n) => [n.Name, n.Requests]))).toEqual({ '/index.html': 12, '/api/items': 8 });
    const task = await signedFetch(controller.url, controller.accessId, controller.secret, 'GET', `/api/v2/benchmark-tasks/cn-local/${detail.TaskName}`);
    expect(JSON.stringify(task.json)).toContain('1 malformed line(s) left out, 20 records sent (first: line 21: request \\"\\\\x16\\\\x03\\\\x01\\" is not \\"METHOD /path HTTP/x\\")');
    const desc = await runEascmd(['-c', controller.configFile, 'bench', 'desc', detail.TaskName]);
    expect(desc.stdout).toMatch(/"duration": 2,/);
    expect(desc.stdout).toContain('| /api/items: 8 requests, 0.00% errors');
  });

  test('a looped csv log is sent pass after pass until optional.duration: exactly its records times the passes', async () => {
    const log = join(dir, 'loop.csv');
    const rows = Array.from({ length: 10 }, (_, i) => `${T0 + 50 + i * 90},POST,/api/loop,"{""i"":${i}}"`);
    writeFileSync(log, `timestamp,method,path,body\n${rows.join('\n')}\n`);
    await fixture.reset();
    const { detail } = await runTask({ service: service(), data: { replay: { path: log, format: 'csv', loop: true } }, optional: { mode: 'replay', duration: 3 } });
    expect(detail.Message).toContain('duration of 3 s reached');
    const stats = await fixture.stats();
    expect(stats.byPath).toEqual({ '/api/loop': 30 });
    expect(Object.values(stats.bodies)).toEqual(Array.from({ length: 10 }, () => 3));
  });

  test('a log by url is fetched as a data.path URL is', async () => {
    const body = Array.from({ length: 5 }, (_, i) => JSON.stringify({ timestamp: T0 + i * 100, path: '/api/url' })).join('\n');
    const server = createServer((_req, res) => res.end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await fixture.reset();
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/access.jsonl`;
      const { detail } = await runTask({ service: service(), data: { replay: { url, format: 'jsonl' } }, optional: { mode: 'replay' } });
      expect(detail.Message).toContain('duration of 1 s reached');
      expect((await fixture.stats()).byPath).toEqual({ '/api/url': 5 });
    } finally {
      server.close();
    }
  });

  test('a threshold on a path the log does not have fails the task when the log is read, naming the threshold and the log\'s names', async () => {
    const log = join(dir, 'paths.jsonl');
    writeFileSync(log, [0, 100].map((t) => JSON.stringify({ timestamp: T0 + t, path: '/api/a' })).join('\n'));
    const task = { service: service(), data: { replay: { path: log, format: 'jsonl' } }, optional: { mode: 'replay' }, thresholds: { '/api/z.TP99': '< 100' } };
    const res = await runEascmd(['-c', controller.configFile, 'bench', 'create', writeTask(dir, task), '--wait', '--json']);
    expect(res.stdout + res.stderr).toContain('thresholds./api/z.TP99: the log has no requests counted as /api/z; its names are /api/a');
    expect(res.stdout).toContain('"CreateFailed"');
  });

  test('a log outside the data roots is refused as the data policy says, naming the field', async () => {
    const res = await runEascmd(['-c', controller.configFile, 'bench', 'create', writeTask(dir, { service: service(), data: { replay: { path: '/etc/passwd', format: 'nginx' } }, optional: { mode: 'replay' } }), '--wait', '--json']);
    expect(res.stdout + res.stderr).toContain('data.replay.path: data source /etc/passwd: refused by policy');
  });
});
