import type { AgentStatsFrame } from '../../src/contract';
import { RoundAccumulator, SecondAggregator, StoredSecond, toStoredSecond } from '../../controller/metrics/aggregate';
import {
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
  HIGHEST_US,
  LatencyHistogram,
  mergeInto,
  quantilesMs,
  recordUs,
  rtDistribution,
  RT_RANGES,
} from '../../src/measure/histogram';

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Latencies spread over 6 orders of magnitude (log-uniform 10 µs .. 10 s), with some clamped outliers. */
function sampleUs(random: () => number): number {
  if (random() < 0.001) return HIGHEST_US * 2;
  return Math.round(10 * 10 ** (random() * 6));
}

/** A frame as an agent sends it: its RT histogram holds one sample per response (`rt`'s, the rest at 1 ms). */
function frame(second: number, partial: Partial<AgentStatsFrame> & { rt?: LatencyHistogram; lag?: LatencyHistogram }): AgentStatsFrame {
  const requests = partial.requests ?? 0;
  let rt = partial.rt;
  if (requests > (rt?.totalCount ?? 0)) {
    const padded = createLatencyHistogram();
    if (rt) mergeInto(padded, rt);
    padded.recordValueWithCount(1000, requests - padded.totalCount);
    rt = padded;
  }
  return {
    second,
    requests: partial.requests ?? 0,
    sent: partial.sent ?? 0,
    statusCodes: partial.statusCodes ?? {},
    bytesIn: partial.bytesIn ?? 0,
    bytesOut: partial.bytesOut ?? 0,
    dropped: partial.dropped ?? 0,
    inFlight: partial.inFlight ?? 0,
    rtHistogram: rt ? encodeHistogram(rt) : '',
    lagHistogram: partial.lag ? encodeHistogram(partial.lag) : '',
    totalSent: partial.totalSent ?? 0,
    eventLoopLagMs: partial.eventLoopLagMs ?? 0,
  };
}

const context = { elapsed: 1, agentsDesired: 3, agentsAvailable: 3 };

describe('histograms', () => {
  test('an empty histogram has zero quantiles and an all-zero distribution', () => {
    const empty = createLatencyHistogram();
    expect(quantilesMs(empty)).toEqual({ Avg: 0, Min: 0, Max: 0, TP50: 0, TP75: 0, TP90: 0, TP95: 0, TP99: 0, TP999: 0 });
    expect(rtDistribution(empty).every((b) => b.Count === 0)).toBe(true);
    expect(decodeHistogram('').totalCount).toBe(0);
  });

  test('encoding round-trips every count', () => {
    const random = prng(7);
    const h = createLatencyHistogram();
    for (let i = 0; i < 5000; i++) recordUs(h, sampleUs(random));
    const decoded = decodeHistogram(encodeHistogram(h));
    expect(decoded.totalCount).toBe(5000);
    expect(quantilesMs(decoded)).toEqual(quantilesMs(h));
    expect(rtDistribution(decoded)).toEqual(rtDistribution(h));
  });

  test('samples above 60 s are clamped, not thrown', () => {
    const h = createLatencyHistogram();
    recordUs(h, 600_000_000);
    recordUs(h, -5);
    expect(h.totalCount).toBe(2);
    expect(quantilesMs(h).Max).toBeCloseTo(60_000, -2);
    expect(quantilesMs(h).Min).toBe(0);
  });

  test('merging per-agent histograms gives exactly the percentiles of the union of their samples', () => {
    for (const seed of [1, 2, 3]) {
      const random = prng(seed);
      const agents = [createLatencyHistogram(), createLatencyHistogram(), createLatencyHistogram()];
      const union = createLatencyHistogram();
      // Unequal shares and shapes per agent: a merge that averaged percentiles would be visibly off.
      for (let i = 0; i < 20000; i++) {
        const agent = random() < 0.6 ? 0 : random() < 0.7 ? 1 : 2;
        const value = agent === 2 ? sampleUs(random) * 20 : sampleUs(random);
        recordUs(agents[agent], value);
        recordUs(union, value);
      }
      const merged = createLatencyHistogram(64);
      for (const h of agents) mergeInto(merged, encodeHistogram(h));
      expect(merged.totalCount).toBe(union.totalCount);
      expect(quantilesMs(merged)).toEqual(quantilesMs(union));
      expect(rtDistribution(merged)).toEqual(rtDistribution(union));

      // The same through the aggregator, as the controller does it.
      const aggregator = new SecondAggregator();
      agents.forEach((h, i) => aggregator.add(`agent-${i}`, frame(100, { requests: h.totalCount, rt: h })));
      const { point } = aggregator.finalize(100, context);
      expect(point.RT).toEqual(quantilesMs(union));
    }
  });

  test('the RT distribution puts each sample in its [lo,hi) ms range', () => {
    const h = createLatencyHistogram();
    const samplesMs = [0.5, 5, 9.9, 10, 15, 19, 25, 49, 75, 150, 199, 300, 700, 999, 1000, 1500, 2000, 2500, 90_000];
    for (const ms of samplesMs) recordUs(h, ms * 1000);
    const counts = Object.fromEntries(rtDistribution(h).map((b) => [b.Range, b.Count]));
    expect(Object.keys(counts)).toEqual(RT_RANGES);
    expect(counts).toEqual({
      '[0,10)': 3,
      '[10,20)': 3,
      '[20,50)': 2,
      '[50,100)': 1,
      '[100,200)': 2,
      '[200,500)': 1,
      '[500,1000)': 2,
      '[1000,2000)': 2,
      '[2000,+inf)': 3,
    });
  });
});

describe('SecondAggregator', () => {
  test('sums counters and status codes of all agents for a second; Success counts only 200', () => {
    const aggregator = new SecondAggregator();
    const rt = createLatencyHistogram();
    recordUs(rt, 1000);
    aggregator.add('a', frame(50, { requests: 10, sent: 11, statusCodes: { '200': 8, '500': 2 }, bytesIn: 100, bytesOut: 200, dropped: 1, inFlight: 1, rt, eventLoopLagMs: 3 }));
    aggregator.add('b', frame(50, { requests: 5, sent: 5, statusCodes: { '200': 4, '599': 1 }, bytesIn: 50, bytesOut: 70, dropped: 2, inFlight: 2, eventLoopLagMs: 9 }));
    aggregator.add('c', frame(51, { requests: 7, statusCodes: { '200': 7 } }));
    expect(aggregator.pendingSeconds()).toEqual([50, 51]);
    expect([...aggregator.agentsReported(50)].sort()).toEqual(['a', 'b']);

    const { point, agentLoad } = aggregator.finalize(50, { ...context, elapsed: 4, targetQps: 300 });
    expect(point).toMatchObject({
      Time: 50,
      Elapsed: 4,
      TargetQPS: 300,
      Requests: 15,
      Success: 12,
      Errors: 3,
      BytesIn: 150,
      BytesOut: 270,
      Dropped: 3,
      StatusCodes: { '200': 12, '500': 2, '599': 1 },
      AgentsDesired: 3,
      AgentsAvailable: 3,
    });
    expect(point.Concurrency).toBeUndefined();
    expect(agentLoad).toEqual({ sent: 16, inFlight: 3, maxEventLoopLagMs: 9, agentsReported: 2 });
    expect(aggregator.pendingSeconds()).toEqual([51]);
  });

  test('a frame for an already finalized second is refused', () => {
    const aggregator = new SecondAggregator();
    aggregator.finalize(10, context);
    expect(aggregator.add('a', frame(10, { requests: 1, statusCodes: { '200': 1 } }))).toBe(false);
    expect(aggregator.add('a', frame(9, { requests: 1, statusCodes: { '200': 1 } }))).toBe(false);
    expect(aggregator.add('a', frame(11, { requests: 1, statusCodes: { '200': 1 } }))).toBe(true);
  });

  test('a second without frames finalizes to a zero point', () => {
    const { point } = new SecondAggregator().finalize(7, context);
    expect(point.Requests).toBe(0);
    expect(point.RT.TP99).toBe(0);
    expect(point.SendLagP99).toBe(0);
  });
});

describe('RoundAccumulator', () => {
  function runRound(): { seconds: StoredSecond[]; union: LatencyHistogram; lagUnion: LatencyHistogram } {
    const random = prng(42);
    const aggregator = new SecondAggregator();
    const union = createLatencyHistogram();
    const lagUnion = createLatencyHistogram();
    const seconds: StoredSecond[] = [];
    // Seconds 1000..1004; no responses in 1000 (warm-up) nor in 1004 (tail).
    for (let second = 1000; second <= 1004; second++) {
      for (const agent of ['a', 'b']) {
        const rt = createLatencyHistogram();
        const lag = createLatencyHistogram();
        const n = second === 1000 || second === 1004 ? 0 : 100;
        for (let i = 0; i < n; i++) {
          const v = sampleUs(random);
          recordUs(rt, v);
          recordUs(union, v);
          const l = Math.round(random() * 2000);
          recordUs(lag, l);
          recordUs(lagUnion, l);
        }
        const errors = agent === 'b' && n > 0 ? 10 : 0;
        aggregator.add(agent, frame(second, { requests: n, statusCodes: n ? { '200': n - errors, ...(errors ? { '503': errors } : {}) } : {}, bytesIn: n * 10, bytesOut: n * 20, dropped: agent === 'a' ? 1 : 0, rt, lag }));
      }
      seconds.push(toStoredSecond(aggregator.finalize(second, { ...context, elapsed: second - 1000 })));
    }
    return { seconds, union, lagUnion };
  }

  test('totals a round from its seconds: counters, rates, exact quantiles, distribution', () => {
    const { seconds, union, lagUnion } = runRound();
    const accumulator = new RoundAccumulator();
    for (const s of seconds) accumulator.addStored(s);
    const result = accumulator.result();
    const q = quantilesMs(union);
    expect(result).toMatchObject({
      TotalRequests: 600,
      SuccessRequests: 570,
      ErrorRequests: 30,
      ErrorRate: 0.05,
      DurationS: 3,
      QPS: 200,
      BytesIn: 6000,
      BytesOut: 12000,
      Dropped: 5,
      StatusCodes: { '200': 570, '503': 30 },
      AvgRT: q.Avg,
      MinRT: q.Min,
      MaxRT: q.Max,
      TP50: q.TP50,
      TP75: q.TP75,
      TP90: q.TP90,
      TP95: q.TP95,
      TP99: q.TP99,
      TP999: q.TP999,
      SendLagP99: quantilesMs(lagUnion).TP99,
    });
    expect(result.RTDistribution).toEqual(rtDistribution(union));
    expect(result.RTDistribution.reduce((sum, b) => sum + b.Count, 0)).toBe(600);
    expect(accumulator.result(4).QPS).toBe(150);
  });

  test('rebuilt from the stored ndjson lines, it gives the same result', () => {
    const { seconds } = runRound();
    const live = new RoundAccumulator();
    for (const s of seconds) live.addStored(s);
    const ndjson = seconds.map((s) => JSON.stringify(s)).join('\n');
    const rebuilt = new RoundAccumulator();
    for (const line of ndjson.split('\n')) rebuilt.addStored(JSON.parse(line) as StoredSecond);
    expect(rebuilt.result()).toEqual(live.result());
    expect(rebuilt.seconds).toBe(5);
  });

  test('an empty round has zero figures and a duration of 1 s', () => {
    const result = new RoundAccumulator().result();
    expect(result).toMatchObject({ TotalRequests: 0, ErrorRate: 0, QPS: 0, DurationS: 1, TP99: 0, SendLagP99: 0 });
  });
});
