import { resolveOptional, resolveSweep, validateTask, type LlmLoad, type LlmRequestRecord, type LlmSpec, type LlmSweepStep, type StatsPoint, type TaskEvent, type TaskSpec } from '../../src/contract';
import { createLatencyHistogram, encodeHistogram, quantilesMs } from '../../src/measure/histogram';
import type { FinalizedSecond } from '../../controller/metrics/aggregate';
import type { ModeContext } from '../../controller/modes/base';
import { createMode } from '../../controller/modes';
import { llmModeSummary } from '../../src/output/llm-mode-summary';
import { judgeSweepStep, SweepSearch, sweepKnee, type SweepFigures } from '../../controller/modes/sweep-search';

/**
 * A service of `slots` FIFO generation slots (as the OpenAI fixture's
 * capacity): a request holds a slot for ttft + (tokens - 1)·tpot from the
 * moment it gets one, so it serves slots / that many requests a second and
 * the queue grows without bound above it. Rate loads arrive evenly; closed
 * loops send again when their request ends. No real time: the mode sees
 * finalized seconds and a clock that says when a new load reaches the agents.
 */
interface SlotService {
  slots: number;
  ttftMs: number;
  tpotMs: number;
  tokens: number;
  /** Seconds (of the run, from 0) whose agents were generator-limited. */
  limitedSeconds?: ReadonlySet<number>;
  /** Every request fails from this load (req/s or streams) up. */
  failFromLoad?: number;
}

const T0 = 1_000_000;

function llmTask(llm: Partial<LlmSpec>, optional: TaskSpec['optional'] = {}): TaskSpec {
  return { service: { serviceName: 's', url: 'http://127.0.0.1:9/' }, optional, llm: { api: 'chat', model: 'm', testMode: 'sweep', slo: { ttft: 100 }, sweep: { max: 40 }, ...llm } };
}

/** `at`: called before second i of the run, e.g. for a `bench update`. */
function runSweep(spec: TaskSpec, svc: SlotService, maxSeconds = 400, at?: (i: number, mode: ReturnType<typeof createMode>) => void): { events: TaskEvent[]; ended: { reason: string; endReason?: string }[]; mode: ReturnType<typeof createMode>; loads: LlmLoad[] } {
  const events: TaskEvent[] = [];
  const ended: { reason: string; endReason?: string }[] = [];
  let clockS = T0;
  const ctx: ModeContext = { event: (Kind, Message) => events.push({ Time: String(clockS), Kind, Message }), timeoutMs: 600000, maxAgents: 4, nowS: () => clockS, end: (reason, endReason) => ended.push({ reason, endReason }) };
  const mode = createMode(resolveOptional(spec), ctx, spec.llm);
  const slotFree = new Array<number>(svc.slots).fill(0);
  const serviceMs = svc.ttftMs + (svc.tokens - 1) * svc.tpotMs;
  const pending: LlmRequestRecord[] = [];
  let seq = 0;
  const serve = (sendMs: number, load: number): LlmRequestRecord => {
    let k = 0;
    for (let i = 1; i < slotFree.length; i++) if (slotFree[i] < slotFree[k]) k = i;
    const start = Math.max(sendMs, slotFree[k]);
    slotFree[k] = start + serviceMs;
    const endMs = start + serviceMs;
    const ok = svc.failFromLoad === undefined || load < svc.failFromLoad;
    const r: LlmRequestRecord = { agent: 0, seq: seq++, sendMs, endMs, ttftMs: ok ? start - sendMs + svc.ttftMs : null, e2elMs: ok ? endMs - sendMs : null, itlMs: [], inputTokens: 10, outputTokens: ok ? svc.tokens : 0, tokenSource: 'usage', success: ok, status: ok ? 200 : 500 };
    pending.push(r);
    return r;
  };
  let load = mode.loadFor(0, 1) as LlmLoad;
  const loads: LlmLoad[] = [load];
  let loadFromMs = T0 * 1000;
  let next: { fromS: number; load: LlmLoad } | undefined;
  // closed loop: each stream's next send time; a new load starts new streams
  let streams: number[] = [];
  const startStreams = (): void => {
    streams = load.testMode === 'concurrency' ? new Array<number>(load.concurrency).fill(loadFromMs) : [];
  };
  startStreams();
  for (let i = 0; i < maxSeconds && ended.length === 0; i++) {
    at?.(i, mode);
    const t = T0 + i;
    if (next && t >= next.fromS) {
      load = next.load;
      loadFromMs = t * 1000;
      next = undefined;
      loads.push(load);
      startStreams();
    }
    const endMs = (t + 1) * 1000;
    const measured = load.testMode === 'rate' ? load.ratePerS : load.concurrency;
    let sent = 0;
    if (load.testMode === 'rate') {
      const n0 = Math.ceil(((t * 1000 - loadFromMs) * load.ratePerS) / 1000 - 1e-9);
      for (let n = n0; ; n++) {
        const at = loadFromMs + (n * 1000) / load.ratePerS;
        if (at >= endMs) break;
        serve(at, measured);
        sent++;
      }
    } else {
      for (;;) {
        let s = 0;
        for (let k = 1; k < streams.length; k++) if (streams[k] < streams[s]) s = k;
        if (streams.length === 0 || streams[s] >= endMs) break;
        streams[s] = serve(streams[s], measured).endMs;
        sent++;
      }
    }
    const done = pending.filter((r) => r.endMs < endMs);
    const inFlight = pending.length - done.length;
    pending.splice(0, pending.length, ...pending.filter((r) => r.endMs >= endMs));
    const rt = createLatencyHistogram();
    const limited = svc.limitedSeconds?.has(i) ?? false;
    const point = {
      Time: t, Elapsed: i, Requests: done.length, Success: done.filter((r) => r.success).length, Errors: done.filter((r) => !r.success).length,
      BytesIn: 0, BytesOut: 0, Dropped: 0, StatusCodes: {}, RT: quantilesMs(rt), SendLagP99: 0, AgentsDesired: 1, AgentsAvailable: 1,
      Generator: { LoopDelayP99Ms: 0, LoopDelayMaxMs: 0, GcPauseMs: 0, GcPauseMaxMs: 0, FrameMs: 0, ConnectionWaitMaxMs: 0, Limited: limited },
    } as unknown as StatsPoint;
    const second: FinalizedSecond = { point, rtHistogram: encodeHistogram(rt), lagHistogram: '', agentLoad: { sent, inFlight, maxEventLoopLagMs: 0, agentsReported: 1 }, llmRecords: done };
    clockS = t + 1.3;
    if (mode.onSecond(second)) next = { fromS: Math.floor(clockS) + 1, load: mode.loadFor(0, 1) as LlmLoad };
  }
  return { events, ended, mode, loads };
}

const sweepOf = (mode: ReturnType<typeof createMode>) => mode.llmSections?.().Sweep;

describe('sweep search: steps, then bisection', () => {
  it('steps start, start+step, ... and max itself when the grid stops short of it', () => {
    const s = new SweepSearch(resolveSweep({ start: 5, step: 10, max: 30 }));
    const seen = [s.load];
    for (let next = s.next(true); next !== undefined; next = s.next(true)) seen.push(next);
    expect(seen).toEqual([5, 15, 25, 30]);
  });

  it('bisects between the last good and the first bad load, the given number of times', () => {
    const s = new SweepSearch(resolveSweep({ start: 10, step: 10, max: 100, bisections: 3 }));
    // the service holds up to 27 req/s
    const seen = [s.load];
    for (let next = s.next(s.load <= 27); next !== undefined; next = s.next(s.load <= 27)) seen.push(next);
    expect(seen).toEqual([10, 20, 30, 25, 27.5, 26.3]);
    expect(s.lastGood).toBe(26.3);
    expect(s.firstBad).toBe(27.5);
  });

  it('bisects whole streams by concurrency and stops when good and bad are next to each other', () => {
    const s = new SweepSearch(resolveSweep({ by: 'concurrency', start: 4, step: 4, max: 40, bisections: 10 }));
    const seen = [s.load];
    for (let next = s.next(s.load <= 9); next !== undefined; next = s.next(s.load <= 9)) seen.push(next);
    expect(seen).toEqual([4, 8, 12, 10, 9]);
    expect([s.lastGood, s.firstBad]).toEqual([9, 10]);
  });

  it('ends at once when the first load fails: nothing below it is searched', () => {
    const s = new SweepSearch(resolveSweep({ start: 10, max: 100 }));
    expect(s.next(false)).toBeUndefined();
    expect(s.lastGood).toBeUndefined();
  });
});

describe('a sweep step judged', () => {
  const limits = { slo: { ttft: 100 }, sloPercentile: 90, minGoodputGain: 0.5, faultTolerate: 0.01 };
  const figures = (f: Partial<SweepFigures>): SweepFigures => ({ load: 10, phase: 'step', seconds: 8, generatorLimitedSeconds: 0, requests: 80, failed: 0, good: 80, outputTokens: 800, ttft: 50, tpot: 5, e2el: 100, ...f });

  it('fails on the SLO at its percentile, naming the bound', () => {
    const s = judgeSweepStep(figures({ ttft: 130 }), limits, undefined);
    expect(s.Verdict).toBe('slo');
    expect(s.Why).toBe('TTFT p90 130 ms > 100 ms');
  });

  it('fails when goodput does not rise with the load', () => {
    const base = judgeSweepStep(figures({}), limits, undefined);
    expect(base).toMatchObject({ Verdict: 'good', Goodput: 10 });
    // twice the load, 10% more goodput: at least half of the +100% was needed
    const flat = judgeSweepStep(figures({ load: 20, requests: 88, good: 88 }), limits, base);
    expect(flat.Verdict).toBe('flat');
    expect(judgeSweepStep(figures({ load: 20, requests: 160, good: 160 }), limits, base).Verdict).toBe('good');
  });

  it('fails on errors over faultTolerate before the SLO, and judges nothing on generator-limited seconds', () => {
    expect(judgeSweepStep(figures({ failed: 8, ttft: 500 }), limits, undefined).Verdict).toBe('errors');
    expect(judgeSweepStep(figures({ seconds: 0, generatorLimitedSeconds: 8 }), limits, undefined).Verdict).toBe('agents-behind');
  });
});

describe('the knee of the latency-vs-throughput curve', () => {
  const step = (load: number, thr: number, ttft: number): LlmSweepStep => ({ Load: load, Phase: 'step', Seconds: 5, GeneratorLimitedSeconds: 0, Requests: 1, ErrorRate: 0, RequestThroughput: thr, Goodput: thr, OutputTokenThroughput: 0, TTFT: ttft, TPOT: null, E2EL: null, Verdict: 'good', Why: '' });

  it('is where throughput stops rising and latency starts to', () => {
    const curve = [step(5, 5, 40), step(10, 10, 41), step(15, 15, 42), step(20, 19.5, 48), step(25, 21, 400), step(30, 21, 900)];
    expect(sweepKnee(curve, 'TTFT')).toMatchObject({ Load: 20, RequestThroughput: 19.5, LatencyMetric: 'TTFT' });
  });

  it('is absent with fewer than three points', () => {
    expect(sweepKnee([step(5, 5, 40), step(10, 10, 80)], 'TTFT')).toBeNull();
  });
});

describe('llm.testMode sweep against a slot-limited service (in-process, no real time)', () => {
  // 4 slots of 40 + 15·10 = 190 ms: the service takes 4 / 0.19 = 21.05 req/s
  const svc: SlotService = { slots: 4, ttftMs: 40, tpotMs: 10, tokens: 16 };
  const knee = 4 / 0.19;

  it('by rate: finds the capacity within 5% of the slots\' rate and ends the round with it', () => {
    const { mode, ended, loads } = runSweep(llmTask({ sweep: { start: 5, step: 5, max: 40, stepS: 6 } }), svc);
    const sweep = sweepOf(mode)!;
    expect(sweep.Status).toBe('found');
    expect(Math.abs((sweep.Capacity as number) - knee) / knee).toBeLessThan(0.05);
    expect(sweep.Steps.map((s) => [s.Load, s.Verdict])).toEqual([
      [5, 'good'], [10, 'good'], [15, 'good'], [20, 'good'], [25, 'slo'], [22.5, 'slo'], [21.3, 'slo'], [20.7, 'good'],
    ]);
    expect(sweep.Capacity).toBe(20.7);
    expect(ended).toEqual([{ reason: expect.stringMatching(/^sweep capacity 20\.7 req\/s \(goodput [\d.]+\/s, TTFT p90 [\d.]+ ms; 21\.3 req\/s failed\)$/), endReason: 'sweep' }]);
    // after each failed load a drain (a trickle) before the next
    expect(loads.filter((l) => l.ratePerS === 0.1)).toHaveLength(3);
    expect(loads.every((l) => l.testMode === 'rate' && l.connections === undefined)).toBe(true);
    expect(sweep.Knee?.Load).toBe(20.7);
  });

  it('the --wait summary prints the outcome, the knee and a row per load judged', () => {
    const { mode } = runSweep(llmTask({ sweep: { start: 5, step: 5, max: 40, stepS: 6 } }), svc);
    const lines = llmModeSummary(mode.llmSections?.() ?? {}).join('\n');
    expect(lines).toContain('Sweep by rate: sweep capacity 20.7 req/s (goodput');
    expect(lines).toContain('knee at 20.7 req/s');
    expect(lines).toMatch(/22\.5 .*bisect.*slo: TTFT p90 \d+(\.\d)? ms > 100 ms/);
  });

  it('by concurrency: the streams past the slots raise no goodput', () => {
    const { mode, loads } = runSweep(llmTask({ slo: { ttft: 1000 }, sweep: { by: 'concurrency', start: 1, step: 1, max: 10, stepS: 5 } }), svc);
    const sweep = sweepOf(mode)!;
    expect(sweep.Capacity).toBe(4);
    // the agent's pool opens with the first load: every load asks for the most streams the sweep may reach
    expect(loads.map((l) => [l.concurrency, l.connections])).toEqual([[1, 10], [2, 10], [3, 10], [4, 10], [5, 10]]);
    expect(sweep.Steps.map((s) => s.Verdict)).toEqual(['good', 'good', 'good', 'good', 'flat']);
  });

  it('leaves generator-limited seconds out of every step, and runs a mostly limited load again', () => {
    // one second of the first load limited; the second load runs from second 8, its judged seconds 9..13 mostly limited
    const limitedSeconds = new Set([3, 8, 9, 10, 11, 12]);
    const { mode, events } = runSweep(llmTask({ sweep: { start: 5, step: 5, max: 10, stepS: 6 } }), { ...svc, limitedSeconds });
    const sweep = sweepOf(mode)!;
    expect(sweep.Steps[0]).toMatchObject({ Load: 5, Seconds: 4, GeneratorLimitedSeconds: 1 });
    expect(events.some((e) => e.Message.includes('generator-limited, running it again'))).toBe(true);
    expect(sweep.Steps[1]).toMatchObject({ Load: 10, GeneratorLimitedSeconds: 0, Verdict: 'good' });
    expect(sweep.Capacity).toBe(10);
    expect(sweep.Outcome).toMatch(/; 10 req\/s is llm\.sweep\.max\)$/);
  });

  it('faultAction stop ends the round at the first load over faultTolerate; revise bisects below it', () => {
    const failing = { ...svc, failFromLoad: 15 };
    const stop = runSweep(llmTask({ sweep: { start: 5, step: 5, max: 40, stepS: 5 } }, { faultAction: 'stop' }), failing);
    expect(stop.ended).toEqual([{ reason: expect.stringContaining('(faultAction stop)'), endReason: 'faultAction' }]);
    expect(sweepOf(stop.mode)).toMatchObject({ Status: 'found', Capacity: 10 });
    const revise = runSweep(llmTask({ sweep: { start: 5, step: 5, max: 40, stepS: 5, bisections: 2 } }, { faultAction: 'revise' }), failing);
    expect(sweepOf(revise.mode)!.Steps.map((s) => [s.Load, s.Verdict])).toEqual([[5, 'good'], [10, 'good'], [15, 'errors'], [12.5, 'good'], [13.8, 'good']]);
  });

  it('bench update: a new faultTolerate applies from the next load judged', () => {
    const failing = { ...svc, failFromLoad: 15 };
    const spec = llmTask({ sweep: { start: 5, step: 5, max: 20, stepS: 5 } }, { faultAction: 'stop' });
    // every request fails from 15 req/s: with faultTolerate 1 that is no error verdict (faultAction stop would end the round), only no goodput
    const { ended, mode } = runSweep(spec, failing, 400, (i, m) => {
      if (i === 2) m.update(resolveOptional({ ...spec, optional: { faultAction: 'stop', faultTolerate: 1 } }));
    });
    expect(ended).toEqual([{ reason: expect.stringContaining('; 15 req/s failed)'), endReason: 'sweep' }]);
    expect(sweepOf(mode)!.Steps.map((s) => [s.Load, s.Verdict])).toEqual([[5, 'good'], [10, 'good'], [15, 'flat'], [12.5, 'good'], [13.8, 'good'], [14.4, 'good']]);
  });

  it('a round that ends before the search says so, with the best load so far', () => {
    const { mode } = runSweep(llmTask({ sweep: { start: 5, step: 5, max: 40, stepS: 6 } }), svc, 14);
    mode.roundEnded?.();
    expect(sweepOf(mode)).toMatchObject({ Status: 'not finished', Capacity: null });
    expect(mode.finalOutcome?.()).toBe('sweep not finished: best so far 10 req/s, 15 req/s not judged when the round ended');
  });
});

describe('llm.sweep validation', () => {
  const errors = (llm: Record<string, unknown>): string[] => {
    const r = validateTask({ service: { serviceName: 's', url: 'http://127.0.0.1:9/' }, llm: { api: 'chat', model: 'm', testMode: 'sweep', slo: { ttft: 100 }, ...llm } });
    return r.ok ? [] : r.errors.map((e) => `${e.field}: ${e.message}`);
  };

  it('takes a sweep by rate or by concurrency', () => {
    expect(errors({ sweep: { max: 40 } })).toEqual([]);
    expect(errors({ sweep: { by: 'concurrency', start: 2, step: 2, max: 64, stepS: 20, bisections: 4, sloPercentile: 99, minGoodputGain: 0.3 } })).toEqual([]);
  });

  it('names the field of every problem', () => {
    expect(errors({})).toEqual(['llm.sweep: is required when llm.testMode is sweep (at least llm.sweep.max)']);
    expect(errors({ sweep: { max: 10, start: 20 } })).toEqual(['llm.sweep.start: must be <= llm.sweep.max (10)']);
    expect(errors({ sweep: { by: 'concurrency', max: 10.5 } })).toEqual(['llm.sweep.max: must be a whole number of streams when llm.sweep.by is concurrency, got 10.5']);
    expect(errors({ sweep: { max: 10, stepS: 2 } })).toEqual([expect.stringMatching(/^llm\.sweep\.stepS: /)]);
    expect(errors({ slo: undefined, sweep: { max: 10 } })).toEqual([expect.stringMatching(/^llm\.slo: needs at least one bound/)]);
    expect(errors({ requestRate: 5, sweep: { max: 10 } })).toEqual(['llm.requestRate: does not apply in llm.testMode sweep: llm.sweep gives the loads']);
    expect(errors({ testMode: 'rate', requestRate: 5, sweep: { max: 10 } })).toEqual(['llm.sweep: applies only to llm.testMode sweep']);
    expect(errors({ mode: 'tools', sweep: { max: 10 } })).toEqual(['llm.mode: must be standard in llm.testMode sweep (the sweep is its own search)']);
  });
});
