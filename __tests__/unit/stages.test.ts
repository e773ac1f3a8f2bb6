import { RampSchedule } from '../../agent/schedule';
import { StagesMode } from '../../controller/modes/stages';
import type { ModeContext } from '../../controller/modes/base';
import { normalizeTask, parseControllerMessage, rampCountBy, rampRateAt, RampClock, resolveOptional, validateTask, type RampPoint, type TaskSpec } from '../../src/contract';

const POINTS: RampPoint[] = [
  { atMs: 0, qps: 10 },
  { atMs: 10_000, qps: 100 },
  { atMs: 15_000, qps: 100 },
  { atMs: 25_000, qps: 0 },
];

describe('the ramp: rate, integral and the time of the n-th request', () => {
  test('the integral of 10 -> 100 over 10 s, 100 for 5 s, 100 -> 0 over 10 s is 550 + 500 + 500', () => {
    expect(rampCountBy(POINTS, 25_000)).toBeCloseTo(1550, 9);
    expect(rampCountBy(POINTS, 10_000)).toBeCloseTo(550, 9);
    expect(rampRateAt(POINTS, 5_000)).toBe(55);
    // after the last point the last rate holds (0 here; 100 for a ramp that ends at 100)
    expect(rampCountBy(POINTS, 40_000)).toBeCloseTo(1550, 9);
    expect(rampCountBy(POINTS.slice(0, 3), 20_000)).toBeCloseTo(550 + 1000, 9);
  });

  test('timeOf inverts the integral on rising, flat and falling segments, and is Infinity once a ramp to 0 is spent', () => {
    const clock = new RampClock(POINTS);
    for (let n = 0; n < 1550; n += 7) expect(rampCountBy(POINTS, clock.timeOf(n))).toBeCloseTo(n, 6);
    expect(clock.timeOf(1551)).toBe(Number.POSITIVE_INFINITY);
    // asked out of order it starts again from the first segment
    expect(clock.timeOf(0)).toBe(0);
    expect(rampCountBy(POINTS, clock.timeOf(600))).toBeCloseTo(600, 6);
  });

  test('a ramp starting from 0 QPS has its first request where the integral reaches 1, not a burst at 0', () => {
    const clock = new RampClock([
      { atMs: 0, qps: 0 },
      { atMs: 2000, qps: 100 },
    ]);
    // integral = 25 t^2 (t in s): reaches 1 at t = 0.2 s
    expect(clock.timeOf(1)).toBeCloseTo(200, 6);
    expect(clock.timeOf(100)).toBeCloseTo(2000, 6);
  });

  test('lanes split the schedule: every index once across agents; a lane joining mid-ramp starts at the first index due from then', () => {
    const lanes = 4;
    const endMs = 20_000;
    const taken: number[] = [];
    for (let lane = 0; lane < lanes; lane++) {
      const schedule = new RampSchedule({ points: POINTS, atMs: 0, lane, lanes }, 0);
      while (schedule.nextDueMs() < endMs) {
        taken.push(schedule.nextDueMs());
        schedule.advance();
      }
    }
    expect(taken.length).toBe(Math.ceil(rampCountBy(POINTS, endMs)));
    // lane 1 re-sent at 12.3 s into the ramp: nothing before it, the next of its lane after it
    const late = RampSchedule.startingAt({ points: POINTS, atMs: 12_300, lane: 1, lanes }, 50_000);
    const firstMs = late.nextDueMs() - (50_000 - 12_300);
    expect(firstMs).toBeGreaterThanOrEqual(12_300);
    expect(firstMs - 12_300).toBeLessThanOrEqual((lanes * 1000) / 100 + 1e-6);
  });
});

describe('stages in the task', () => {
  const base = { service: { serviceName: 'demo', url: 'http://127.0.0.1:1/' } };
  const errorsOf = (optional: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const result = validateTask({ ...base, ...extra, optional });
    return result.ok ? [] : result.errors;
  };

  test('a valid rate ramp resolves to its stages and lasts their total unless duration says otherwise; normalize keeps it', () => {
    const task = { ...base, optional: { mode: 'stages', startQPS: 0, stages: [{ duration: 30, qps: 200 }, { duration: 60, qps: 200 }, { duration: 10, qps: 0 }] } };
    expect(validateTask(task).ok).toBe(true);
    const resolved = resolveOptional(task as TaskSpec);
    expect(resolved.durationS).toBe(100);
    expect(resolved.stages).toEqual({ kind: 'open', startQps: 0, stages: [{ durationS: 30, qps: 200 }, { durationS: 60, qps: 200 }, { durationS: 10, qps: 0 }] });
    expect(resolveOptional({ ...task, optional: { ...task.optional, duration: 40 } } as TaskSpec).durationS).toBe(40);
    expect(normalizeTask(task as TaskSpec, resolved).optional).toEqual({ duration: 100, ...task.optional });
  });

  test('a mix of qps and concurrency is refused at the stage that mixes, naming its field', () => {
    expect(errorsOf({ mode: 'stages', stages: [{ duration: 5, qps: 10 }, { duration: 5, concurrency: 4 }] })).toEqual([
      { field: 'optional.stages[1].concurrency', message: 'a task ramps either a rate (qps) or workers (concurrency), not both: optional.stages[0] gives qps' },
    ]);
  });

  test('missing stages, a stage with neither target, stages outside the mode and an llm task are each refused with their field', () => {
    expect(errorsOf({ mode: 'stages' })).toEqual([{ field: 'optional.stages', message: 'is required when optional.mode is "stages"' }]);
    expect(errorsOf({ mode: 'stages', stages: [{ duration: 5 }] })[0].field).toBe('optional.stages[0]');
    expect(errorsOf({ mode: 'stages', stages: [{ duration: 0, qps: 5 }] })[0].field).toBe('optional.stages[0].duration');
    expect(errorsOf({ mode: 'scan', stages: [{ duration: 5, qps: 10 }] })).toEqual([{ field: 'optional.stages', message: 'applies only to optional.mode "stages"' }]);
    expect(errorsOf({ mode: 'stages', startConcurrency: 2, stages: [{ duration: 5, qps: 10 }] })[0].field).toBe('optional.startConcurrency');
    expect(errorsOf({ mode: 'stages', stages: [{ duration: 700, qps: 10 }, { duration: 700, qps: 10 }] })[0]).toMatchObject({ field: 'optional.stages', message: expect.stringContaining('1400 s') });
    expect(errorsOf({ mode: 'stages', stages: [{ duration: 5, qps: 10 }] }, { llm: { api: 'chat', model: 'm', testMode: 'rate', requestRate: 1 } })).toContainEqual({
      field: 'optional.mode',
      message: '"stages" ramps HTTP load; an llm task runs the load of its llm section',
    });
  });
});

describe('the stages mode', () => {
  const ctxAt = (nowMs: { value: number }, sinceMs?: number): ModeContext => ({
    event: () => undefined,
    timeoutMs: 1000,
    maxAgents: 8,
    maxAgentQps: 100,
    nowS: () => nowMs.value / 1000,
    runningSinceMs: () => sinceMs,
    end: () => undefined,
  });
  const task = (optional: Record<string, unknown>) => resolveOptional({ service: { serviceName: 'x' }, optional } as TaskSpec);

  test('a rate ramp runs on agents for its peak, each told the whole ramp and its lane; the per-second targets sum to the integral', () => {
    const optional = task({ mode: 'stages', startQPS: 10, stages: [{ duration: 10, qps: 250 }, { duration: 5, qps: 0 }] });
    const now = { value: 1_000_000_500 };
    const mode = new StagesMode(optional, optional.stages!, ctxAt(now, 1_000_000_500));
    expect(mode.desiredAgents()).toBe(3);
    expect(mode.loadFor(2, 3)).toMatchObject({ kind: 'open', ramp: { lane: 2, lanes: 3, atMs: 0, points: [{ atMs: 0, qps: 10 }, { atMs: 10_000, qps: 250 }, { atMs: 15_000, qps: 0 }] } });
    let sum = 0;
    for (let s = 1_000_000; s < 1_000_017; s++) sum += mode.targetQpsDuring(s) ?? 0;
    expect(sum).toBeCloseTo(1300 + 625, 6);
    now.value += 5000;
    expect(mode.targetQps()).toBe(130);
    expect(mode.describeTarget()).toBe('stages 10 -> 250 -> 0 QPS over 15 s');
  });

  test('a workers ramp sets whole workers second by second on the task agents', () => {
    const optional = task({ mode: 'stages', agentCount: 2, startConcurrency: 1, stages: [{ duration: 10, concurrency: 21 }] });
    const now = { value: 0 };
    const mode = new StagesMode(optional, optional.stages!, ctxAt(now, 0));
    expect(mode.desiredAgents()).toBe(2);
    expect(mode.loadFor(0, 2)).toEqual({ kind: 'closed', concurrency: 1, maxQps: null });
    now.value = 5000;
    expect(mode.onSecond()).toBe(true);
    expect(mode.concurrency()).toBe(11);
    expect([mode.loadFor(0, 2), mode.loadFor(1, 2)].map((l) => (l.kind === 'closed' ? l.concurrency : -1))).toEqual([6, 5]);
    expect(mode.onSecond()).toBe(false);
  });
});

describe('a ramp in the agent protocol', () => {
  const load = (ramp: unknown) => JSON.stringify({ type: 'load', load: { kind: 'open', qps: 10, maxInFlight: 64, ramp } });
  const points = [
    { atMs: 0, qps: 0 },
    { atMs: 1000, qps: 10 },
  ];

  test('a well-formed ramp is taken as it is', () => {
    expect(parseControllerMessage(load({ points, atMs: 0, lane: 1, lanes: 2 }))).toEqual({ type: 'load', load: { kind: 'open', qps: 10, maxInFlight: 64, ramp: { points, atMs: 0, lane: 1, lanes: 2 } } });
  });

  test.each([
    ['a lane outside its lanes', { points, atMs: 0, lane: 2, lanes: 2 }],
    ['no lanes', { points, atMs: 0, lane: 0, lanes: 0 }],
    ['points not ascending', { points: [points[0], { atMs: 0, qps: 5 }], atMs: 0, lane: 0, lanes: 1 }],
    ['a first point after 0', { points: [{ atMs: 5, qps: 1 }], atMs: 0, lane: 0, lanes: 1 }],
    ['a negative rate', { points: [{ atMs: 0, qps: -1 }], atMs: 0, lane: 0, lanes: 1 }],
    ['more points than stages allow', { points: Array.from({ length: 102 }, (_, i) => ({ atMs: i, qps: 1 })), atMs: 0, lane: 0, lanes: 1 }],
  ])('%s is refused', (_why, ramp) => {
    expect(parseControllerMessage(load(ramp))).toBe('malformed load');
  });
});
