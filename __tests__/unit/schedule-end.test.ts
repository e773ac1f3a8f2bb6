import { AgentLifecycle } from '../../agent/lifecycle';
import type { DoneCallback, LoadContext, LoadDriver, Sender, Workload } from '../../agent/load-driver';
import { OpenLoop, OpenLoad } from '../../agent/open-loop';
import { rampCountBy, type AgentToController, type LoadShape, type RampPoint } from '../../src/contract';

/**
 * The schedule ends exactly at the round's duration, on a fake clock: jest
 * fakes performance.now() and the timers, so the real open-loop driver and
 * lifecycle run a 5 s schedule in simulated time. setImmediate stays real:
 * the sender keeps turning on it near a due time, and the test lets each
 * turn run after moving the clock by 1 ms.
 */

/** Ends every request at once and keeps the scheduled times it was given. */
class CountingSender implements Sender {
  onIdle: () => void = () => undefined;
  readonly origins: number[] = [];
  inFlight = 0;

  prepare(): Promise<void> {
    return Promise.resolve();
  }

  send(originMs: number, _nowMs: number, done: DoneCallback | null): void {
    this.origins.push(originMs);
    done?.(200);
  }

  cancelAll(): void {
    this.onIdle();
  }

  async close(): Promise<void> {
    this.cancelAll();
  }
}

class OpenWorkload implements Workload<OpenLoad> {
  constructor(readonly sender: CountingSender) {}

  accepts(load: LoadShape): load is OpenLoad {
    return load.kind === 'open';
  }

  fit(): void {
    // nothing to size
  }

  createDriver(load: OpenLoad, context: LoadContext): LoadDriver<OpenLoad> {
    return new OpenLoop(context, load);
  }
}

const realImmediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the schedule ends at the duration', () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** Runs `qps` (or an open load) for `durationMs` of fake time (plus a margin) and returns what was sent and said. */
  async function runSchedule(qps: number | OpenLoad, durationMs: number, maxInFlight = 1_000_000) {
    const sender = new CountingSender();
    const messages: AgentToController[] = [];
    const load: OpenLoad = typeof qps === 'number' ? { kind: 'open', qps, maxInFlight } : qps;
    const round = new AgentLifecycle<OpenLoad>(
      { load, requestLimit: null, timeoutMs: 1000, waitForStart: true, scheduleEndMs: durationMs },
      () => new OpenWorkload(sender),
      (message) => messages.push(message),
      () => undefined,
    );
    await round.prepare();
    const startMs = performance.now();
    round.start();
    for (let t = 0; t < durationMs + 500; t++) {
      jest.advanceTimersByTime(1);
      await realImmediate();
    }
    await realImmediate();
    await round.shutdown();
    return { origins: sender.origins.map((o) => o - startMs), messages };
  }

  test('5000 QPS for 5 s sends exactly R x D = 25 000 requests, none scheduled at or after the end, then done(limit)', async () => {
    const { origins, messages } = await runSchedule(5000, 5000);
    expect(origins.length).toBe(25_000);
    expect(Math.max(...origins)).toBeLessThan(5000);
    expect(Math.min(...origins)).toBeGreaterThanOrEqual(0);
    const done = messages.filter((m) => m.type === 'done');
    expect(done).toEqual([{ type: 'done', reason: 'limit', totalSent: 25_000 }]);
  });

  test('a rate whose interval is not a whole number of ms still ends at R x D (333 QPS for 3 s: 999)', async () => {
    const { origins } = await runSchedule(333, 3000);
    expect(origins.length).toBe(999);
    expect(Math.max(...origins)).toBeLessThan(3000);
  });

  test('a ramp split over 3 agents sends its integral exactly, each request at the ramp time of its index, none twice', async () => {
    // 20 -> 600 QPS over 1.5 s, held 1 s, down to 0 over 1 s, cut at 3.2 s: the integral up to the cut
    const points: RampPoint[] = [
      { atMs: 0, qps: 20 },
      { atMs: 1500, qps: 600 },
      { atMs: 2500, qps: 600 },
      { atMs: 3500, qps: 0 },
    ];
    const endMs = 3200;
    const lanes = 3;
    const perLane: number[][] = [];
    for (let lane = 0; lane < lanes; lane++) {
      const { origins, messages } = await runSchedule({ kind: 'open', qps: 200, maxInFlight: 1_000_000, ramp: { points, atMs: 0, lane, lanes } }, endMs);
      perLane.push(origins);
      expect(messages.filter((m) => m.type === 'done')).toEqual([{ type: 'done', reason: 'limit', totalSent: origins.length }]);
    }
    const all = perLane.flat().sort((a, b) => a - b);
    expect(all.length).toBe(Math.ceil(rampCountBy(points, endMs)));
    expect(Math.max(...all)).toBeLessThan(endMs);
    // the shares differ by at most one request, and request j of the round was due when the integral reached j
    const counts = perLane.map((o) => o.length);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    all.forEach((t, j) => expect(Math.abs(rampCountBy(points, t) - j)).toBeLessThan(1e-6));
  });
});
