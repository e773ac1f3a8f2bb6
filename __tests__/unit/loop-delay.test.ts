import { LOOP_DELAY_RESOLUTION_MS, LoopDelayProbe } from '../../agent/loop-delay';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds the event loop for `ms` (what a stalled agent does to its timers). */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose
  }
}

describe('LoopDelayProbe', () => {
  const probe = new LoopDelayProbe();
  afterEach(() => probe.stop());

  test('a stall that ends just before the period closes counts in that period and in the next', async () => {
    probe.start();
    await sleep(3 * LOOP_DELAY_RESOLUTION_MS);
    block(50);
    // closed in the same turn as the stall ended: the probe has not fired since it began
    const closing = probe.take();
    expect(closing.maxMs).toBeGreaterThanOrEqual(50 - LOOP_DELAY_RESOLUTION_MS);
    await sleep(3 * LOOP_DELAY_RESOLUTION_MS);
    // the probe's late firing lands in the next period: the stall is never lost
    const next = probe.take();
    expect(next.maxMs).toBeGreaterThanOrEqual(50 - LOOP_DELAY_RESOLUTION_MS);
    expect(next.p99Ms).toBeGreaterThanOrEqual(50 - LOOP_DELAY_RESOLUTION_MS);
  });

  test('a stall in the middle of a period is its max, and the period after it starts clean', async () => {
    probe.start();
    await sleep(3 * LOOP_DELAY_RESOLUTION_MS);
    block(40);
    await sleep(3 * LOOP_DELAY_RESOLUTION_MS);
    const period = probe.take();
    expect(period.maxMs).toBeGreaterThanOrEqual(40 - LOOP_DELAY_RESOLUTION_MS);
    expect(period.p99Ms).toBeLessThanOrEqual(period.maxMs);
    // nothing carried over: the next period holds only what happened after the take
    expect(probe.take().maxMs).toBeLessThan(40 - LOOP_DELAY_RESOLUTION_MS);
  });

  test('a stopped probe reports nothing', () => {
    probe.start();
    probe.stop();
    block(20);
    expect(probe.take()).toEqual({ p99Ms: 0, maxMs: 0 });
  });
});
