import { BUDGET_C, expectWithin, useCapacityRuns } from '../helpers/capacity';

/**
 * scan's faultAction against the budget service (503 above C = 150 QPS): the capacity within -10%..+0% of C (helpers/capacity.ts).
 * @runAlone: its bound is the service's, not the machine's; with the suite beside it such files failed
 * their bounds in fresh-clone runs (README.md, "Run the tests").
 */
describe('capacity within -10%..+0% of a service of known capacity: faultAction', () => {
  const { run, budgetScan } = useCapacityRuns({ budget: true });

  test('scan, faultAction stop: the rate that broke the budget is kept, the capacity is the last good step', async () => {
    const task = await run('scan, faultAction stop', budgetScan('stop'), BUDGET_C);
    expectWithin(task.Capacity, BUDGET_C);
    expect(task.Capacity).toMatchObject({ QPS: 140, Reason: 'faultTolerate', ErrorRate: 0 });
    expect(task.Events.some((e) => e.Kind === 'hold' && /holding 180 QPS \(faultAction stop\); capacity 140 QPS, the last good step$/.test(e.Message))).toBe(true);
    expect(task.Message).toMatch(/^Benchmark task is stopped\. Verdict: passed; capacity 140 QPS .*; ended: duration of 22 s reached$/);
  }, 90000);

  test('scan, faultAction revise: steps down to the last good step and holds it', async () => {
    const task = await run('scan, faultAction revise', budgetScan('revise'), BUDGET_C);
    expectWithin(task.Capacity, BUDGET_C);
    expect(task.Capacity).toMatchObject({ QPS: 140, Reason: 'faultTolerate' });
    expect(task.Capacity!.ErrorRate).toBeLessThanOrEqual(0.05);
  }, 90000);
});
