import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { signedFetch } from '../helpers/api';
import { launchBrowser, recordUrls } from '../helpers/browser';
import { BIN, ControllerProcess, FixtureProcess, ROOT, TestProcess, killAllStarted, livePids, runEascmd, startController, startFixture, startProcess, tempDir, waitFor, writeTask } from '../helpers/processes';

/**
 * The statsview with real processes: controller, fixture service, the eascmd
 * binary serving the page, and headless Chromium reading it.
 * UPDATE_DOCS_IMAGES=1 writes the screenshot to docs/img/statsview.png.
 */

type Pair = [number | string, number];
interface PageState {
  points: number;
  frames: number;
  link: string;
  links: string[];
  task?: { TaskName: string; Status: string; Mode: string };
  charts: Record<string, Record<string, Pair[]>>;
}
interface StatsJson {
  Series: { Elapsed: number; Requests: number }[];
}

const URL_LINE = /\[OK\] Click the link (http:\/\/127\.0\.0\.1:\d+\/eas-benchmark\/statsview) to observe realtime visualization details, you can turn it off with CTRL\+C\.\n/;
const BASE_CHARTS = ['chart-qps', 'chart-rt', 'chart-traffic', 'chart-rt-distribution', 'chart-rt-quantiles', 'chart-status-codes', 'chart-agents'];

describe('statsview: the live page of a running task', () => {
  let controller: ControllerProcess;
  let fixture: FixtureProcess;
  let browser: Browser;
  let dir: string;
  const sessions: TestProcess[] = [];

  beforeAll(async () => {
    dir = tempDir('statsview');
    [fixture, controller, browser] = await Promise.all([startFixture(['--latency-ms', '4', '--jitter-ms', '6', '--error-rate', '0.01']), startController(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    for (const s of sessions) await s.stop('SIGKILL');
    await controller?.stop();
    await fixture?.stop();
    killAllStarted();
  });

  const eascmd = async (...args: string[]): Promise<TestProcess & { url: string }> => {
    const p = await startProcess(BIN.eascmd, ['-c', controller.configFile, ...args], URL_LINE, { NO_COLOR: '1' }, 30000);
    sessions.push(p);
    return { ...p, url: p.match[1] };
  };
  const api = async <T>(suffix: string): Promise<T> => (await signedFetch(controller.url, controller.accessId, controller.secret, 'GET', `/api/v2/benchmark-tasks/cn-local/${suffix}`)).json as T;
  const pageState = (page: Page): Promise<PageState> => page.evaluate(() => (window as unknown as { __statsview: PageState }).__statsview);
  const exited = (p: TestProcess): Promise<number | null> => new Promise((resolve) => (p.proc.exitCode !== null ? resolve(p.proc.exitCode) : p.proc.once('exit', (code) => resolve(code))));

  test('the page shows the controller figures live, stays on 127.0.0.1, and CTRL+C leaves the task running; a later visualize prints the summary when the task ends', async () => {
    const file = writeTask(dir, {
      service: { serviceName: 'demo', url: `${fixture.url}/api/predict/demo` },
      data: { content: 'aGVsbG8K' },
      optional: { mode: 'manual', agentCount: 2, concurrency: 2, maxQPS: 300, duration: 16 },
    });
    const cli = await eascmd('bench', 'create', file, '--visualize');
    const name = /\[OK\] Task \[(benchmark-demo-[0-9a-f]{4})\] is creating/.exec(cli.output())?.[1] ?? '';
    expect(name).not.toBe('');
    // The three lines of SPEC 2.3, in order, nothing between them.
    await waitFor('the hint lines', () => cli.output().includes(`bench visualize ${name}\n`));
    const lines = cli.output().split('\n');
    const at = lines.findIndex((l) => URL_LINE.test(`${l}\n`));
    expect(lines.slice(at + 1, at + 3)).toEqual([
      'Turning off will not interrupt the benchmark test task, and you can reopen it by the visualize command:',
      `eascmd -c ${controller.configFile} bench visualize ${name}`,
    ]);

    const page = await browser.newPage({ viewport: { width: 1280, height: 1500 } });
    const urls = recordUrls(page);
    await page.goto(cli.url);
    await page.waitForFunction(() => ((window as unknown as { __statsview: PageState }).__statsview.points >= 3), undefined, { timeout: 15000 });

    // A second page at the same time gets the history and the live frames too.
    const second = await browser.newPage();
    const secondUrls = recordUrls(second);
    await second.goto(cli.url);
    const before = await pageState(page);
    await second.waitForFunction((n) => (window as unknown as { __statsview: PageState }).__statsview.points > n, before.points, { timeout: 5000 });
    await page.waitForFunction((n) => (window as unknown as { __statsview: PageState }).__statsview.points > n, before.points, { timeout: 5000 });

    const state = await pageState(page);
    expect(state.task).toMatchObject({ TaskName: name, Mode: 'manual', Status: 'Running' });
    for (const id of BASE_CHARTS) {
      const points = Object.values(state.charts[id] ?? {}).reduce((n, s) => n + s.length, 0);
      expect({ id, hasPoints: points > 0 }).toEqual({ id, hasPoints: true });
    }
    expect(state.charts['chart-ttft']).toBeUndefined();
    expect(await page.locator('#task-name').textContent()).toBe(name);
    // and where each agent runs
    expect(await page.locator('#task-agents').textContent()).toMatch(new RegExp(`^${name}-10001-1 ready on \\S+ \\(127\\.0\\.0\\.1\\), ${name}-10001-2 ready on \\S+ \\(127\\.0\\.0\\.1\\)$`));

    // The QPS points are the controller's per-second Requests, second for second.
    const stats = await api<StatsJson>(`${name}/stats`);
    const bySecond = new Map(stats.Series.map((p) => [p.Elapsed, p.Requests]));
    const shown = state.charts['chart-qps'].Requests;
    expect(shown.length).toBeGreaterThanOrEqual(3);
    for (const [elapsed, requests] of shown) expect([elapsed, requests]).toEqual([elapsed, bySecond.get(elapsed as number)]);
    const secondState = await pageState(second);
    expect(secondState.charts['chart-qps'].Requests.slice(0, shown.length)).toEqual(shown);

    // A few more seconds, so the picture in the docs shows a run rather than its start.
    await page.waitForFunction(() => (window as unknown as { __statsview: PageState }).__statsview.points >= 7, undefined, { timeout: 10000 });
    const shotDir = process.env.UPDATE_DOCS_IMAGES === '1' ? path.join(ROOT, 'docs', 'img') : dir;
    fs.mkdirSync(shotDir, { recursive: true });
    await page.screenshot({ path: path.join(shotDir, 'statsview.png'), fullPage: true });

    // Nothing leaves 127.0.0.1 (ECharts is served locally, no CDN).
    for (const u of [...urls, ...secondUrls]) expect(new URL(u).hostname).toBe('127.0.0.1');
    expect(urls.some((u) => u.endsWith('/eas-benchmark/statsview/echarts.min.js'))).toBe(true);
    expect(urls.some((u) => u.startsWith('ws://127.0.0.1'))).toBe(true);

    // CTRL+C closes the page server only: exit 0, the task keeps running.
    cli.proc.kill('SIGINT');
    expect(await exited(cli)).toBe(0);
    expect((await api<{ Status: string }>(name)).Status).toBe('Running');
    await page.waitForFunction(() => (window as unknown as { __statsview: PageState }).__statsview.link === 'closed', undefined, { timeout: 5000 });
    expect(await page.locator('#banner').textContent()).toContain('The benchmark task is not affected');

    // Reopened later: when the task ends, the summary goes to the terminal and the command exits 0.
    const again = await eascmd('bench', 'visualize', name);
    const third = await browser.newPage();
    await third.goto(again.url);
    await third.waitForFunction(() => (window as unknown as { __statsview: PageState }).__statsview.points >= 1, undefined, { timeout: 5000 });
    expect(await exited(again)).toBe(0);
    const out = again.output();
    expect(out).toContain(`Summary of benchmark task ${name}, round 10001 (Stopped):`);
    expect(out).toMatch(/TotalRequests\s*\|\s*\d+/);
    expect(out).toContain(`[OK] Benchmark task ${name} report url: `);
    const final = await pageState(third);
    expect(final.task?.Status).toBe('Stopped');

    // Opening a finished task: the summary at once, and the page stays until CTRL+C.
    const done = await eascmd('bench', 'visualize', name);
    expect(done.output()).toContain(`Summary of benchmark task ${name}, round 10001 (Stopped):`);
    await third.goto(done.url);
    await third.waitForFunction(() => (window as unknown as { __statsview: PageState }).__statsview.task?.Status === 'Stopped', undefined, { timeout: 5000 });
    // the finished round links to its report, shows its verdict and why its requests failed (the fixture fails 1%)
    const detail = await api<{ ReportUrl: string; Verdict?: { Text: string }; Result: { TotalRequests: number; ErrorClasses?: Record<string, number> } }>(name);
    expect(detail.ReportUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/reports\/summary\//);
    expect(await third.locator('#report-link').getAttribute('href')).toBe(detail.ReportUrl);
    expect(await third.locator('#task-verdict').textContent()).toBe(detail.Verdict?.Text ?? '-');
    const failed = detail.Result.ErrorClasses?.['http status'] ?? 0;
    expect(failed).toBeGreaterThan(0);
    expect(await third.locator('#task-errors').textContent()).toBe(`http status: ${failed.toLocaleString('en-US')} (${((failed / detail.Result.TotalRequests) * 100).toFixed(2)}%)`);
    expect(done.proc.exitCode).toBeNull();
    done.proc.kill('SIGINT');
    expect(await exited(done)).toBe(0);
  });

  test('a controller restart shows the banner, the stream is reopened, and the terminated task ends the session with its summary', async () => {
    const file = writeTask(dir, {
      service: { serviceName: 'demo', url: `${fixture.url}/api/predict/demo` },
      data: { content: 'aGVsbG8K' },
      optional: { mode: 'manual', agentCount: 1, concurrency: 2, maxQPS: 100, duration: 60 },
    });
    const created = await runEascmd(['-c', controller.configFile, 'bench', 'create', file]);
    const name = /\[OK\] Task \[(benchmark-demo-[0-9a-f]{4})\] is creating/.exec(created.stdout)?.[1] ?? '';
    expect(name).not.toBe('');
    const view = await eascmd('bench', 'visualize', name);
    const page = await browser.newPage();
    await page.goto(view.url);
    await page.waitForFunction(() => (window as unknown as { __statsview: PageState }).__statsview.points >= 2, undefined, { timeout: 10000 });

    // A crash, not a clean shutdown: the stream just drops.
    const port = new URL(controller.url).port;
    controller.proc.kill('SIGKILL');
    await controller.stop();
    await page.waitForFunction(() => (window as unknown as { __statsview: PageState }).__statsview.link === 'lost', undefined, { timeout: 10000 });
    expect(await page.locator('#banner').textContent()).toBe('connection to the controller lost, reconnecting...');

    // Back on the same port: the running task is now Terminated; its history replaces the page's, not added to it.
    const shown = (await pageState(page)).points;
    controller = await startController({ dataDir: controller.dataDir, args: ['--port', port] });
    expect(await exited(view)).toBe(0);
    expect(view.output()).toContain('reconnected to the controller');
    expect(view.output()).toContain(`Summary of benchmark task ${name}, round 10001 (Terminated):`);
    const state = await pageState(page);
    expect(state.links).toEqual(['connected', 'lost', 'connected', 'closed']);
    expect(state.task?.Status).toBe('Terminated');
    const stats = await api<StatsJson>(`${name}/stats`);
    expect(state.points).toBe(stats.Series.length);
    expect(state.points).toBeGreaterThanOrEqual(shown);
    const elapsed = state.charts['chart-qps'].Requests.map(([e]) => e);
    expect(new Set(elapsed).size).toBe(elapsed.length);
    for (const pid of livePids(name)) process.kill(pid, 'SIGKILL');
  });
});
