import { resolveOptional, StatsPoint, TaskEvent, TaskSpec } from '../../src/contract';
import { FinalizedSecond, MAX_WARMUP_EXCLUDED_S, RoundAccumulator } from '../../controller/metrics/aggregate';
import { createLatencyHistogram, encodeHistogram, quantilesMs } from '../../src/measure/histogram';
import { ModeContext } from '../../controller/modes/base';
import { createMode } from '../../controller/modes';
import { applyGeneratorGate, GENERATOR_GATE } from '../../controller/modes/generator-gate';

/** A second of 100 requests at `rtMs`, with the agents' own figures. */
function second(t: number, rtMs: number, agent: { sendLagP99Ms?: number; loopP99Ms?: number; loopMaxMs?: number } = {}): FinalizedSecond {
  const rt = createLatencyHistogram();
  for (let k = 0; k < 100; k++) rt.recordValue(rtMs * 1000);
  const point: StatsPoint = {
    Time: t, Elapsed: 0, TargetQPS: 100, Requests: 100, Success: 100, Errors: 0, BytesIn: 0, BytesOut: 0, Dropped: 0, StatusCodes: {},
    RT: quantilesMs(rt), SendLagP99: agent.sendLagP99Ms ?? 0.2, AgentsDesired: 1, AgentsAvailable: 1,
    Generator: { LoopDelayP99Ms: agent.loopP99Ms ?? 0, LoopDelayMaxMs: agent.loopMaxMs ?? 1, GcPauseMs: 0, GcPauseMaxMs: 0, FrameMs: 0, ConnectionWaitMaxMs: 0, Limited: false },
  };
  return { point, rtHistogram: encodeHistogram(rt), lagHistogram: '', agentLoad: { sent: 100, inFlight: 1, maxEventLoopLagMs: agent.loopP99Ms ?? 0, agentsReported: 1 } };
}

/** What the round does with every second: the gate's verdict first, then the mode. */
function gated(s: FinalizedSecond): FinalizedSecond {
  applyGeneratorGate(s);
  return s;
}

const scanSpec = (maxRT: number): TaskSpec => ({ service: { serviceName: 's', url: 'http://127.0.0.1:9/' }, optional: { mode: 'scan', minQPS: 100, qpsGrowthDelta: 100, adjustInterval: 5, maxQPS: 300, maxRT } });

/** The wall clock the modes read: a second is finalized a little after it ends. */
let clockS = 0;

function feed(mode: ReturnType<typeof createMode>, s: FinalizedSecond): void {
  clockS = s.point.Time + 1.3;
  mode.onSecond(gated(s));
}

function contextFor(maxAgents: number, events: TaskEvent[]): ModeContext {
  return { event: (Kind, Message, Step) => events.push({ Time: '', Kind, Message, Step }), timeoutMs: 20000, maxAgents, nowS: () => clockS, end: () => undefined };
}

function scanWith(maxAgents: number, maxRT = 20): { mode: ReturnType<typeof createMode>; events: TaskEvent[] } {
  const events: TaskEvent[] = [];
  clockS = 9;
  return { mode: createMode(resolveOptional(scanSpec(maxRT)), contextFor(maxAgents, events)), events };
}

describe('the validity gate', () => {
  test('a second over the send-lag p99, event-loop p99 or event-loop max limit is generator-limited; one under all of them is not', () => {
    expect(applyGeneratorGate(second(1, 1))).toBe(false);
    expect(applyGeneratorGate(second(1, 1, { sendLagP99Ms: GENERATOR_GATE.sendLagP99Ms + 1 }))).toBe(true);
    expect(applyGeneratorGate(second(1, 1, { loopP99Ms: GENERATOR_GATE.loopDelayP99Ms + 1 }))).toBe(true);
    expect(applyGeneratorGate(second(1, 1, { loopMaxMs: GENERATOR_GATE.loopDelayMaxMs + 1 }))).toBe(true);
    const marked = gated(second(1, 1, { sendLagP99Ms: 50 }));
    expect(marked.point.Generator?.Limited).toBe(true);
  });

  test('an idle second is never generator-limited', () => {
    const idle = second(1, 0, { sendLagP99Ms: 99 });
    idle.point.Requests = 0;
    idle.agentLoad.sent = 0;
    expect(applyGeneratorGate(idle)).toBe(false);
  });

  test("the round's result gives the share of generator-limited seconds", () => {
    const acc = new RoundAccumulator();
    for (let t = 0; t < 4; t++) {
      const s = gated(second(t, 1, { sendLagP99Ms: t === 0 ? 40 : 0.1 }));
      acc.addSecond(s.point, s.rtHistogram, s.lagHistogram);
    }
    expect(acc.result()).toMatchObject({ GeneratorLimitedSeconds: 1, GeneratorLimitedShare: 0.25 });
  });

  test("the round's start-up (leading generator-limited seconds, at most MAX_WARMUP_EXCLUDED_S) is left out of its latency, not of its counts", () => {
    const acc = new RoundAccumulator();
    // two cold seconds at 300 and 200 ms, a third at 100 ms beyond the cap, then settled seconds at 2 ms
    const rts = [300, 200, 100, 2, 2, 2, 2, 2, 2, 2];
    rts.forEach((rt, t) => {
      const s = gated(second(t, rt, { sendLagP99Ms: t < 3 ? 40 : 0.1 }));
      acc.addSecond(s.point, s.rtHistogram, s.lagHistogram);
    });
    const r = acc.result();
    expect(MAX_WARMUP_EXCLUDED_S).toBe(2);
    expect(r.WarmupExcludedS).toBe(2);
    expect(r.TotalRequests).toBe(1000);
    expect(r.QPS).toBe(100);
    expect(r.GeneratorLimitedSeconds).toBe(3);
    // the third limited second is not start-up any more: it stays in (100 of 800 samples)
    expect(r.MaxRT).toBeCloseTo(100, 0);
    expect(r.TP50).toBeCloseTo(2, 1);
    expect(r.RTDistribution.reduce((n, b) => n + b.Count, 0)).toBe(800);
  });

  test('a start-up is only ever leading: a limited second after a settled one stays in, and a round with nothing settled leaves nothing out', () => {
    const later = new RoundAccumulator();
    [2, 300, 2].forEach((rt, t) => {
      const s = gated(second(t, rt, { sendLagP99Ms: t === 1 ? 40 : 0.1 }));
      later.addSecond(s.point, s.rtHistogram, s.lagHistogram);
    });
    expect(later.result().WarmupExcludedS).toBeUndefined();
    expect(later.result().MaxRT).toBeCloseTo(300, 0);

    const allLimited = new RoundAccumulator();
    [300, 200].forEach((rt, t) => {
      const s = gated(second(t, rt, { sendLagP99Ms: 40 }));
      allLimited.addSecond(s.point, s.rtHistogram, s.lagHistogram);
    });
    const r = allLimited.result();
    expect(r.WarmupExcludedS).toBeUndefined();
    expect(r.MinRT).toBeCloseTo(200, 0);
    expect(r.MaxRT).toBeCloseTo(300, 0);
  });

  test('scan judges maxRT only on the seconds the gate passed: slow generator-limited seconds do not hold the search', () => {
    const { mode, events } = scanWith(4);
    // the step at 100 QPS: every other second the agent blocked (50 ms of latency that is its own), the others 2 ms
    for (let t = 10; t <= 16; t++) feed(mode, second(t, t % 2 === 0 ? 50 : 2, t % 2 === 0 ? { sendLagP99Ms: 45, loopMaxMs: 50 } : {}));
    expect(mode.capacity()).toBeUndefined();
    const verdict = events.find((e) => e.Kind === 'verdict');
    expect(verdict?.Step).toMatchObject({ TargetQPS: 100, Verdict: 'good' });
    expect(verdict?.Step?.GeneratorLimitedShare).toBeGreaterThan(0);
    expect(events.some((e) => e.Kind === 'hold')).toBe(false);
  });

  test('scan adds an agent when a whole step is generator-limited, and ends with reason generator at the most agents allowed', () => {
    const { mode, events } = scanWith(2);
    expect(mode.desiredAgents()).toBe(1);
    for (let t = 10; t <= 16; t++) feed(mode, second(t, 50, { sendLagP99Ms: 45 }));
    expect(mode.desiredAgents()).toBe(2);
    expect(events.filter((e) => e.Kind === 'verdict').map((e) => e.Step?.Verdict)).toEqual(['agents-behind']);
    expect(mode.capacity()).toBeUndefined();
    for (let t = 17; t <= 30; t++) feed(mode, second(t, 50, { sendLagP99Ms: 45 }));
    expect(mode.capacity()?.Reason).toBe('generator');
    const hold = events.find((e) => e.Kind === 'hold');
    expect(hold?.Message).toMatch(/generator-limited.*--max-agent-qps/);
    expect(events.some((e) => /maxRT 20/.test(e.Message) && e.Kind === 'hold')).toBe(false);
  });

  test('auto does not judge maxRT on generator-limited seconds either: it adds agents, then ends with reason generator', () => {
    const events: TaskEvent[] = [];
    clockS = 9;
    const mode = createMode(resolveOptional({ service: { serviceName: 's', url: 'http://127.0.0.1:9/' }, optional: { maxQPS: 1000, maxRT: 20 } }), contextFor(2, events));
    for (let t = 10; t <= 40 && !mode.capacity(); t++) feed(mode, second(t, 50, { sendLagP99Ms: 45 }));
    expect(mode.desiredAgents()).toBe(2);
    expect(mode.capacity()?.Reason).toBe('generator');
    expect(events.some((e) => e.Kind === 'verdict' && e.Step?.Verdict === 'bad')).toBe(false);
  });
});
