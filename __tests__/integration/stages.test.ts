import { signedFetch } from '../helpers/api';
import { launchBrowser } from '../helpers/browser';
import { ControllerProcess, FixtureProcess, killAllStarted, lastJson, runEascmd, startController, startFixture, tempDir, writeTask } from '../helpers/processes';
import { openLivePage, PageCharts, reportHtml } from '../helpers/task-views';
import { rampCountBy, stagePoints, resolveOptional, type TaskSpec } from '../../src/contract';

interface Detail {
  TaskName: string;
  Status: string;
  DesiredAgent: number;
  Message: string;
  Result?: { TotalRequests: number; StatusCodes: Record<string, number> };
}

interface Series {
  Series: { Elapsed: number; TargetQPS?: number; Concurrency?: number; Requests: number }[];
}

describe('stages: a rate that ramps, end to end', () => {
  let controller: ControllerProcess;
  let fixture: FixtureProcess;
  const dir = tempDir('stages');
  /** The rate ramp's round, which the report and page test read back. */
  let ramped: { detail: Detail; series: Series } | undefined;

  beforeAll(async () => {
    fixture = await startFixture(['--latency-ms', '1']);
    // two agents share a 200 QPS peak: the split across agents is part of what is counted
    controller = await startController({ args: ['--max-agent-qps', '100'] });
  });
  afterAll(async () => {
    await controller?.stop();
    await fixture?.stop();
    killAllStarted();
  });

  const service = () => ({ serviceName: 'stages', url: `${fixture.url}/api/predict/stages` });
  const runTask = async (task: unknown): Promise<{ detail: Detail; series: Series }> => {
    const res = await runEascmd(['-c', controller.configFile, 'bench', 'create', writeTask(dir, task), '--wait', '--json'], { timeoutMs: 120000 });
    const detail = lastJson<Detail>(res.stdout);
    const stats = await signedFetch(controller.url, controller.accessId, controller.secret, 'GET', `/api/v2/benchmark-tasks/cn-local/${detail.TaskName}/stats`);
    return { detail, series: stats.json as unknown as Series };
  };

  test('the service counts the integral of the ramp within 0.5%, split over two agents; TargetQPS per second follows the ramp', async () => {
    await fixture.reset();
    const task = { service: service(), data: { content: 'aGVsbG8K' }, optional: { mode: 'stages', startQPS: 20, stages: [{ duration: 3, qps: 200 }, { duration: 3, qps: 200 }, { duration: 3, qps: 50 }] } };
    const { detail, series } = await runTask(task);
    const integral = rampCountBy(stagePoints(resolveOptional(task as TaskSpec).stages!), 9000); // 330 + 600 + 375
    expect(integral).toBeCloseTo(1305, 9);
    expect(detail.Status).toBe('Stopped');
    expect(detail.DesiredAgent).toBe(2);
    expect(detail.Message).toContain('duration of 9 s reached');
    const counted = (await fixture.stats()).requests;
    expect(Math.abs(counted - integral) / integral).toBeLessThanOrEqual(0.005);
    expect(detail.Result?.TotalRequests).toBe(counted);
    // the seconds' targets are the ramp's count in each wall second: they add up to the integral
    const targets = series.Series.map((s) => s.TargetQPS ?? 0);
    expect(targets.reduce((a, b) => a + b, 0)).toBeCloseTo(integral, 6);
    const peak = Math.max(...targets);
    expect(peak).toBeCloseTo(200, 6);
    expect(targets[1]).toBeLessThan(peak);
    expect(targets[targets.length - 1]).toBeLessThan(peak);
    ramped = { detail, series };
  });

  test('the report draws the target beside the achieved rate; the live page holds the ramp second by second', async () => {
    expect(ramped).toBeDefined();
    const { detail, series } = ramped as { detail: Detail; series: Series };
    const qps = /<figure id="chart-qps">.*?<\/figure>/s.exec(await reportHtml(controller, detail.TaskName))?.[0] ?? '';
    expect(qps).toContain('>Target<');
    expect(qps).toContain('>Achieved<');
    const browser = await launchBrowser();
    try {
      const live = await openLivePage(browser, controller, detail.TaskName);
      try {
        await live.page.waitForFunction(() => ((window as unknown as { __statsview: { charts: PageCharts } }).__statsview.charts['chart-qps']?.TargetQPS?.length ?? 0) > 0, undefined, { timeout: 10000 });
        const chart = (await live.charts())['chart-qps'];
        expect(chart.TargetQPS.map(([, v]) => v)).toEqual(series.Series.map((p) => p.TargetQPS));
        expect(chart.Requests.map(([, v]) => v)).toEqual(series.Series.map((p) => p.Requests));
        expect(await live.page.locator('#task-mode').textContent()).toBe('stages');
      } finally {
        await live.close();
      }
    } finally {
      await browser.close();
    }
  });

  test('concurrency stages ramp the workers of the task agents; a task mixing qps and concurrency is refused naming the stage', async () => {
    const { detail, series } = await runTask({ service: service(), data: { content: 'aGVsbG8K' }, optional: { mode: 'stages', agentCount: 2, startConcurrency: 1, stages: [{ duration: 4, concurrency: 9 }, { duration: 2, concurrency: 9 }] } });
    expect(detail.Status).toBe('Stopped');
    expect(detail.Message).toContain('duration of 6 s reached');
    const workers = series.Series.map((s) => s.Concurrency ?? 0);
    expect(workers[0]).toBeLessThan(9);
    expect(Math.max(...workers)).toBe(9);

    const mixed = await runEascmd(['-c', controller.configFile, 'bench', 'create', writeTask(dir, { service: service(), optional: { mode: 'stages', stages: [{ duration: 4, qps: 10 }, { duration: 4, concurrency: 2 }] } })]);
    expect(mixed.code).toBe(1);
    expect(mixed.stdout + mixed.stderr).toContain('[ERROR] InvalidField: optional.stages[1].concurrency: a task ramps either a rate (qps) or workers (concurrency), not both');
  });
});
