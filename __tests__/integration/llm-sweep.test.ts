import type { Browser, Page } from 'playwright-core';
import type { GetTaskResponse, LlmSweep } from '../../src/contract';
import { launchBrowser } from '../helpers/browser';
import { taskDetail, writeLlmTask } from '../helpers/llm';
import { BIN, ControllerProcess, OpenAiFixtureProcess, TestProcess, killAllStarted, lastJson, runEascmd, startController, startOpenAiFixture, startProcess, tempDir, waitFor } from '../helpers/processes';

type Pair = [number, number];
interface PageState {
  charts: Record<string, Record<string, Pair[]>>;
}

const URL_LINE = /\[OK\] Click the link (http:\/\/127\.0\.0\.1:\d+\/eas-benchmark\/statsview) to observe/;

/**
 * llm.testMode sweep against the OpenAI fixture with a FIFO slot limit: 4
 * slots, each held for TTFT + (N − 1)·TPOT from the moment a request gets
 * one, so the fixture serves 4 / that many requests a second and above it
 * its queue (and TTFT) grows without bound: the SLO knee. Real controller,
 * agent, fixture, eascmd and headless Chromium for the live page.
 */
describe('llm sweep: capacity under an SLO', () => {
  let controller: ControllerProcess;
  let fixture: OpenAiFixtureProcess;
  let browser: Browser;
  let cli: TestProcess | undefined;
  const behaviour = { capacity: 4, ttftMs: 40, tpotMs: 10, tokensPerChunk: 1 };
  const outputTokens = 16;

  beforeAll(async () => {
    [fixture, controller, browser] = await Promise.all([startOpenAiFixture(), startController(), launchBrowser()]);
    await fixture.configure(behaviour);
  });
  afterAll(async () => {
    await browser?.close();
    await cli?.stop('SIGKILL');
    await controller?.stop();
    await fixture?.stop();
    killAllStarted();
  });

  test('finds a capacity within 10% of the slot limit\'s rate, draws the curve live and in the report, and ends the round with its verdict', async () => {
    const file = writeLlmTask(tempDir('llm-sweep'), fixture.url, {
      testMode: 'sweep',
      requestCount: undefined,
      duration: 240,
      // near-regular arrivals: the knee is the service's, not the arrivals' bursts
      burstiness: 50,
      dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [outputTokens, outputTokens] },
      // 40 ms configured: 200 ms leaves a busy machine's own overhead room, and the queue above the knee
      // (growing by (rate - 21.05) / 21.05 s every second) breaks it within the 4 judged seconds from 1 req/s over
      slo: { ttft: 200 },
      sweep: { by: 'rate', start: 5, step: 5, max: 40, stepS: 5, bisections: 3 },
    });
    const started = await startProcess(BIN.eascmd, ['-c', controller.configFile, 'bench', 'create', file, '--visualize'], URL_LINE, { NO_COLOR: '1' }, 30000);
    cli = started;
    const name = /Task \[(benchmark-[a-z0-9_-]+)\] is creating/.exec(started.output())?.[1] ?? '';
    const page: Page = await browser.newPage();
    await page.goto(started.match[1]);
    // the live curve: a point for each load judged so far
    await page.waitForFunction(() => {
      const s = (window as unknown as { __statsview: PageState }).__statsview;
      return (s.charts['chart-sweep']?.['TTFT p90']?.length ?? 0) >= 2;
    }, undefined, { timeout: 60000 });
    expect(await page.locator('#chart-sweep canvas').count()).toBeGreaterThan(0);

    const detail = await waitFor('the sweep to end', async () => {
      const d = await taskDetail(controller, name);
      return d.Status === 'Stopped' ? d : undefined;
    }, 200_000, 1000);
    const sweep = (detail.LLM as { Sweep?: LlmSweep }).Sweep as LlmSweep;
    const stats = await fixture.stats();
    // the fixture's own parameters: a slot is held TTFT + (N - 1)·TPOT, and every slot was in use
    const knee = behaviour.capacity / ((behaviour.ttftMs + (outputTokens - 1) * behaviour.tpotMs) / 1000);
    expect(stats.maxGenerating).toBe(behaviour.capacity);
    const steps = sweep.Steps.map((s) => `${s.Load} ${s.Verdict} thr ${s.RequestThroughput} goodput ${s.Goodput} TTFT p90 ${s.TTFT}`);
    process.stdout.write(`sweep against a knee of ${knee.toFixed(2)} req/s: ${sweep.Outcome}\n  ${steps.join('\n  ')}\n`);
    expect(sweep.Status).toBe('found');
    expect(Math.abs((sweep.Capacity as number) - knee) / knee).toBeLessThan(0.1);
    // every load above the knee broke the SLO; the capacity's own step met it
    for (const s of sweep.Steps) if (s.Load > knee * 1.1) expect(s.Verdict).not.toBe('good');
    expect(sweep.CapacityStep?.TTFT).toBeLessThanOrEqual(200);
    expect(sweep.Knee).not.toBeNull();
    expect(detail.Verdict).toMatchObject({ EndReason: 'sweep' });
    // the round's loads changed step by step: no steady stage of the whole round is shown
    expect(detail.LLM?.Stable).toBeUndefined();
    expect(detail.LLM?.StableAbsent).toContain("a sweep's load changes step by step");
    expect(detail.Message).toContain(`sweep capacity ${sweep.Capacity} req/s`);

    // the report: the sweep's curve and its table
    const html = await (await fetch(detail.ReportUrl as string)).text();
    expect(html).toContain('id="chart-llm-sweep"');
    expect(html).toContain('<h3>Sweep</h3>');
  }, 300_000);

  test('by concurrency: streams past the slots raise no goodput, so the capacity is the slots; the agent opens enough connections for the largest load', async () => {
    await fixture.reset();
    const file = writeLlmTask(tempDir('llm-sweep'), fixture.url, {
      testMode: 'sweep',
      requestCount: undefined,
      duration: 120,
      dataset: { type: 'synthetic', inputTokens: [10, 10], outputTokens: [outputTokens, outputTokens] },
      // loose: a fifth stream waits one slot's time at most; what stops the sweep is goodput
      slo: { ttft: 2000 },
      sweep: { by: 'concurrency', start: 2, step: 1, max: 8, stepS: 4, bisections: 0 },
    });
    const res = await runEascmd(['-c', controller.configFile, 'bench', 'create', file, '--wait', '--json'], { timeoutMs: 180_000 });
    if (res.code !== 0) throw new Error(`bench create failed (${res.code}):\n${res.stdout}\n${res.stderr}`);
    const detail = lastJson<GetTaskResponse>(res.stdout);
    const sweep = (detail.LLM as { Sweep?: LlmSweep }).Sweep as LlmSweep;
    process.stdout.write(`sweep by concurrency: ${sweep.Outcome}\n  ${sweep.Steps.map((s) => `${s.Load} ${s.Verdict} goodput ${s.Goodput}`).join('\n  ')}\n`);
    expect(sweep.Capacity).toBe(behaviour.capacity);
    expect(sweep.Steps.map((s) => s.Verdict)).toEqual(['good', 'good', 'good', 'flat']);
    // five streams were in flight at the fixture at once: the pool opened at two streams was sized for eight
    expect((await fixture.stats()).maxInFlight).toBeGreaterThanOrEqual(5);
  }, 240_000);
});
