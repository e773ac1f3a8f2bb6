import { resolveOptional, StatsPoint, TaskEvent } from '../../src/contract';
import { FinalizedSecond } from '../../controller/metrics/aggregate';
import { createLatencyHistogram, encodeHistogram, quantilesMs } from '../../src/measure/histogram';
import { ModeContext } from '../../controller/modes/base';
import { createMode, taskMode } from '../../controller/modes';
import { openLoopInFlightCap } from '../../controller/modes/stepped';
import { Service, service, simulate, steps } from '../helpers/mode-sim';


describe('auto', () => {
  test.each([
    [200, 20, 150],
    [1000, 5, 50],
    [5000, 2, undefined],
  ])('finds a capacity of %i QPS (service %i ms, maxRT %s) within 10%% and holds it', (capacity, serviceMs, maxRT) => {
    const { mode, events, targets } = simulate(service({ maxQPS: 20000, maxRT, duration: 300 }), { capacity, serviceMs }, 150);
    const found = mode.capacity();
    expect(found).toBeDefined();
    expect(Math.abs(found!.QPS - capacity) / capacity).toBeLessThanOrEqual(0.1);
    expect(found!.QPS).toBeLessThanOrEqual(capacity);
    expect(events.some((e) => e.Kind === 'hold')).toBe(true);
    expect(targets[targets.length - 1]).toBe(found!.QPS);
    if (maxRT) expect(found!.TP99).toBeLessThanOrEqual(maxRT);
  });

  test('stops at maxQPS when the service never breaks', () => {
    const { mode } = simulate(service({ maxQPS: 400, duration: 300 }), { capacity: 100000, serviceMs: 1 }, 60);
    expect(mode.capacity()).toMatchObject({ QPS: 400, Reason: 'maxQPS' });
  });

  test('an error budget ends the growth', () => {
    const { mode } = simulate(service({ maxQPS: 5000, faultTolerate: 0.01, duration: 300 }), { capacity: 100000, serviceMs: 1, errorAboveQps: 300 }, 120);
    expect(mode.capacity()?.Reason).toBe('faultTolerate');
    expect(mode.capacity()!.QPS).toBeLessThanOrEqual(300 / 0.99);
  });
});

describe('scan', () => {
  test('holds the last step whose TP99 met maxRT', () => {
    const { mode } = simulate(service({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 50, adjustInterval: 5, maxQPS: 1000, maxRT: 100 }), { capacity: 230, serviceMs: 10 }, 60);
    expect(mode.capacity()).toMatchObject({ QPS: 200, Reason: 'maxRT' });
  });

  test('revise steps down until the error rate is met, then holds', () => {
    const { mode, events } = simulate(service({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 100, adjustInterval: 4, maxQPS: 2000, faultTolerate: 0.01, faultAction: 'revise' }), { capacity: 100000, serviceMs: 1, errorAboveQps: 250 }, 60);
    expect(mode.capacity()).toMatchObject({ QPS: 200, Reason: 'faultTolerate' });
    expect(events.filter((e) => e.Kind === 'revise').length).toBeGreaterThanOrEqual(1);
  });

  test('an update of maxQPS while holding re-opens the growth at the next window', () => {
    const spec = service({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 100, adjustInterval: 3, maxQPS: 300 });
    const { mode } = simulate(spec, { capacity: 100000, serviceMs: 1 }, 20);
    expect(mode.capacity()).toMatchObject({ QPS: 300, Reason: 'maxQPS' });
    mode.update(resolveOptional({ ...spec, optional: { ...spec.optional, maxQPS: 500 } }));
    expect(mode.capacity()).toBeUndefined();
  });
});



describe('steps: every verdict carries its step, structured', () => {
  const within = (rt: string): string => `TP99 <= maxRT ${rt} ms, error rate <= faultTolerate 0.10%`;

  test('scan with maxRT: three good steps, then the step over maxRT', () => {
    const { events } = simulate(service({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 50, adjustInterval: 5, maxQPS: 1000, maxRT: 100 }), { capacity: 230, serviceMs: 10 }, 40);
    expect(steps(events)).toEqual([
      ['1000006.3', { TargetQPS: 100, AchievedQPS: 100, TP99: 10.007, ErrorRate: 0, Verdict: 'good', Why: within('100') }],
      ['1000012.3', { TargetQPS: 150, AchievedQPS: 150, TP99: 10.007, ErrorRate: 0, Verdict: 'good', Why: within('100') }],
      ['1000018.3', { TargetQPS: 200, AchievedQPS: 200, TP99: 10.007, ErrorRate: 0, Verdict: 'good', Why: within('100') }],
      ['1000024.3', { TargetQPS: 250, AchievedQPS: 230, TP99: 425.983, ErrorRate: 0, Verdict: 'bad', Why: 'TP99 426 ms > maxRT 100 ms' }],
    ]);
    // the Message text is unchanged by the structured step
    expect(events.find((e) => e.Step?.Verdict === 'bad')?.Message).toBe('scan: 250 QPS: achieved 230, TP99 426 ms, error rate 0.00%; TP99 426 ms > maxRT 100 ms');
  });

  test('scan with revise: the revised window on the way down is a step too', () => {
    const { events } = simulate(service({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 100, adjustInterval: 4, maxQPS: 2000, faultTolerate: 0.01, faultAction: 'revise' }), { capacity: 100000, serviceMs: 1, errorAboveQps: 250 }, 40);
    const met = 'error rate <= faultTolerate 1.00%';
    expect(steps(events)).toEqual([
      ['1000005.3', { TargetQPS: 100, AchievedQPS: 100, TP99: 1, ErrorRate: 0, Verdict: 'good', Why: met }],
      ['1000010.3', { TargetQPS: 200, AchievedQPS: 200, TP99: 1, ErrorRate: 0, Verdict: 'good', Why: met }],
      ['1000015.3', { TargetQPS: 300, AchievedQPS: 300, TP99: 1, ErrorRate: 50 / 300, Verdict: 'bad', Why: 'error rate 16.67% > faultTolerate 1.00%' }],
      ['1000020.3', { TargetQPS: 200, AchievedQPS: 200, TP99: 1, ErrorRate: 0, Verdict: 'good', Why: met }],
    ]);
  });

  test('auto: the ramp, the first bad step and the search', () => {
    const { events } = simulate(service({ maxQPS: 20000, maxRT: 150, duration: 300 }), { capacity: 200, serviceMs: 20 }, 60);
    const good = `${within('150')}, not saturated`;
    expect(steps(events)).toEqual([
      ['1000005.3', { TargetQPS: 50, AchievedQPS: 50, TP99: 20.015, ErrorRate: 0, Verdict: 'good', Why: good }],
      ['1000010.3', { TargetQPS: 100, AchievedQPS: 100, TP99: 20.015, ErrorRate: 0, Verdict: 'good', Why: good }],
      ['1000015.3', { TargetQPS: 200, AchievedQPS: 200, TP99: 20.015, ErrorRate: 0, Verdict: 'good', Why: good }],
      ['1000020.3', { TargetQPS: 400, AchievedQPS: 200, TP99: 3880.959, ErrorRate: 0, Verdict: 'bad', Why: 'TP99 3881 ms > maxRT 150 ms' }],
      ['1000031.3', { TargetQPS: 300, AchievedQPS: 200, TP99: 1950.719, ErrorRate: 0, Verdict: 'bad', Why: 'TP99 1951 ms > maxRT 150 ms' }],
      ['1000040.3', { TargetQPS: 250, AchievedQPS: 200, TP99: 985.087, ErrorRate: 0, Verdict: 'bad', Why: 'TP99 985 ms > maxRT 150 ms' }],
      ['1000048.3', { TargetQPS: 225, AchievedQPS: 200, TP99: 502.527, ErrorRate: 0, Verdict: 'bad', Why: 'TP99 503 ms > maxRT 150 ms' }],
      ['1000055.3', { TargetQPS: 212.5, AchievedQPS: 200, TP99: 261.375, ErrorRate: 0, Verdict: 'bad', Why: 'TP99 261 ms > maxRT 150 ms' }],
    ]);
  });

  test('auto: a step the agents could not send is not judged on the service; it runs again with one more agent', () => {
    const { events } = simulate(service({ maxQPS: 20000, duration: 300 }), { capacity: 100000, serviceMs: 1, sentShare: 0.9 }, 6);
    expect(steps(events)).toEqual([
      ['1000005.3', { TargetQPS: 50, AchievedQPS: 45, TP99: 1, ErrorRate: 0, Verdict: 'agents-behind', Why: 'sent 45/s, send lag p99 0.5 ms, event loop 1.0 ms; the step runs again with agent 2' }],
    ]);
  });
});

describe('stepped base (scan and auto)', () => {
  const quiet = (): ModeContext => ({ event: () => undefined, timeoutMs: 20000, maxAgents: 4, nowS: () => 1_000_000, end: () => undefined });

  test('the in-flight cap covers rate x timeout +20%, at least 64, at most 50 000 per agent', () => {
    expect(openLoopInFlightCap(1, 20000)).toBe(64);
    expect(openLoopInFlightCap(100, 20000)).toBe(2400);
    expect(openLoopInFlightCap(10000, 20000)).toBe(50_000);
    const scan = createMode(resolveOptional(service({ mode: 'scan', minQPS: 300 })), quiet());
    expect(scan.loadFor(0, 3)).toEqual({ kind: 'open', qps: 100, maxInFlight: 2400 });
  });

  test('auto sends nothing while a bad step drains, its cap kept for the larger of the bad step and the next', () => {
    const { mode, events } = simulate(service({ maxQPS: 20000, maxRT: 150, duration: 300 }), { capacity: 200, serviceMs: 20 }, 21);
    expect(events[events.length - 1]).toMatchObject({ Kind: 'step', Message: 'auto: search between 200 (good) and 400 (bad): try 300 QPS' });
    expect(mode.targetQps()).toBe(0);
    expect(mode.loadFor(0, 1)).toEqual({ kind: 'open', qps: 0, maxInFlight: openLoopInFlightCap(400, 20000) });
  });

  test('scan holds: no more steps, the target stays, Capacity is set', () => {
    const { mode, events, targets } = simulate(service({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 100, adjustInterval: 3, maxQPS: 300 }), { capacity: 100000, serviceMs: 1 }, 40);
    expect(mode.capacity()).toEqual({ QPS: 300, TP99: 1, ErrorRate: 0, Reason: 'maxQPS' });
    expect(targets.slice(-20).every((qps) => qps === 300)).toBe(true);
    expect(events.filter((e) => e.Kind === 'hold')).toHaveLength(1);
    expect(mode.describeTarget()).toBe('300 QPS (holding)');
  });

  test('scan revise steps down by qpsGrowthDelta each window, never below it: a failing floor holds without a capacity', () => {
    const { mode, targets, events } = simulate(service({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 100, adjustInterval: 4, maxQPS: 2000, faultTolerate: 0.01, faultAction: 'revise' }), { capacity: 100000, serviceMs: 1, errorAboveQps: 50 }, 60);
    // 100 is already over the budget and revise cannot go below one delta: said at once, then held
    expect(Math.min(...targets)).toBe(100);
    expect(mode.capacity()).toBeUndefined();
    expect(events.filter((e) => e.Kind === 'revise')).toEqual([]);
    expect(events.filter((e) => e.Kind === 'hold')).toHaveLength(1);
    expect(mode.describeTarget()).toBe('100 QPS (holding)');
  });

  test('scan: a maxRT set mid-step is judged at the end of that step; the lowest step over it leaves no capacity', () => {
    const spec = service({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 100, adjustInterval: 5, maxQPS: 5000 });
    const events: TaskEvent[] = [];
    const ctx: ModeContext = { event: (Kind, Message, Step) => events.push({ Time: '', Kind, Message, Step }), timeoutMs: 20000, maxAgents: 4, nowS: () => 1_000_000, end: () => undefined };
    const mode = createMode(resolveOptional(spec), ctx);
    const second = (t: number, rtMs: number): FinalizedSecond => {
      const rt = createLatencyHistogram();
      for (let k = 0; k < 100; k++) rt.recordValue(rtMs * 1000);
      const point: StatsPoint = { Time: t, Elapsed: 0, TargetQPS: 100, Requests: 100, Success: 100, Errors: 0, BytesIn: 0, BytesOut: 0, Dropped: 0, StatusCodes: {}, RT: quantilesMs(rt), SendLagP99: 0, AgentsDesired: 1, AgentsAvailable: 1 };
      return { point, rtHistogram: encodeHistogram(rt), lagHistogram: '', agentLoad: { sent: 100, inFlight: 1, maxEventLoopLagMs: 0, agentsReported: 1 } };
    };
    // the step runs from second 11; its window, 12..15, is judged at 15; maxRT 20 ms arrives after second 11, the step's latency is 30 ms
    for (let t = 10; t <= 11; t++) expect(mode.onSecond(second(t, 30))).toBe(false);
    expect(mode.update(resolveOptional({ ...spec, optional: { ...spec.optional, maxRT: 20 } }))).toBe(false);
    expect(events[events.length - 1].Message).toBe('scan: settings updated (maxQPS 5000, maxRT 20, faultTolerate 0.001, faultAction revise, +100 every 5 s); applied at the next window');
    for (let t = 12; t <= 14; t++) expect(mode.onSecond(second(t, 30))).toBe(false);
    expect(mode.capacity()).toBeUndefined();
    mode.onSecond(second(15, 30));
    // a rate over maxRT is never the capacity, even the lowest one
    expect(mode.capacity()).toBeUndefined();
    expect(mode.finalOutcome?.()).toBe('no capacity: TP99 30.0 ms > maxRT 20.0 ms even at the lowest rate, 100 QPS');
    expect(mode.targetQps()).toBe(100);
  });

  test('a lower maxQPS caps the target at once and asks for the loads to be re-sent', () => {
    for (const mode of ['scan', 'auto'] as const) {
      const spec = service({ mode, minQPS: 400, maxQPS: 1000 });
      const driver = createMode(resolveOptional(spec), quiet());
      const before = driver.targetQps() ?? 0;
      expect(driver.update(resolveOptional({ ...spec, optional: { ...spec.optional, maxQPS: 20 } }))).toBe(true);
      expect(driver.targetQps()).toBe(Math.min(before, 20));
    }
  });

  test('auto: new limits re-open a held search and restart the ramp', () => {
    const spec = service({ maxQPS: 400, duration: 300 });
    const { mode } = simulate(spec, { capacity: 100000, serviceMs: 1 }, 60);
    expect(mode.capacity()).toMatchObject({ QPS: 400, Reason: 'maxQPS' });
    expect(mode.update(resolveOptional({ ...spec, optional: { ...spec.optional, maxQPS: 800 } }))).toBe(true);
    expect(mode.capacity()).toBeUndefined();
    expect(mode.describeTarget()).toBe('400 QPS (ramp, 1 agent)');
  });

  test('an update that changes no limit keeps the hold', () => {
    const spec = service({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 100, adjustInterval: 3, maxQPS: 300 });
    const { mode } = simulate(spec, { capacity: 100000, serviceMs: 1 }, 20);
    expect(mode.update(resolveOptional({ ...spec, optional: { ...spec.optional, qpsGrowthDelta: 50 } }))).toBe(false);
    expect(mode.capacity()).toMatchObject({ QPS: 300, Reason: 'maxQPS' });
  });
});

describe('faultAction and the Message outcome (scan and auto)', () => {
  /** A target answering 404 to everything, as in the issue: every rate fails. */
  const failing: Service = { capacity: 100000, serviceMs: 1, errorAboveQps: 0 };
  const noCapacity = (qps: number, requests: number): string =>
    `no capacity: error rate 100.00% > faultTolerate 0.10% even at the lowest rate, ${qps} QPS (status codes 404: ${requests})`;

  test('scan whose lowest rate fails (revise): said at once and once, then the floor is held; no Capacity, no repeated revise', () => {
    const { mode, events, targets, ended } = simulate(service({ mode: 'scan', minQPS: 50, qpsGrowthDelta: 50, adjustInterval: 5, duration: 300 }), failing, 60);
    const holds = events.filter((e) => e.Kind === 'hold');
    // judged at the end of the first step, on its window of 4 s at 50 QPS
    expect(holds.map((e) => [e.Time, e.Message])).toEqual([['1000006.3', `scan: ${noCapacity(50, 200)}; holding the floor, 50 QPS (faultAction revise)`]]);
    expect(events.filter((e) => e.Kind === 'revise')).toEqual([]);
    expect(events.filter((e) => e.Kind === 'verdict')).toHaveLength(1);
    expect(new Set(targets)).toEqual(new Set([50]));
    expect(ended).toEqual([]);
    expect(mode.capacity()).toBeUndefined();
    expect(mode.outcome?.()).toBe(`${noCapacity(50, 200)}; holding 50 QPS (faultAction revise)`);
    expect(mode.finalOutcome?.()).toBe(noCapacity(50, 200));
  });

  test('scan whose lowest rate fails (stop): the round is ended at once, saying why', () => {
    const { mode, ended, events } = simulate(service({ mode: 'scan', minQPS: 50, qpsGrowthDelta: 50, adjustInterval: 5, faultAction: 'stop', duration: 300 }), failing, 60);
    expect(ended).toEqual(['faultAction stop: the error rate is over faultTolerate at the lowest rate, 50 QPS']);
    expect(events[events.length - 1]).toMatchObject({ Kind: 'hold', Message: `scan: ${noCapacity(50, 200)}; ending the round (faultAction stop)` });
    expect(mode.capacity()).toBeUndefined();
    expect(mode.finalOutcome?.()).toBe(noCapacity(50, 200));
  });

  test('scan holding a revised rate: the Message says the held QPS and the step that broke the budget; the final one the capacity', () => {
    const { mode } = simulate(service({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 100, adjustInterval: 4, maxQPS: 2000, faultTolerate: 0.01 }), { capacity: 100000, serviceMs: 1, errorAboveQps: 250 }, 40);
    expect(mode.outcome?.()).toBe('holding 200 QPS: error rate 16.67% > faultTolerate 1.00% at 300');
    expect(mode.finalOutcome?.()).toBe('capacity 200 QPS (TP99 1.0 ms, error rate 0.00%, limit faultTolerate)');
  });

  test('scan holding on maxRT and maxQPS says why in the Message', () => {
    expect(simulate(service({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 50, adjustInterval: 5, maxQPS: 1000, maxRT: 100 }), { capacity: 230, serviceMs: 10 }, 40).mode.outcome?.()).toBe(
      'holding 200 QPS: TP99 426 ms > maxRT 100 ms at 250',
    );
    expect(simulate(service({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 100, adjustInterval: 3, maxQPS: 300 }), { capacity: 100000, serviceMs: 1 }, 20).mode.outcome?.()).toBe(
      'holding 300 QPS: next step 400 QPS > maxQPS 300',
    );
  });

  test('auto honours faultAction stop as scan does: the rate that broke the budget is kept and not raised, the round goes on; the capacity is the best good rate', () => {
    const { mode, ended, targets } = simulate(service({ maxQPS: 5000, faultTolerate: 0.01, faultAction: 'stop', duration: 300 }), { capacity: 100000, serviceMs: 1, errorAboveQps: 300 }, 120);
    expect(ended).toEqual([]);
    expect(Math.max(...targets)).toBe(400);
    expect(targets[targets.length - 1]).toBe(400);
    expect(mode.capacity()).toMatchObject({ QPS: 200, ErrorRate: 0, Reason: 'faultTolerate' });
    expect(mode.outcome?.()).toBe('holding 400 QPS: error rate 25.00% > faultTolerate 1.00% at 400 (faultAction stop); capacity 200 QPS, the best good rate');
  });

  test('auto judges the held rate again: one the service no longer sustains is stepped down, and the capacity follows', () => {
    const { mode, events, targets } = simulate(service({ maxQPS: 20000, maxRT: 150, duration: 400 }), { capacity: 200, serviceMs: 20, laterFromS: 100, capacityLater: 170 }, 220);
    const revised = events.filter((e) => e.Kind === 'revise' && e.Message.startsWith('auto: the held'));
    expect(revised.length).toBeGreaterThan(0);
    expect(revised[0].Message).toMatch(/^auto: the held [\d.]+ QPS failed over \d+ s \(TP99 [\d.]+ ms > maxRT 150 ms\): holding [\d.]+ QPS$/);
    const held = targets[targets.length - 1];
    expect(held).toBeLessThanOrEqual(170);
    expect(held).toBeGreaterThan(170 * 0.85);
    // the queue the lower capacity builds is seen (saturation) before or as its TP99 passes maxRT
    expect(mode.capacity()).toMatchObject({ QPS: held });
    expect(['maxRT', 'saturation']).toContain(mode.capacity()!.Reason);
    expect(mode.capacity()!.TP99).toBeLessThanOrEqual(150);
  });

  test('auto keeps a held rate the service sustains: no step down over a long hold', () => {
    // the search ends below this capacity (the ramp and bisection do not land on 1000 itself): the backlog of its bad steps drains
    const { events, targets } = simulate(service({ maxQPS: 20000, maxRT: 50, duration: 400 }), { capacity: 1037, serviceMs: 5 }, 300);
    expect(events.filter((e) => e.Kind === 'revise')).toEqual([]);
    expect(new Set(targets.slice(-150)).size).toBe(1);
  });

  test('auto with revise steps down below the failing rate and holds a rate within the budget', () => {
    const { mode, ended } = simulate(service({ maxQPS: 5000, faultTolerate: 0.01, duration: 300 }), { capacity: 100000, serviceMs: 1, errorAboveQps: 300 }, 120);
    expect(ended).toEqual([]);
    expect(mode.capacity()).toMatchObject({ Reason: 'faultTolerate' });
    expect(mode.capacity()!.QPS).toBeLessThanOrEqual(300 / 0.99);
    expect(mode.outcome?.()).toMatch(/^holding [\d.]+ QPS: error rate [\d.]+% > faultTolerate 1\.00% at [\d.]+$/);
  });

  test('auto whose first rate fails: no capacity at once; revise holds that floor, stop ends the round', () => {
    const revise = simulate(service({ maxQPS: 5000, duration: 300 }), failing, 60);
    expect(revise.events.filter((e) => e.Kind === 'hold').map((e) => e.Message)).toEqual([`auto: ${noCapacity(50, 150)}; holding the floor, 50 QPS (faultAction revise)`]);
    expect(new Set(revise.targets)).toEqual(new Set([50]));
    expect(revise.ended).toEqual([]);
    expect(revise.mode.capacity()).toBeUndefined();
    const stop = simulate(service({ maxQPS: 5000, faultAction: 'stop', duration: 300 }), failing, 60);
    expect(stop.ended).toEqual(['faultAction stop: the error rate is over faultTolerate at the lowest rate, 50 QPS']);
    expect(stop.mode.finalOutcome?.()).toBe(noCapacity(50, 150));
  });

  test('new limits clear the outcome: the search runs again', () => {
    const spec = service({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 100, adjustInterval: 3, maxQPS: 300 });
    const { mode } = simulate(spec, { capacity: 100000, serviceMs: 1 }, 20);
    expect(mode.outcome?.()).toBeDefined();
    mode.update(resolveOptional({ ...spec, optional: { ...spec.optional, maxQPS: 500 } }));
    expect(mode.outcome?.()).toBeUndefined();
    expect(mode.finalOutcome?.()).toMatch(/^search not finished: /);
  });
});

describe('task modes: what the task manager asks of a mode', () => {
  test.each([
    [{ mode: 'manual' as const, agentCount: 6 }, undefined, 'manual', true, 4],
    [{ mode: 'scan' as const, agentCount: 6 }, undefined, 'scan', false, 1],
    [{ agentCount: 6 }, undefined, 'auto', false, 1],
    [{ agentCount: 2 }, { api: 'chat' as const, model: 'm', testMode: 'rate' as const, requestRate: 5 }, 'llm-rate', true, 2],
  ])('%j llm %j: %s, agents from the task %s, starts with %i of 4', (optional, llm, displayName, agentsFromTask, starting) => {
    const mode = taskMode(resolveOptional(service(optional)), llm);
    expect(mode.displayName).toBe(displayName);
    expect(mode.agentsFromTask).toBe(agentsFromTask);
    expect(mode.startingAgents(4)).toBe(starting);
  });
});
