import { resolveOptional, StatsPoint, Step, TaskEvent, TaskSpec } from '../../src/contract';
import { FinalizedSecond } from '../../controller/metrics/aggregate';
import { createLatencyHistogram, encodeHistogram, quantilesMs } from '../../controller/metrics/histogram';
import { ModeContext, ModeDriver } from '../../controller/modes/base';
import { createMode, taskMode } from '../../controller/modes';
import { openLoopInFlightCap } from '../../controller/modes/stepped';
import { queueBuilding } from '../../controller/modes/saturation';

/**
 * A simulated service, second by second: `capacity` requests/s served in
 * `serviceMs`; above it a backlog builds and waiting time grows; errors above
 * `errorAboveQps`. The mode sees what the controller would: finalized seconds,
 * and a new load reaching the agents from the next whole second.
 */
interface Service {
  capacity: number;
  serviceMs: number;
  errorAboveQps?: number;
  /** Share of the target the agents manage to send: below 1 the load generator, not the service, is the bottleneck. */
  sentShare?: number;
  /** From this second of the run on, the capacity is `capacityLater`: a service that cannot sustain what it did. */
  laterFromS?: number;
  capacityLater?: number;
}

function simulate(spec: TaskSpec, service: Service, seconds: number): { mode: ModeDriver; events: TaskEvent[]; targets: number[]; ended: string[] } {
  const events: TaskEvent[] = [];
  const ended: string[] = [];
  let clockS = 1_000_000;
  const ctx: ModeContext = { event: (Kind, Message, Step) => events.push({ Time: String(clockS), Kind, Message, Step }), timeoutMs: 20000, maxAgents: 4, nowS: () => clockS, end: (reason) => ended.push(reason) };
  const mode = createMode(resolveOptional(spec), ctx);
  let target = mode.targetQps() ?? 0;
  let pending: { fromS: number; qps: number } | undefined;
  let backlog = 0;
  const targets: number[] = [];
  // a round the mode ended (faultAction stop) sends nothing more
  for (let i = 0; i < seconds && ended.length === 0; i++) {
    const t = 1_000_000 + i;
    if (pending && t >= pending.fromS) {
      target = pending.qps;
      pending = undefined;
    }
    targets.push(target);
    const sent = target * (service.sentShare ?? 1);
    const arriving = sent + backlog;
    const capacity = service.laterFromS !== undefined && i >= service.laterFromS ? (service.capacityLater ?? service.capacity) : service.capacity;
    const served = Math.min(arriving, capacity);
    backlog = arriving - served;
    const waitMs = (backlog / capacity) * 1000;
    const errors = service.errorAboveQps !== undefined ? Math.max(0, Math.round(served - service.errorAboveQps)) : 0;
    const rt = createLatencyHistogram();
    for (let k = 0; k < served; k++) rt.recordValue(Math.round((service.serviceMs + (waitMs * k) / Math.max(1, served)) * 1000));
    const q = quantilesMs(rt);
    const point: StatsPoint = {
      Time: t, Elapsed: i, TargetQPS: target, Requests: Math.round(served), Success: Math.round(served) - errors, Errors: errors,
      BytesIn: 0, BytesOut: 0, Dropped: 0, StatusCodes: codes(Math.round(served) - errors, errors), RT: q, SendLagP99: 0.5, AgentsDesired: 1, AgentsAvailable: 1,
    };
    const second: FinalizedSecond = { point, rtHistogram: encodeHistogram(rt), lagHistogram: '', agentLoad: { sent, inFlight: Math.round(backlog + (target * service.serviceMs) / 1000), maxEventLoopLagMs: 1, agentsReported: 1 } };
    // the second [t, t+1) is finalized a little after it ends
    clockS = t + 1.3;
    if (mode.onSecond(second)) pending = { fromS: Math.floor(clockS) + 1, qps: mode.targetQps() ?? 0 };
  }
  return { mode, events, targets, ended };
}

/** The status codes of a simulated second: the service's errors answer 404. */
function codes(ok: number, errors: number): Record<string, number> {
  return { ...(ok > 0 ? { '200': ok } : {}), ...(errors > 0 ? { '404': errors } : {}) };
}

const service = (optional: TaskSpec['optional']): TaskSpec => ({ service: { serviceName: 's', url: 'http://127.0.0.1:9/' }, optional });

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


/** The structured steps of the verdict events, with their times (the simulated clock). */
function steps(events: TaskEvent[]): [string, Step | undefined][] {
  return events.filter((e) => e.Kind === 'verdict').map((e) => [e.Time, e.Step]);
}

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

describe('saturation: a step that does not keep up is never good', () => {
  test('a queue building: medians rising second after second; one slow second, noise or a flat high latency is not one', () => {
    // 1% over the capacity: +10 ms a second
    expect(queueBuilding([30, 40, 50])).toEqual({ first: 30, last: 50 });
    expect(queueBuilding([25, 28, 31, 33, 36, 40])).toBeDefined();
    // one second of the six not rising still is a queue
    expect(queueBuilding([25, 28, 27, 33, 36, 40])).toBeDefined();
    // one stall of the machine in the last, or a middle, second
    expect(queueBuilding([30, 30.5, 200])).toBeUndefined();
    expect(queueBuilding([30, 200, 31])).toBeUndefined();
    // noise of a healthy service, and a slow but steady one
    expect(queueBuilding([25, 27, 25.5, 28, 26, 27.5])).toBeUndefined();
    expect(queueBuilding([900, 905, 899, 910, 902, 904])).toBeUndefined();
    // too few seconds for a trend
    expect(queueBuilding([30, 80])).toBeUndefined();
    // a rise within a slow service's jitter (5% of its median) is not counted
    expect(queueBuilding([500, 510, 520])).toBeUndefined();
  });

  test('scan without maxRT: the step over the capacity is saturated, shown with its achieved rate; the last good step is held', () => {
    // capacity 120 QPS (3 workers x 25 ms); steps 40, 76, 112, 148, ...
    const { mode, events, targets } = simulate(service({ mode: 'scan', minQPS: 40, qpsGrowthDelta: 36, adjustInterval: 4, maxQPS: 300, duration: 60 }), { capacity: 120, serviceMs: 25 }, 60);
    const judged = steps(events).map(([, s]) => [s?.TargetQPS, s?.Verdict]);
    expect(judged).toEqual([[40, 'good'], [76, 'good'], [112, 'good'], [148, 'saturated']]);
    const over = events.find((e) => e.Step?.Verdict === 'saturated')!;
    expect(over.Message).toBe('scan: 148 QPS: achieved 120, TP99 927 ms, error rate 0.00%; completed 120/s of 148/s sent: the service does not keep up');
    expect(over.Step).toMatchObject({ TargetQPS: 148, AchievedQPS: 120 });
    expect(mode.capacity()).toMatchObject({ QPS: 112, Reason: 'saturation' });
    expect(mode.outcome?.()).toBe('holding 112 QPS: completed 120/s of 148/s sent: the service does not keep up at 148');
    // the backlog of 148 drains (nothing sent), then 112 is held to the end
    const after = targets.slice(targets.lastIndexOf(148) + 1);
    expect(after[0]).toBe(0);
    expect(new Set(after.slice(-30))).toEqual(new Set([112]));
    expect(events.filter((e) => e.Kind === 'revise')).toEqual([]);
  });

  test('scan to a maxQPS more than twice the capacity: the capacity is the service\'s, not maxQPS', () => {
    const { mode } = simulate(service({ mode: 'scan', minQPS: 50, qpsGrowthDelta: 50, adjustInterval: 4, maxQPS: 300, duration: 60 }), { capacity: 120, serviceMs: 25 }, 40);
    expect(mode.capacity()).toMatchObject({ QPS: 100, Reason: 'saturation' });
  });

  test('a queue that builds slowly: a rate just over the capacity passes the step, then fails as a held rate and is stepped down', () => {
    // 2% over: +20 ms a second, the completions 98% of the sends, within the step's tolerance
    const fine = simulate(service({ mode: 'scan', minQPS: 51, qpsGrowthDelta: 51, adjustInterval: 2, maxQPS: 102, duration: 60 }), { capacity: 100, serviceMs: 25 }, 40);
    const revised = fine.events.filter((e) => e.Kind === 'revise');
    expect(revised.map((e) => e.Step?.Verdict)).toEqual(['saturated']);
    expect(revised[0].Message).toMatch(/^scan: the held 102 QPS failed over 6 s \(latency climbing through the window \(median [\d.]+ -> [\d.]+ ms\): a queue is building\): holding 51 QPS$/);
    expect(fine.mode.capacity()).toMatchObject({ QPS: 51, Reason: 'saturation' });
    expect(fine.targets[fine.targets.length - 1]).toBe(51);
  });

  test('scan with maxRT judges the held rate again, as auto does: a rate the service no longer sustains is stepped down', () => {
    const { mode, events, targets } = simulate(service({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 50, adjustInterval: 5, maxQPS: 1000, maxRT: 100, duration: 120 }), { capacity: 230, serviceMs: 10, laterFromS: 40, capacityLater: 180 }, 90);
    const revised = events.filter((e) => e.Kind === 'revise');
    expect(revised[0].Message).toMatch(/^scan: the held 200 QPS failed over \d+ s \(.*\): holding 150 QPS$/);
    expect(mode.capacity()).toMatchObject({ QPS: 150 });
    expect(targets[targets.length - 1]).toBe(150);
  });

  test('scan with faultAction stop keeps the rate that broke the budget; the capacity is the last good step', () => {
    const { mode, targets, ended } = simulate(service({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 100, adjustInterval: 4, maxQPS: 2000, faultTolerate: 0.01, faultAction: 'stop', duration: 60 }), { capacity: 100000, serviceMs: 1, errorAboveQps: 250 }, 40);
    expect(ended).toEqual([]);
    expect(targets[targets.length - 1]).toBe(300);
    expect(mode.capacity()).toEqual({ QPS: 200, TP99: 1, ErrorRate: 0, Reason: 'faultTolerate' });
    expect(mode.outcome?.()).toBe('holding 300 QPS: error rate 16.67% > faultTolerate 1.00% at 300 (faultAction stop); capacity 200 QPS, the last good step');
  });

  test('the lowest step saturated: no capacity, said at once', () => {
    const { mode, events } = simulate(service({ mode: 'scan', minQPS: 200, qpsGrowthDelta: 50, adjustInterval: 4, maxQPS: 300, duration: 60 }), { capacity: 120, serviceMs: 25 }, 30);
    expect(mode.capacity()).toBeUndefined();
    expect(mode.finalOutcome?.()).toBe('no capacity: completed 120/s of 200/s sent: the service does not keep up even at the lowest rate, 200 QPS');
    expect(events.filter((e) => e.Kind === 'hold')).toHaveLength(1);
  });

  test('auto: a saturated step is `saturated`, and the capacity found is within -10%..+0% of the service\'s', () => {
    for (const capacity of [120, 200, 1000]) {
      const { mode, events } = simulate(service({ maxQPS: 5000, duration: 300 }), { capacity, serviceMs: 25 }, 150);
      expect(steps(events).some(([, s]) => s?.Verdict === 'saturated')).toBe(true);
      const found = mode.capacity()!;
      expect({ capacity, found: found.QPS, within: found.QPS <= capacity && found.QPS >= 0.9 * capacity }).toMatchObject({ within: true });
      expect(found.Reason).toBe('saturation');
    }
  });
});

describe('short runs: warned at create, said at the end', () => {
  test('auto: the search still between a good and a bad rate when the duration ran out', () => {
    const { mode } = simulate(service({ maxQPS: 10000, duration: 30 }), { capacity: 120, serviceMs: 25 }, 30);
    expect(mode.capacity()).toBeUndefined();
    expect(mode.finalOutcome?.()).toMatch(/^search not finished: between [\d.]+ \(good\) and [\d.]+ \(bad\) QPS when 30 s ran out$/);
  });

  test('scan: the last good step and the step under way', () => {
    const { mode } = simulate(service({ mode: 'scan', minQPS: 50, qpsGrowthDelta: 50, adjustInterval: 5, maxQPS: 1000, duration: 12 }), { capacity: 100000, serviceMs: 1 }, 12);
    expect(mode.finalOutcome?.()).toBe('search not finished: last good step 100 QPS, 150 QPS not judged yet when 12 s ran out');
  });

  test('the warning: from the mode\'s parameters, for a search that goes all the way', () => {
    const warning = (optional: TaskSpec['optional']): string | undefined => taskMode(resolveOptional(service(optional))).durationWarning?.();
    // auto to the default maxQPS 10000: 9 ramp steps of 4 s, a drain, 4 search steps of 4 s + a drain
    expect(warning({ duration: 30 })).toBe(
      'duration 30 s may be too short for auto to reach a verdict: its ramp from 50 QPS to maxQPS 10000 and its search to within 5% takes about 63 s; a longer duration (or a narrower search) lets it end with a capacity',
    );
    expect(warning({ duration: 63 })).toBeUndefined();
    expect(warning({ duration: 45, maxQPS: 400 })).toBeUndefined();
    expect(warning({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 50, adjustInterval: 10, maxQPS: 300, duration: 30 })).toBe(
      'duration 30 s may be too short for scan to reach a verdict: stepping from 100 to maxQPS 300 QPS by 50 every 10 s, unless a limit ends the growth sooner, takes about 50 s; a longer duration (or a narrower search) lets it end with a capacity',
    );
    expect(warning({ mode: 'scan', minQPS: 100, qpsGrowthDelta: 50, adjustInterval: 10, maxQPS: 300, duration: 50 })).toBeUndefined();
    expect(warning({ mode: 'manual', duration: 1 })).toBeUndefined();
  });

  test('the warning is the round\'s first event', () => {
    const { events } = simulate(service({ duration: 30 }), { capacity: 120, serviceMs: 25 }, 1);
    expect(events[0]).toMatchObject({ Kind: 'info', Message: expect.stringMatching(/^auto: duration 30 s may be too short for auto to reach a verdict: /) });
  });
});
