import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser';
import { writeLlmTask } from '../helpers/llm';
import { BIN, ControllerProcess, OpenAiFixtureProcess, TestProcess, killAllStarted, runEascmd, startController, startOpenAiFixture, startProcess, tempDir, waitFor } from '../helpers/processes';

type Pair = [number | string, number];
interface PageState {
  points: number;
  task?: { TaskName: string; Status: string; LLM?: { StableStage?: { StartMs: number; EndMs: number } } };
  charts: Record<string, Record<string, Pair[]>>;
  bands: Record<string, { name: string; from: number; to: number }>;
}

const URL_LINE = /\[OK\] Click the link (http:\/\/127\.0\.0\.1:\d+\/eas-benchmark\/statsview) to observe/;

/** The live page of an LLM task: the concurrency-over-time chart with its steady stage (real controller, agent, fixture, eascmd, headless Chromium). */
describe('statsview of an LLM task', () => {
  let controller: ControllerProcess;
  let fixture: OpenAiFixtureProcess;
  let browser: Browser;
  let cli: TestProcess | undefined;

  beforeAll(async () => {
    [fixture, controller, browser] = await Promise.all([startOpenAiFixture(['--ttft-ms', '40', '--tpot-ms', '5']), startController(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await cli?.stop('SIGKILL');
    await controller?.stop();
    await fixture?.stop();
    killAllStarted();
  });

  test('chart-concurrency plots the requests in flight per second (mean and most) and shades the steady stage; the header names the dataset', async () => {
    const file = writeLlmTask(tempDir('statsview-llm'), fixture.url, {
      testMode: 'concurrency',
      concurrency: 4,
      continuous: true,
      duration: 30,
      // shared prefixes: the page names the dataset as the summary does
      dataset: { type: 'prefix', prefixCount: 2, prefixTokens: 12, suffixTokens: 8, outputTokens: [16, 16] },
    });
    const started = await startProcess(BIN.eascmd, ['-c', controller.configFile, 'bench', 'create', file, '--visualize'], URL_LINE, { NO_COLOR: '1' }, 30000);
    cli = started;
    const name = /Task \[(benchmark-[a-z0-9_-]+)\] is creating/.exec(started.output())?.[1] ?? '';
    const page: Page = await browser.newPage();
    await page.goto(started.match[1]);
    await page.waitForFunction(() => {
      const s = (window as unknown as { __statsview: PageState }).__statsview;
      return (s.charts['chart-concurrency']?.MaxInFlight?.length ?? 0) >= 3 && s.bands['chart-concurrency'] !== undefined;
    }, undefined, { timeout: 25000 });
    const state = await page.evaluate(() => (window as unknown as { __statsview: PageState }).__statsview);
    const most = state.charts['chart-concurrency'].MaxInFlight.map(([, v]) => v);
    const mean = state.charts['chart-concurrency'].InFlight.map(([, v]) => v);
    expect(Math.max(...most)).toBe(4);
    expect(mean.every((v) => v >= 0 && v <= 4.001)).toBe(true);
    // the four streams are busy all the time between requests: the mean of a whole second is close to 4
    expect(Math.max(...mean)).toBeGreaterThan(3);
    const band = state.bands['chart-concurrency'];
    expect(band.name).toBe('steady stage');
    expect(band.to).toBeGreaterThanOrEqual(band.from);
    expect(await page.locator('#chart-concurrency svg, #chart-concurrency canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('#task-dataset').textContent()).toBe('2 shared prefixes of 12 tokens, each prompt one of them and 8 tokens of its own (20 tokens)');
    await page.close();
    if (name) await runEascmd(['-c', controller.configFile, 'bench', 'stop', name], { timeoutMs: 30000 });
    await waitFor('the task to stop', async () => !name || (await runEascmd(['-c', controller.configFile, 'bench', 'desc', name, '--json'], { timeoutMs: 30000 })).stdout.includes('"Stopped"'), 30000, 500);
  }, 90_000);
});
