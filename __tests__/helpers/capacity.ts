import { API_PREFIX, Capacity, GetTaskResponse, Step } from '../../src/contract';
import { createTask, deleteAllTasks, useInProcessController, waitForStatus } from './controller';
import { FixtureProcess, killAllStarted, startFixture } from './processes';

/**
 * The capacity tests (SPEC 7: no mode reports a capacity above what the
 * service sustains): real agents against fixture services of known capacity
 * C, every capacity found within -10%..+0% of C (docs/modes.md, Saturation).
 * Each case is one short round; the scan grids put one step in [0.9 C, C)
 * and the next one above C, so the step over C must be seen failing. The
 * cases are split over several files, each with its own controller and
 * fixtures, so that they run side by side.
 *
 * - the queue: a FIFO service of 3 workers x 25 ms, C = 120 QPS, which answers
 *   everything, later and later above C (the issue's service);
 * - the budget: a service that answers 503 to what is above C = 150 QPS, for
 *   faultAction.
 */
export const QUEUE_C = (3 * 1000) / 25;
export const BUDGET_C = 150;

export type CapacityTask = { service: unknown; optional: Record<string, unknown> };

/** The capacity lies within -10%..+0% of C. */
export function expectWithin(capacity: Capacity | undefined, c: number): void {
  expect(capacity).toBeDefined();
  expect({ qps: capacity!.QPS, withinMinus10To0: capacity!.QPS <= c && capacity!.QPS >= 0.9 * c }).toEqual({ qps: capacity!.QPS, withinMinus10To0: true });
}

/** The structured steps of a task's verdict events. */
export const steps = (task: GetTaskResponse): Step[] => task.Events.flatMap((e) => (e.Kind === 'verdict' && e.Step ? [e.Step] : []));

/**
 * An in-process controller and the fixture services named in `services` for
 * a describe block; `run` creates a task, waits until it is Stopped and
 * returns its detail (every task deleted after each test). What each case
 * found is printed after the block when EAS_BENCH_FIGURES is set (for
 * docs/modes.md).
 */
export function useCapacityRuns(services: { queue?: boolean; budget?: boolean }): {
  queueScan(maxRT?: number): CapacityTask;
  budgetScan(faultAction: 'stop' | 'revise'): CapacityTask;
  queueUrl(): string;
  run(label: string, task: CapacityTask, c: number): Promise<GetTaskResponse>;
} {
  const ctl = useInProcessController();
  let queue: FixtureProcess | undefined;
  let budget: FixtureProcess | undefined;
  const figures: string[] = [];
  const url = (fixture: FixtureProcess | undefined): string => {
    if (!fixture) throw new Error('a capacity fixture is used before its beforeAll ran, or was not asked for');
    return fixture.url;
  };

  beforeAll(async () => {
    if (services.queue) queue = await startFixture(['--workers', '3', '--service-ms', '25']);
    if (services.budget) budget = await startFixture(['--latency-ms', '1', '--error-above-qps', String(BUDGET_C)]);
  });
  afterEach(async () => {
    await deleteAllTasks(ctl());
  });
  afterAll(async () => {
    if (process.env.EAS_BENCH_FIGURES) process.stdout.write(`${figures.join('\n')}\n`);
    await queue?.stop();
    await budget?.stop();
    killAllStarted();
  });

  return {
    // 40, 76, 112 (0.93 C), 148 (1.23 C), ... up to maxQPS 300: more than twice what the service sustains
    queueScan: (maxRT) => ({
      service: { serviceName: 'queue', url: `${url(queue)}/predict` },
      // with maxRT a step whose every second was generator-limited runs again with one more agent: room for a couple on a busy machine
      optional: { mode: 'scan', minQPS: 40, qpsGrowthDelta: 36, adjustInterval: 4, maxQPS: 300, duration: maxRT ? 36 : 28, ...(maxRT ? { maxRT } : {}) },
    }),
    // 60, 100, 140 (0.93 C), 180 (1.2 C)
    budgetScan: (faultAction) => ({
      service: { serviceName: 'budget', url: `${url(budget)}/p` },
      // revise needs one more step than stop: the way down to 140
      // a budget of 5%: a stalled agent's catch-up burst can push a few requests of 140 QPS over 150 in a rolling second
      optional: { mode: 'scan', minQPS: 60, qpsGrowthDelta: 40, adjustInterval: 4, maxQPS: 1000, faultTolerate: 0.05, faultAction, duration: faultAction === 'revise' ? 28 : 22 },
    }),
    queueUrl: () => url(queue),
    async run(label, task, c) {
      const name = await createTask(ctl(), task);
      await waitForStatus(ctl(), name, ['Stopped'], 120000);
      const detail = (await ctl().call('GET', `${API_PREFIX}/${ctl().region}/${name}`)).json as unknown as GetTaskResponse;
      const found = detail.Capacity;
      figures.push(`${label}: C ${c} QPS, capacity ${found ? `${found.QPS} QPS (${found.Reason}, ${(((found.QPS - c) / c) * 100).toFixed(1)}%)` : 'none'}; steps ${steps(detail).map((s) => `${s.TargetQPS}:${s.Verdict}(${s.AchievedQPS}${s.GeneratorLimitedShare ? `, limited ${s.GeneratorLimitedShare}` : ''})`).join(' ')}`);
      return detail;
    },
  };
}
