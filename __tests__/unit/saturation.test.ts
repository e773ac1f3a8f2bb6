import { resolveOptional, StatsPoint, TaskSpec } from '../../src/contract';
import { FinalizedSecond } from '../../controller/metrics/aggregate';
import { createLatencyHistogram, encodeHistogram, quantilesMs } from '../../src/measure/histogram';
import { taskMode } from '../../controller/modes';
import { queueBuilding, saturationSign } from '../../controller/modes/saturation';
import { StepWindow } from '../../controller/modes/window';
import { service, simulate, steps } from '../helpers/mode-sim';

/**
 * Saturation and short runs of scan and auto (docs/modes.md), in fake time on
 * the simulated service of the modes' tests: a step that does not keep up is
 * never good, a held rate is judged again, and no capacity is above the
 * service's.
 */
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

describe('auto: agents late on a busy machine', () => {
  test('late agents at a rate the service does not complete: the step is saturated, not re-run with one more agent', () => {
    const { events } = simulate(service({ maxQPS: 5000, duration: 300 }), { capacity: 120, serviceMs: 25, loopLagMs: 60 }, 30);
    const judged = steps(events).map(([, s]) => [s?.TargetQPS, s?.Verdict]);
    // 50 and 100 are completed: their lateness is the agents'; 200 is not completed, whatever the agents' lag
    expect(judged.slice(0, 3)).toEqual([[50, 'agents-behind'], [50, 'agents-behind'], [50, 'agents-behind']]);
    const { events: later } = simulate(service({ maxQPS: 5000, duration: 300 }), { capacity: 40, serviceMs: 25, loopLagMs: 60 }, 10);
    expect(steps(later).map(([, s]) => s?.Verdict)).toEqual(['saturated']);
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

describe('saturationSign on a window', () => {
  /** A second at 100 QPS sent, `completed` of them completed, every response taking `rtMs`; `limited`: the validity gate found it the generator's. */
  const second = (t: number, rtMs: number, limited: boolean, completed = 100): FinalizedSecond => {
    const rt = createLatencyHistogram();
    for (let k = 0; k < completed; k++) rt.recordValue(rtMs * 1000);
    const Generator = { LoopDelayP99Ms: limited ? 50 : 1, LoopDelayMaxMs: 0, GcPauseMs: 0, GcPauseMaxMs: 0, FrameMs: 0, ConnectionWaitMaxMs: 0, Limited: limited };
    const point: StatsPoint = { Time: t, Elapsed: 0, TargetQPS: 100, Requests: completed, Success: completed, Errors: 0, BytesIn: 0, BytesOut: 0, Dropped: 0, StatusCodes: {}, RT: quantilesMs(rt), SendLagP99: 0, AgentsDesired: 1, AgentsAvailable: 1, Generator };
    return { point, rtHistogram: encodeHistogram(rt), lagHistogram: '', agentLoad: { sent: 100, inFlight: 1, maxEventLoopLagMs: Generator.LoopDelayP99Ms, agentsReported: 1 } };
  };
  const window = (rts: number[], limited: boolean[], completed: number[] = []): StepWindow => {
    const w = new StepWindow();
    rts.forEach((rt, i) => w.add(second(i, rt, limited[i], completed[i])));
    return w;
  };

  test('completions short of sends in the service\'s seconds are a queue; in a stalled agent\'s second they are its late reading', () => {
    expect(saturationSign(window([25, 25, 25], [false, false, false], [90, 90, 90]))).toBe('completed 90/s of 100/s sent: the service does not keep up');
    // the stall's responses are read in the next second
    expect(saturationSign(window([25, 25, 25], [false, true, false], [100, 64, 100]))).toBeUndefined();
    expect(saturationSign(window([25, 25, 25], [true, true, true], [90, 90, 90]))).toBe('completed 90/s of 100/s sent: the service does not keep up');
  });

  test('a queue is judged on the service\'s seconds; a generator-limited stall among them is left out', () => {
    expect(saturationSign(window([30, 40, 50], [false, false, false]))).toBe('latency climbing through the window (median 30.0 -> 50.0 ms): a queue is building');
    // the agent's stall would break the rise; it is not the service's
    expect(saturationSign(window([30, 300, 40, 50], [false, true, false, false]))).toBe('latency climbing through the window (median 30.0 -> 50.0 ms): a queue is building');
    expect(saturationSign(window([30, 300, 31, 30], [false, true, false, false]))).toBeUndefined();
  });

  test('a rise through generator-limited seconds is the agents\' lag, not a queue at the service', () => {
    expect(saturationSign(window([30, 40, 50], [true, true, false]))).toBeUndefined();
    expect(saturationSign(window([30, 40, 50], [true, true, true]))).toBeUndefined();
  });
});

describe('auto where no rate is good', () => {
  test('every rate over maxRT down to the lowest the search tries: no capacity, never an unjudged rate', () => {
    const { mode } = simulate(service({ maxQPS: 5000, maxRT: 100, duration: 300 }), { capacity: 100000, serviceMs: 200 }, 120);
    expect(mode.capacity()).toBeUndefined();
    expect(mode.finalOutcome?.()).toMatch(/^no capacity: TP99 200 ms > maxRT 100 ms even at the lowest rate, [\d.]+ QPS$/);
  });
});
