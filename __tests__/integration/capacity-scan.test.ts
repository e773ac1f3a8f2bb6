import { expectWithin, QUEUE_C, steps, useCapacityRuns } from '../helpers/capacity';

/**
 * scan against the queue (C = 120 QPS), with and without maxRT: the capacity within -10%..+0% of C (helpers/capacity.ts).
 * @runAlone: its bound is the service's, not the machine's; with the suite beside it such files failed
 * their bounds in fresh-clone runs (README.md, "Run the tests").
 */
describe('capacity within -10%..+0% of a service of known capacity: scan', () => {
  const { run, queueScan } = useCapacityRuns({ queue: true });

  test('scan without maxRT: the step over C is saturated, shown with its achieved rate, and the step below it is the capacity', async () => {
    const task = await run('scan, no maxRT', queueScan(), QUEUE_C);
    expectWithin(task.Capacity, QUEUE_C);
    expect(task.Capacity).toMatchObject({ QPS: 112, Reason: 'saturation' });
    const over = steps(task).find((s) => s.TargetQPS === 148)!;
    expect(over.Verdict).toBe('saturated');
    expect(over.AchievedQPS).toBeLessThan(148 * 0.95);
    expect(task.Events.some((e) => e.Kind === 'verdict' && /^scan: 148 QPS: achieved [\d.]+, .*; (completed [\d.]+\/s of [\d.]+\/s sent|latency climbing|\d+ requests dropped)/.test(e.Message))).toBe(true);
    // the held rate is the capacity, and every window of it was judged good (no revise)
    expect(task.Events.filter((e) => e.Kind === 'revise')).toEqual([]);
    expect(task.Message).toMatch(/; capacity 112 QPS \(TP99 [\d.]+ ms, error rate 0\.00%, limit saturation\); ended: duration of \d+ s reached$/);
  }, 90000);

  test('scan with maxRT 100 ms: the held rate meets maxRT through the hold', async () => {
    const task = await run('scan, maxRT 100', queueScan(100), QUEUE_C);
    expectWithin(task.Capacity, QUEUE_C);
    expect(task.Capacity).toMatchObject({ QPS: 112 });
    expect(['maxRT', 'saturation']).toContain(task.Capacity!.Reason);
    expect(task.Capacity!.TP99).toBeLessThanOrEqual(100);
    expect(task.Events.filter((e) => e.Kind === 'revise')).toEqual([]);
  }, 90000);
});
