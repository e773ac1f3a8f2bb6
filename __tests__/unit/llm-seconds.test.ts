import * as fs from 'node:fs';
import { parseAgentMessage, validateTask, type LlmRequestRecord } from '../../src/contract';
import { computeLlmResult } from '../../controller/metrics/llm/result';
import { LlmSecondRecorder } from '../../src/measure/llm-second';
import { LlmRoundFigures } from '../../controller/metrics/llm/round';
import { LlmSecondMerge, LlmStoredSecond } from '../../controller/metrics/llm/stage';
import { KEPT_ROUND_FIGURES, TaskEntry } from '../../controller/tasks/entry';
import { TaskRecord } from '../../controller/tasks/record';
import { TaskStore } from '../../controller/tasks/store';
import { tempDir } from '../helpers/processes';

const PERCENTILES = [50, 75, 90, 95, 99];

function rec(sendMs: number, endMs: number, extra: Partial<LlmRequestRecord> = {}): LlmRequestRecord {
  return { agent: 0, seq: 0, sendMs, endMs, ttftMs: 10, e2elMs: endMs - sendMs, itlMs: [5], inputTokens: 100, outputTokens: 10, tokenSource: 'usage', success: true, status: 200, ...extra };
}

/** performance.now() ms of a Unix ms, so that the recorder's Unix times come back as given. */
const perf = (unixMs: number): number => unixMs - performance.timeOrigin;

/** Feeds records to one agent's recorder as a run would (sends and ends in time order), one frame per Unix second. */
function framesOf(records: LlmRequestRecord[]): { second: number; llm: LlmStoredSecond; records: LlmRequestRecord[] }[] {
  const events: [number, 1 | -1, LlmRequestRecord][] = [];
  for (const r of records) events.push([r.sendMs, 1, r], [r.endMs, -1, r]);
  // an end before a send at the same instant, as AISBench counts
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const recorder = new LlmSecondRecorder();
  const out: { second: number; llm: LlmStoredSecond; records: LlmRequestRecord[] }[] = [];
  let second = Math.floor(events[0][0] / 1000);
  let ended: LlmRequestRecord[] = [];
  const close = (): void => {
    const merge = new LlmSecondMerge(undefined);
    merge.add(recorder.take(perf((second + 1) * 1000)), undefined);
    out.push({ second, llm: merge.stored(), records: ended });
    ended = [];
    second++;
  };
  for (const [t, kind, r] of events) {
    while (t >= (second + 1) * 1000) close();
    if (kind === 1) recorder.began(perf(t));
    else {
      recorder.ended(perf(t), r);
      ended.push(r);
    }
  }
  close();
  return out;
}

describe('per-second LLM figures (agent histograms merged on the controller)', () => {
  test('the in-flight figures of a second: its most, when it was there, and the mean', () => {
    const recorder = new LlmSecondRecorder();
    const base = 1_700_000_000_000;
    recorder.began(perf(base + 100));
    recorder.began(perf(base + 200)); // 2 in flight from 200
    recorder.ended(perf(base + 600), rec(base + 100, base + 600)); // leaves 2 at 600
    recorder.began(perf(base + 700)); // 2 again from 700 to the second's end
    const frame = recorder.take(perf(base + 1000));
    expect(frame.maxInFlight).toBe(2);
    expect(frame.maxFromMs).toBeCloseTo(base + 200, 1);
    expect(frame.maxUntilMs).toBeCloseTo(base + 1000, 1);
    // 1 x 100 ms + 2 x 400 ms + 1 x 100 ms + 2 x 300 ms
    expect(frame.busyMs).toBeCloseTo(1600, 1);
    expect(frame.requests).toBe(1);
    expect(frame.metrics.E2EL).toMatchObject({ n: 1, sum: 500, min: 500, max: 500 });
    // the next second starts with the two still in flight
    const next = recorder.take(perf(base + 2000));
    expect(next).toMatchObject({ maxInFlight: 2, requests: 0, metrics: {} });
    expect(next.busyMs).toBeCloseTo(2000, 1);
  });

  test('a frame with LLM figures passes the agent-message parser, and a bad one is refused with its field', () => {
    const recorder = new LlmSecondRecorder();
    recorder.began(perf(1000));
    recorder.ended(perf(1500), rec(1000, 1500));
    const llm = recorder.take(perf(2000));
    const frame = { second: 1, requests: 1, sent: 1, statusCodes: { 200: 1 }, bytesIn: 1, bytesOut: 1, dropped: 0, inFlight: 0, rtHistogram: '', lagHistogram: '', totalSent: 1, eventLoopLagMs: 0, llm };
    const parsed = parseAgentMessage(JSON.stringify({ type: 'stats', frame }));
    expect(typeof parsed).not.toBe('string');
    expect(parsed).toMatchObject({ frame: { llm: { requests: 1, maxInFlight: 1 } } });
    expect(parseAgentMessage(JSON.stringify({ type: 'stats', frame: { ...frame, llm: { ...llm, busyMs: -1 } } }))).toBe('stats: frame.llm.busyMs must be a number >= 0');
    expect(parseAgentMessage(JSON.stringify({ type: 'stats', frame: { ...frame, llm: { ...llm, metrics: { Nope: llm.metrics.TTFT } } } }))).toBe('stats: frame.llm.metrics has an unknown metric "Nope"');
  });

  test('tables from the merged seconds agree with the exact ones from the records: averages, extremes and N exactly, percentiles within 0.5%', () => {
    // 4 streams, closed loop, 3000 requests of varied latency over many seconds
    const records: LlmRequestRecord[] = [];
    const base = 1_700_000_000_000;
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let stream = 0; stream < 4; stream++) {
      let t = base + stream * 7;
      for (let i = 0; i < 750; i++) {
        const ttft = 5 + 50 * random();
        const e2el = ttft + 40 + 200 * random();
        records.push(rec(t, t + e2el, { ttftMs: ttft, outputTokens: 8 + (i % 5), inputTokens: 100 + (i % 17) }));
        t += e2el;
      }
    }
    const figures = new LlmRoundFigures(PERCENTILES);
    for (const s of framesOf(records)) figures.addSecond(s.llm);
    const fromSeconds = figures.result();
    const exact = computeLlmResult(records, undefined, PERCENTILES);
    expect(fromSeconds.Computed).toBe('histograms');
    for (const metric of ['TTFT', 'TPOT', 'E2EL', 'InputTokens', 'OutputTokens', 'OutputTokenThroughput'] as const) {
      const a = fromSeconds.Total[metric];
      const b = exact.Total[metric];
      expect(Object.keys(a)).toEqual(['Average', 'Min', 'Max', 'Median', 'P75', 'P90', 'P95', 'P99', 'N']);
      expect([a.Average, a.Min, a.Max, a.N]).toEqual([b.Average, b.Min, b.Max, b.N]);
      for (const key of ['Median', 'P75', 'P90', 'P95', 'P99'] as const) {
        // HDR gives the bucket (0.1%) of the sample at the rank; numpy interpolates between two samples;
        // token counts are whole numbers, so there the two differ by less than one token
        if (metric.endsWith('Tokens')) expect(Math.abs(a[key] - b[key])).toBeLessThan(1);
        else expect(Math.abs(a[key] - b[key]) / b[key]).toBeLessThan(0.005);
      }
    }
    expect(fromSeconds.Common).toMatchObject({ TotalRequests: 3000, SuccessRequests: 3000, MaxConcurrency: 4, TotalGeneratedTokens: exact.Common.TotalGeneratedTokens });
    expect(fromSeconds.Common.BenchmarkDuration).toBeCloseTo(exact.Common.BenchmarkDuration, 1);
    expect(fromSeconds.Common.Concurrency).toBeCloseTo(exact.Common.Concurrency, 2);
    expect(fromSeconds.Common.PrefillTokenThroughput).toBeCloseTo(exact.Common.PrefillTokenThroughput, 2);
  });

  test('the steady stage from seconds: from the first time the most are in flight to the last moment they are (AISBench t2..t4)', () => {
    // one stream, then four from 5 s to 25 s, then one again until 40 s
    const base = 1_700_000_000_000;
    const records: LlmRequestRecord[] = [];
    const stream = (from: number, to: number, offset: number): void => {
      for (let t = base + from + offset; t + 100 <= base + to; t += 100) records.push(rec(t, t + 100));
    };
    stream(0, 40_000, 0);
    for (let s = 1; s < 4; s++) stream(5_000, 25_000, s * 10);
    const figures = new LlmRoundFigures(PERCENTILES);
    const seconds = framesOf(records);
    for (const s of seconds) figures.addSecond(s.llm, s.records);
    const result = figures.result();
    const exact = computeLlmResult(records, undefined, PERCENTILES);
    expect(result.StableStage).toBeDefined();
    expect(result.StableStage?.StartMs).toBeCloseTo(exact.StableStage?.StartMs ?? 0, 0);
    expect(result.StableStage?.EndMs).toBeCloseTo(exact.StableStage?.EndMs ?? 0, 0);
    expect(result.StableCommon?.MaxConcurrency).toBe(4);
    // the stage's requests: those sent in it, as the exact path takes them
    expect(result.StableCommon?.TotalRequests).toBe(exact.StableCommon?.TotalRequests);
    expect(result.StableCommon?.RequestThroughput).toBeCloseTo(exact.StableCommon?.RequestThroughput ?? 0, 2);
    expect(result.Stable?.E2EL.Average).toBe(100);
    // the same figures when the records come after every second (a restart reads them back so)
    const later = new LlmRoundFigures(PERCENTILES);
    for (const s of seconds) later.addSecond(s.llm);
    later.addRecords(records);
    expect(later.result().StableCommon).toEqual(result.StableCommon);
  });

  test('percentiles from the histograms are within 0.1% of the exact ones, a bimodal sample included', () => {
    const base = 1_700_000_000_000;
    // TTFT of two modes (a cache hit near 75 ms, a miss near 184 ms), with E2EL and the token gaps spread too
    const sample = (n: number, lowShare: number): LlmRequestRecord[] => {
      const records: LlmRequestRecord[] = [];
      for (let i = 0; i < n; i++) {
        const low = i % 100 < lowShare * 100;
        const ttftMs = (low ? 70 : 180) + ((i * 7919) % 1000) / 100;
        const sendMs = base + i * 50;
        records.push(rec(sendMs, sendMs + ttftMs + 300, { ttftMs, e2elMs: ttftMs + 300, itlMs: [5 + (i % 13) / 10, low ? 5 : 60] }));
      }
      return records;
    };
    const percentiles = [1, 25, 49, 50, 51, 75, 90, 99, 99.9];
    for (const [n, lowShare] of [[1000, 0.5], [1001, 0.5], [999, 0.51], [400, 0.49]] as const) {
      const records = sample(n, lowShare);
      const figures = new LlmRoundFigures(percentiles);
      for (const s of framesOf(records)) figures.addSecond(s.llm, s.records);
      const live = figures.result().Total;
      const exact = computeLlmResult(records, undefined, percentiles).Total;
      for (const metric of ['TTFT', 'E2EL', 'ITL', 'ITLGap'] as const) {
        for (const key of Object.keys(exact[metric]).filter((k) => k === 'Median' || k.startsWith('P'))) {
          const want = exact[metric][key as 'Median'];
          const got = live[metric][key as 'Median'];
          if (Math.abs(got - want) > want * 0.001) throw new Error(`n ${n}: ${metric}.${key} ${got} from the histograms, ${want} exact`);
        }
      }
    }
  });

  test('a steady stage not three times the longest E2EL, or under a second, is not shown; one line says why', () => {
    const base = 1_700_000_000_000;
    // a rate run's peak: 3 in flight once for 50 ms, requests of 400 ms every 200 ms otherwise
    const records: LlmRequestRecord[] = [];
    for (let t = 0; t < 20_000; t += 200) records.push(rec(base + t, base + t + 400));
    records.push(rec(base + 10_050, base + 10_450));
    const figures = new LlmRoundFigures(PERCENTILES);
    for (const s of framesOf(records)) figures.addSecond(s.llm, s.records);
    const live = figures.result();
    const exact = computeLlmResult(records, undefined, PERCENTILES);
    for (const r of [live, exact]) {
      expect(r.Stable).toBeUndefined();
      expect(r.StableCommon).toBeUndefined();
      expect(r.CommonMetric?.Stable).toBeUndefined();
      expect(r.StableAbsent).toMatch(/^steady stage not shown: it lasted [\d.]+ ms, under the 1000 ms minimum$/);
      expect(r.Total.E2EL.N).toBe(records.length);
    }
    // two streams of 1 s requests held for 2.5 s: long enough, but not 3 times the E2EL
    const slow = [rec(base, base + 1000), rec(base, base + 1000), rec(base + 1000, base + 2000), rec(base + 1000, base + 2000), rec(base + 2000, base + 2500), rec(base + 2000, base + 2500)];
    expect(computeLlmResult(slow).StableAbsent).toMatch(/not 3 times the longest E2EL \(1000 ms\)/);
  });

  test('llm.percentiles is validated with its field named, and shapes every table row', () => {
    const base = { service: { serviceName: 'x', url: 'http://127.0.0.1:1' }, llm: { api: 'chat', model: 'm', testMode: 'concurrency' } };
    const refused = (percentiles: unknown): unknown => {
      const r = validateTask({ ...base, llm: { ...base.llm, percentiles } });
      return r.ok ? 'accepted' : r.errors[0];
    };
    expect(refused([50, 100])).toEqual({ field: 'llm.percentiles[1]', message: 'must be > 0 and < 100' });
    expect(refused([90, 50])).toEqual({ field: 'llm.percentiles[1]', message: 'must be greater than the one before (ascending, no repeats)' });
    expect(refused([])).toEqual({ field: 'llm.percentiles', message: 'must be a list of 1 to 10 numbers' });
    expect(refused(['p99'])).toEqual({ field: 'llm.percentiles[0]', message: 'must be a number, got a string' });
    expect(refused([25, 50, 99.9])).toBe('accepted');
    const exact = computeLlmResult([rec(0, 100), rec(0, 200)], undefined, [25, 99.9]);
    expect(Object.keys(exact.Total.E2EL)).toEqual(['Average', 'Min', 'Max', 'Median', 'P25', 'P99.9', 'N']);
    expect(exact.Total.E2EL).toMatchObject({ Median: 150, P25: 125, 'P99.9': 199.9 });
  });

  test('finished rounds: figures rebuilt from the stored seconds, at most KEPT_ROUND_FIGURES kept; a round stored without LLM seconds falls back to its records', () => {
    const dataDir = tempDir('llm-entry');
    try {
      const store = new TaskStore(dataDir);
      const taskName = 'benchmark-llm-cache-0001';
      const rounds = [10001, 10002, 10003, 10004].map((roundId) => ({ roundId, startMs: 0, endMs: 1 }));
      const record = {
        taskId: 'eas-b-x',
        taskName,
        region: 'cn-local',
        serviceName: 'x',
        spec: { service: { serviceName: 'x' }, llm: { api: 'chat', model: 'm', testMode: 'concurrency', percentiles: [50, 99] } },
        status: 'Stopped',
        message: '',
        createMs: 0,
        updateMs: 0,
        desiredAgent: 1,
        rounds,
        agentToken: 't',
      } as unknown as TaskRecord;
      store.save(record);
      const base = 1_700_000_000_000;
      // two in flight at most: the first ends as the third is sent (an end first at the same instant)
      const records = [rec(base, base + 100), rec(base + 50, base + 250), rec(base + 100, base + 400)];
      const point = { Time: 0, Elapsed: 0, Requests: 0, Success: 0, Errors: 0, BytesIn: 0, BytesOut: 0, Dropped: 0, StatusCodes: {}, RT: { Avg: 0, Min: 0, Max: 0, TP50: 0, TP75: 0, TP90: 0, TP95: 0, TP99: 0, TP999: 0 }, SendLagP99: 0, AgentsDesired: 1, AgentsAvailable: 1 };
      for (const { roundId } of rounds.slice(0, 3)) {
        for (const s of framesOf(records)) store.appendSecond(taskName, roundId, { point: { ...point, Time: s.second }, rt: '', lag: '', llm: s.llm });
      }
      // the fourth round as stored before the seconds carried LLM figures: seconds without llm, and the records
      store.appendSecond(taskName, 10004, { point, rt: '', lag: '' });
      store.appendLlmRecords(taskName, 10004, records);

      const entry = new TaskEntry(record, store);
      const first = entry.figures(rounds[0]);
      expect(first.llm).toMatchObject({ Computed: 'histograms', Percentiles: [50, 99], Common: { TotalRequests: 3, MaxConcurrency: 2 } });
      expect(first.llm?.Total.E2EL).toMatchObject({ Average: 200, Min: 100, Max: 300, N: 3 });
      expect(entry.figures(rounds[0])).toBe(first);
      for (const r of rounds.slice(1, 1 + KEPT_ROUND_FIGURES)) entry.figures(r);
      // the first round was the least recently read: rebuilt from disk, the same figures
      const again = entry.figures(rounds[0]);
      expect(again).not.toBe(first);
      expect(again.llm).toEqual(first.llm);
      const old = entry.figures(rounds[3]);
      expect(old.llm).toMatchObject({ Computed: 'records', Common: { TotalRequests: 3 } });
      expect(old.llm?.Total.E2EL).toMatchObject({ Average: 200, N: 3 });
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('client queue time (rate mode): from the merged seconds as from the records, and absent where nothing was scheduled', () => {
  const base = 1_700_000_000_000;
  /** 60 requests 100 ms apart on the schedule, 2 slots of 300 ms: from the 3rd on each waits longer for its slot. */
  const queued = (): LlmRequestRecord[] => {
    const out: LlmRequestRecord[] = [];
    const slots = [base, base];
    for (let k = 0; k < 60; k++) {
      const due = base + k * 100;
      const slot = slots[0] <= slots[1] ? 0 : 1;
      const send = Math.max(due, slots[slot]);
      slots[slot] = send + 300;
      out.push(rec(send, send + 300, { seq: k, queueMs: send - due }));
    }
    return out;
  };

  test('live figures of the queue rows equal the exact ones; E2ELWithQueue is E2EL plus the queue; the achieved rate from the sends', () => {
    const records = queued();
    const figures = new LlmRoundFigures(PERCENTILES, undefined, 2, 10);
    for (const s of framesOf(records)) figures.addSecond(s.llm, s.records);
    const live = figures.result();
    const exact = computeLlmResult(records, undefined, PERCENTILES, undefined, 2, 10);
    const queue = records.map((r) => r.queueMs as number);
    for (const llm of [live, exact]) {
      expect(llm.Total.ClientQueueTime).toMatchObject({ N: 60, Min: 0, Max: Math.max(...queue) });
      expect(llm.Total.ClientQueueTime?.Average).toBeCloseTo(queue.reduce((a, b) => a + b, 0) / 60, 3);
      expect(llm.Total.E2ELWithQueue?.Average).toBeCloseTo((llm.Total.ClientQueueTime?.Average as number) + 300, 3);
      // the schedule asked 10 req/s; two 300 ms slots send 6.67 a second
      expect(llm.Common.AskedRequestRate).toBe(10);
      expect(llm.Common.AchievedRequestRate).toBeCloseTo(59 / ((records[59].sendMs - base) / 1000), 3);
    }
    for (const p of ['Median', 'P90', 'P99'] as const) {
      const e = (exact.Total.ClientQueueTime as Record<string, number>)[p];
      expect(Math.abs((live.Total.ClientQueueTime as Record<string, number>)[p] - e)).toBeLessThanOrEqual(0.001 * e + 0.001);
    }
  });

  test('records without queueMs (closed loop, or an older task folder) recompute as before: no queue rows, the other rows unchanged', () => {
    const records = queued();
    const older = records.map(({ queueMs: _queueMs, ...r }) => r);
    const before = computeLlmResult(older);
    expect(before.Total.ClientQueueTime).toBeUndefined();
    expect(before.Total.E2ELWithQueue).toBeUndefined();
    expect(before.Common.AskedRequestRate).toBeUndefined();
    const now = computeLlmResult(records);
    const { ClientQueueTime: _q, E2ELWithQueue: _w, ...rest } = now.Total;
    expect(rest).toEqual(before.Total);
    // seconds stored before agents sent their latest send: the rate asked, no rate achieved
    const figures = new LlmRoundFigures(PERCENTILES, undefined, 2, 10);
    for (const s of framesOf(older)) {
      const { lastSendMs: _last, ...stored } = s.llm;
      figures.addSecond(stored, s.records);
    }
    expect(figures.result().Common).toMatchObject({ AskedRequestRate: 10 });
    expect(figures.result().Common.AchievedRequestRate).toBeUndefined();
  });
});
