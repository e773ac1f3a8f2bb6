import { startTargetService, TargetService } from '../../fixtures/target-service';
import { API_PREFIX, GetTaskResponse } from '../../src/contract';
import { createTask, deleteAllTasks, useInProcessController, waitForStatus } from '../helpers/controller';
import { waitFor } from '../helpers/processes';

/**
 * The task's Message carries what scan and auto found (SPEC 4.5), on the real
 * controller with real agents against a target that answers 404 to
 * everything: even the lowest rate fails, and the round says so at once.
 * Rates are a few QPS, so two shared cores stay free.
 */

const NO_CAPACITY = /^no capacity: error rate 100\.00% > faultTolerate 0\.10% even at the lowest rate, 5 QPS \(status codes 404: \d+\)/;

describe('Message outcomes of scan: a target that fails every request, and one that holds', () => {
  const ctl = useInProcessController();
  let target: TargetService;
  beforeAll(async () => {
    target = await startTargetService({ status: 404 });
  });
  afterAll(async () => {
    await deleteAllTasks(ctl());
    await target.close();
  });
  afterEach(async () => {
    await deleteAllTasks(ctl());
  });

  const detail = async (name: string): Promise<GetTaskResponse> => (await ctl().call('GET', `${API_PREFIX}/${ctl().region}/${name}`)).json as unknown as GetTaskResponse;
  const scan = (faultAction: 'stop' | 'revise'): unknown => ({
    service: { serviceName: 'failing', url: target.url },
    optional: { mode: 'scan', minQPS: 5, qpsGrowthDelta: 5, adjustInterval: 3, maxQPS: 20, faultAction, duration: 60 },
  });

  test('faultAction stop: the round ends after its first step, its Message says there is no capacity and why', async () => {
    const name = await createTask(ctl(), scan('stop'));
    const done = await waitForStatus(ctl(), name, ['Stopped'], 40000);
    // the Message is the round's verdict: nothing succeeded, no capacity and why, and why the round ended
    expect(done.Message).toMatch(/^Benchmark task is stopped\. Verdict: no result; no request succeeded \(\d+ requests, status codes 404: \d+\); no capacity: .*; ended: faultAction stop: the error rate is over faultTolerate at the lowest rate, 5 QPS$/);
    expect(done.Message.split('; ')[2]).toMatch(NO_CAPACITY);
    expect(done.Message).toBe(`Benchmark task is stopped. ${done.Verdict?.Text}`);
    expect(done.Verdict?.EndReason).toBe('faultAction');
    expect(done.Capacity).toBeUndefined();
    // well before the 60 s duration: after one step
    expect(done.ElapsedS).toBeLessThan(30);
  });

  test('faultAction revise: the floor is held with no Capacity, said once in the Message and the events', async () => {
    const name = await createTask(ctl(), scan('revise'));
    const held = await waitFor('the floor held', async () => {
      const task = await detail(name);
      return task.Status === 'Running' && NO_CAPACITY.test(task.Message) ? task : undefined;
    }, 40000, 100);
    expect(held.Message).toMatch(/; holding 5 QPS \(faultAction revise\)$/);
    expect(held.Capacity).toBeUndefined();
    // another step's time later nothing was repeated
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const later = await detail(name);
    expect(later.Events.filter((e) => e.Kind === 'hold')).toHaveLength(1);
    expect(later.Events.filter((e) => e.Kind === 'revise')).toEqual([]);
    expect(later.Message).toBe(held.Message);
    await ctl().call('PUT', `${API_PREFIX}/${ctl().region}/${name}/stop`);
    const stopped = await waitForStatus(ctl(), name, ['Stopped']);
    expect(stopped.Message).toMatch(/^Benchmark task is stopped\. Verdict: no result; no request succeeded \(.*\); no capacity: .*; ended: stopped by the user$/);
    expect(stopped.Verdict?.EndReason).toBe('stopped');
  });

  test('a held rate: the Message says the held QPS and why while running, and the capacity once finished', async () => {
    const healthy = await startTargetService();
    try {
      const name = await createTask(ctl(), { service: { serviceName: 'healthy', url: healthy.url }, optional: { mode: 'scan', minQPS: 5, qpsGrowthDelta: 5, adjustInterval: 2, maxQPS: 10, duration: 60 } });
      const held = await waitFor('a held rate', async () => {
        const task = await detail(name);
        return task.Status === 'Running' && task.Capacity ? task : undefined;
      }, 40000, 100);
      expect(held.Message).toBe('holding 10 QPS: next step 15 QPS > maxQPS 10');
      await ctl().call('PUT', `${API_PREFIX}/${ctl().region}/${name}/stop`);
      const stopped = await waitForStatus(ctl(), name, ['Stopped']);
      expect(stopped.Message).toMatch(/^Benchmark task is stopped\. Verdict: passed; capacity 10 QPS \(TP99 [\d.]+ ms, error rate 0\.00%, limit maxQPS\); ended: stopped by the user$/);
      expect(stopped.Verdict).toMatchObject({ Outcome: 'passed', EndReason: 'stopped', Capacity: stopped.Capacity });
    } finally {
      await deleteAllTasks(ctl());
      await healthy.close();
    }
  });
});
