import { parse as parseXml, validate as validateXml } from 'fast-xml-parser';
import { RoundAccumulator, StoredSecond } from '../../controller/metrics/aggregate';
import { compareRounds, CompareRound, judgeFigure } from '../../controller/metrics/compare';
import { NamedMerge } from '../../controller/metrics/named';
import { createLatencyHistogram, encodeHistogram, percentileCurve, recordUs } from '../../src/measure/histogram';
import { mannWhitneyU, normalUpperTail } from '../../controller/metrics/significance';
import { percentileChartOption, renderSvg } from '../../controller/reports/charts';
import { renderCompareHtml } from '../../controller/reports/compare-html';
import { RoundResultResponse, ROUND_RESULT_SCHEMA, StatsPoint } from '../../src/contract';
import { renderJunit } from '../../src/output/junit';

/** A deterministic generator (mulberry32), so every run judges the same samples. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One stored second whose requests took `latenciesMs`, with the per-second figures the controller would give it. */
function second(t: number, latenciesMs: number[]): StoredSecond {
  const rt = createLatencyHistogram();
  for (const ms of latenciesMs) recordUs(rt, ms * 1000);
  const at = (p: number): number => rt.getValueAtPercentile(p) / 1000;
  const point: StatsPoint = {
    Time: 1_790_000_000 + t,
    Elapsed: t,
    Requests: latenciesMs.length,
    Success: latenciesMs.length,
    Errors: 0,
    BytesIn: 0,
    BytesOut: 0,
    Dropped: 0,
    StatusCodes: { '200': latenciesMs.length },
    RT: { Avg: rt.mean / 1000, Min: at(0), Max: at(100), TP50: at(50), TP75: at(75), TP90: at(90), TP95: at(95), TP99: at(99), TP999: at(99.9) },
    SendLagP99: 0,
    AgentsDesired: 1,
    AgentsAvailable: 1,
  };
  return { point, rt: encodeHistogram(rt), lag: encodeHistogram(createLatencyHistogram()) };
}

/** A round of `seconds` seconds at `perSecond` requests, each taking `baseMs` times (1 + jitter). */
function round(seed: number, baseMs: number, options: { seconds?: number; perSecond?: number; jitter?: number } = {}): CompareRound {
  const next = random(seed);
  const seconds: StoredSecond[] = [];
  for (let t = 0; t < (options.seconds ?? 10); t++) {
    seconds.push(second(t, Array.from({ length: options.perSecond ?? 50 }, () => baseMs * (1 + (options.jitter ?? 0.1) * next()))));
  }
  const accumulator = new RoundAccumulator();
  for (const s of seconds) accumulator.addStored(s);
  return { result: accumulator.result(), seconds };
}

describe('the Mann-Whitney U test', () => {
  test('p-values equal scipy.stats.mannwhitneyu (exact without ties, normal with continuity and tie correction otherwise)', () => {
    expect(mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])).toEqual({ u: 0, p: expect.closeTo(0.007936507936507936, 12), method: 'exact' });
    const exact = mannWhitneyU([1.1, 2.5, 3.2, 4.8, 5.3, 9.9], [6.1, 2.7, 8.2, 3.9, 10.5, 12.1, 7.7]);
    expect(exact).toEqual({ u: 10, p: expect.closeTo(0.13752913752913754, 12), method: 'exact' });
    const ties = mannWhitneyU([1, 2, 2, 3, 4], [2, 3, 5, 6, 7, 8]);
    expect(ties).toEqual({ u: 4.5, p: expect.closeTo(0.06476896969888761, 6), method: 'normal' });
    const large = mannWhitneyU(Array.from({ length: 40 }, (_, i) => i), Array.from({ length: 40 }, (_, i) => i + 10.5));
    expect(large).toEqual({ u: 435, p: expect.closeTo(0.00045250348643015396, 6), method: 'normal' });
  });

  test('symmetric, at most 1, 1 for identical constant samples, none under three values a side', () => {
    const a = [3, 9, 4, 7, 1];
    const b = [8, 2, 10, 6];
    expect(mannWhitneyU(a, b).p).toBeCloseTo(mannWhitneyU(b, a).p as number, 12);
    expect(mannWhitneyU([5, 5, 5, 5], [5, 5, 5])).toEqual({ u: 6, p: 1, method: 'normal' });
    expect(mannWhitneyU([1, 2], [3, 4, 5])).toEqual({ u: 0, p: null, method: 'too few' });
    expect(mannWhitneyU([1, 2, 3], [1, 2, 3]).p).toBeCloseTo(1, 6);
  });

  test('the normal tail: 0.5 at 0, 0.025 at 1.96', () => {
    expect(normalUpperTail(0)).toBeCloseTo(0.5, 7);
    expect(normalUpperTail(1.959964)).toBeCloseTo(0.025, 6);
    expect(normalUpperTail(-1.959964)).toBeCloseTo(0.975, 6);
  });
});

describe('judging a figure', () => {
  const options = { maxRegressionPct: 5 };
  test('the wrong way, above the floor and significant: regressed; the right way: improved', () => {
    expect(judgeFigure('lower', 50, 100, 0.001, options)).toBe('regressed');
    expect(judgeFigure('higher', 100, 50, 0.001, options)).toBe('regressed');
    expect(judgeFigure('lower', 100, 50, 0.001, options)).toBe('improved');
    expect(judgeFigure('higher', 50, 100, 0.001, options)).toBe('improved');
    // from zero any change is above the floor
    expect(judgeFigure('lower', 0, 0.02, 0.001, options)).toBe('regressed');
  });
  test('below the floor, or not significant, or no direction: never regressed', () => {
    expect(judgeFigure('lower', 100, 104.9, 1e-9, options)).toBe('within noise');
    expect(judgeFigure('lower', 50, 100, 0.02, options)).toBe('within noise');
    expect(judgeFigure('lower', 50, 50, 0.001, options)).toBe('within noise');
    expect(judgeFigure(null, 50, 100, 0.001, options)).toBe('not judged');
    expect(judgeFigure('lower', 50, 100, null, options)).toBe('not judged');
    expect(judgeFigure('lower', 50, 100, 0.04, { maxRegressionPct: 5, alpha: 0.05 })).toBe('regressed');
  });
});

describe('comparing two rounds', () => {
  const verdicts = (a: CompareRound, b: CompareRound, maxRegressionPct = 5) =>
    Object.fromEntries(compareRounds(a, b, { maxRegressionPct }).map((f) => [f.Figure, f.Verdict]));

  test('twice as slow: every latency figure regressed; faster: improved', () => {
    const slow = verdicts(round(1, 20), round(2, 40));
    for (const figure of ['AvgRT', 'MinRT', 'TP50', 'TP90', 'TP99', 'TP99.9', 'MaxRT']) expect(slow[figure]).toBe('regressed');
    // the same request count every second: the rate did not move
    expect(slow.QPS).toBe('within noise');
    expect(slow.TotalRequests).toBe('not judged');
    const fast = verdicts(round(2, 40), round(1, 20));
    expect(fast.TP99).toBe('improved');
  });

  test('the same service again (other random samples) is within noise, for many seeds', () => {
    for (let seed = 10; seed < 30; seed++) {
      const v = verdicts(round(seed, 20), round(seed + 100, 20));
      expect({ seed, regressed: Object.keys(v).filter((k) => v[k] === 'regressed') }).toEqual({ seed, regressed: [] });
    }
  });

  test('not a fixed percentage alone: a rise lost in a noisy service is within noise, the same rise on a steady one is not', () => {
    // ten noisy seconds a side, a few requests each anywhere in 20..100 ms: the means differ by more than the floor but the seconds overlap
    const noisy = (seed: number, ms: number) => round(seed, ms, { seconds: 10, perSecond: 3, jitter: 4 });
    const a = noisy(7, 20);
    const b = noisy(8, 22);
    const avg = compareRounds(a, b, { maxRegressionPct: 5 }).find((f) => f.Figure === 'AvgRT');
    expect(avg?.Verdict).toBe('within noise');
    expect(avg?.DiffPct).toBeGreaterThan(5);
    expect(avg?.PValue).toBeGreaterThan(0.01);
    const steady = verdicts(round(3, 20, { jitter: 0.01 }), round(4, 22, { jitter: 0.01 }));
    expect(steady.AvgRT).toBe('regressed');
    // and the floor: a steady 3 % rise is significant but under the 5 % floor
    const small = compareRounds(round(3, 20, { jitter: 0.01 }), round(4, 20.6, { jitter: 0.01 }), { maxRegressionPct: 5 }).find((f) => f.Figure === 'AvgRT');
    expect(small?.PValue).toBeLessThan(0.01);
    expect(small?.Verdict).toBe('within noise');
    expect(verdicts(round(3, 20, { jitter: 0.01 }), round(4, 20.6, { jitter: 0.01 }), 1).AvgRT).toBe('regressed');
  });

  test('differences and their percentages; from zero the percentage is null', () => {
    const figures = compareRounds(round(1, 20), round(2, 40), { maxRegressionPct: 5 });
    const avg = figures.find((f) => f.Figure === 'AvgRT');
    expect(avg?.Diff).toBeCloseTo((avg?.B ?? 0) - (avg?.A ?? 0), 5);
    expect(avg?.DiffPct).toBeCloseTo(100, -1);
    expect(avg?.Samples).toEqual([10, 10]);
    expect(figures.find((f) => f.Figure === 'ErrorRate')).toMatchObject({ A: 0, B: 0, DiffPct: 0, Verdict: 'within noise' });
  });
});

/** A round of named requests: each second, 30 of each name taking its `baseMs` times (1 + 10% jitter). */
function namedRound(seed: number, baseMsByName: Record<string, number>, seconds = 10): CompareRound {
  const next = random(seed);
  const stored: StoredSecond[] = [];
  for (let t = 0; t < seconds; t++) {
    const names = new NamedMerge();
    const all: number[] = [];
    for (const [name, baseMs] of Object.entries(baseMsByName)) {
      const rt = createLatencyHistogram();
      for (let i = 0; i < 30; i++) {
        const ms = baseMs * (1 + 0.1 * next());
        recordUs(rt, ms * 1000);
        all.push(ms);
      }
      names.add(name, 30, 0, rt);
    }
    const s = second(t, all);
    stored.push({ ...s, point: { ...s.point, ByName: names.figures(1) }, byName: names.encoded() });
  }
  const accumulator = new RoundAccumulator();
  for (const s of stored) accumulator.addStored(s);
  return { result: accumulator.result(), seconds: stored };
}

describe('comparing two rounds by request name', () => {
  test('each name both rounds have is judged on its own seconds: the one that slowed regressed, the other did not', () => {
    const a = namedRound(1, { search: 10, order: 20 });
    const b = namedRound(2, { search: 10, order: 40, export: 5 });
    const figures = compareRounds(a, b, { maxRegressionPct: 5 });
    const verdict = Object.fromEntries(figures.map((f) => [f.Figure, f.Verdict]));
    for (const stat of ['TP50', 'TP90', 'TP99', 'TP99.9']) {
      expect([stat, verdict[`order.${stat}`]]).toEqual([stat, 'regressed']);
      expect([stat, verdict[`search.${stat}`]]).toEqual([stat, 'within noise']);
    }
    expect(verdict['order.ErrorRate']).toBe('within noise');
    expect(verdict['search.QPS']).toBe('within noise');
    expect(verdict['order.Requests']).toBe('not judged');
    // a name only one round has is not compared
    expect(figures.some((f) => f.Figure.startsWith('export.'))).toBe(false);
    const order = figures.find((f) => f.Figure === 'order.TP99');
    expect(order).toMatchObject({ Section: 'HTTP', Better: 'lower', Samples: [10, 10] });
    expect(order?.A).toBe(a.result.ByName?.find((n) => n.Name === 'order')?.TP99);
    expect(figures.find((f) => f.Figure === 'order.Requests')).toMatchObject({ A: 300, B: 300, Diff: 0 });
  });
});

describe('the percentile distribution', () => {
  test('0 … 99.999 evenly on the log axis of 1/(1-p), then 100; from the merged histogram', () => {
    const h = createLatencyHistogram(64);
    for (let i = 1; i <= 100_000; i++) recordUs(h, i * 10);
    const curve = percentileCurve(h);
    expect(curve[0]).toEqual({ Percentile: 0, Ms: expect.closeTo(0.01, 3) });
    expect(curve.map((p) => p.Percentile)).toEqual(expect.arrayContaining([90, 99, 99.9, 99.99, 99.999, 100]));
    expect(curve.length).toBe(102);
    const p99 = curve.find((p) => p.Percentile === 99);
    expect(p99?.Ms).toBeCloseTo(h.getValueAtPercentile(99) / 1000, 3);
    const ms = curve.map((p) => p.Ms);
    expect([...ms].sort((x, y) => x - y)).toEqual(ms);
    expect(percentileCurve(createLatencyHistogram())).toEqual([]);
  });

  test('drawn as SVG with a nines axis, both rounds overlaid in the comparison report', () => {
    const a = round(1, 20);
    const b = round(2, 40);
    const accA = new RoundAccumulator();
    a.seconds.forEach((s) => accA.addStored(s));
    const svg = renderSvg(percentileChartOption([{ name: 'A', points: accA.percentileCurve() }]));
    expect(svg).toMatch(/^<svg/);
    for (const label of ['0%', '90%', '99%', '99.9%', '99.99%']) expect(svg).toContain(`>${label}<`);
    const accB = new RoundAccumulator();
    b.seconds.forEach((s) => accB.addStored(s));
    const side = (name: string, points: ReturnType<typeof percentileCurve>) => ({ TaskName: name, RoundId: 10001, ServiceName: 's', Mode: 'manual', StartTime: '2026-12-06 10:00:00', Percentiles: points });
    const figures = compareRounds(a, b, { maxRegressionPct: 5 });
    const html = renderCompareHtml({ A: side('task-a', accA.percentileCurve()), B: side('task-b', accB.percentileCurve()), MaxRegressionPct: 5, Alpha: 0.01, Test: 'Mann-Whitney U', Figures: figures, Regressed: figures.filter((f) => f.Verdict === 'regressed').length, Improved: 0 });
    expect(html).toContain('A task-a:10001');
    expect(html).toContain('B task-b:10001');
    expect(html).toMatch(/<td>TP99<\/td>.*<td>regressed<\/td>/);
    expect(html).not.toContain('<script');
  });
});

describe('JUnit XML', () => {
  const base: Omit<RoundResultResponse, 'RequestId'> = {
    Schema: ROUND_RESULT_SCHEMA,
    TaskName: 'task-a',
    RoundId: 10002,
    ServiceName: 'svc & "co" <x>',
    Mode: 'manual',
    Status: 'Stopped',
    StartTime: '2026-12-06 10:00:00',
    EndTime: '2026-12-06 10:00:07',
    Result: round(1, 20).result,
    Thresholds: [
      { Metric: 'TP99', Expr: '< 10', Value: 21.5, Passed: false, AbortOnFail: true },
      { Metric: 'ErrorRate', Expr: '<= 0.01', Value: 0, Passed: true },
      { Metric: 'TTFT.P99', Expr: '< 5', Value: null, Passed: false },
    ],
    Verdict: { Outcome: 'failed', Thresholds: [], Text: 'Verdict: failed; threshold TP99 < 10 failed (TP99 21.5 ms) \u0001' },
    Percentiles: [],
    Series: [],
  };

  test('well-formed, escaped, one testcase per threshold plus the outcome; failures carry the measured value', () => {
    const text = renderJunit(base);
    expect(validateXml(text)).toBe(true);
    const doc = parseXml(text, { ignoreAttributes: false, attributeNamePrefix: '' }) as { testsuites: { tests: string; failures: string; testsuite: { testcase: { name: string; failure?: { message: string } }[] } } };
    expect(doc.testsuites).toMatchObject({ tests: '4', failures: '3' });
    const cases = doc.testsuites.testsuite.testcase;
    expect(cases.map((c) => c.name)).toEqual(['threshold TP99 &lt; 10', 'threshold ErrorRate &lt;= 0.01', 'threshold TTFT.P99 &lt; 5', 'round outcome']);
    expect(cases[0].failure?.message).toBe('TP99 = 21.5, expected &lt; 10');
    expect(cases[2].failure?.message).toBe('TTFT.P99 = not measured, expected &lt; 5');
    expect(text).toContain('value="svc &amp; &quot;co&quot; &lt;x&gt;"');
    expect(text).not.toContain('\u0001');
  });

  test('a passed round: no failure; no result: the outcome fails', () => {
    const passed = renderJunit({ ...base, Thresholds: [], Verdict: { Outcome: 'passed', Thresholds: [], Text: 'Verdict: passed' } });
    expect(passed).not.toContain('<failure');
    expect(passed).toContain('tests="1" failures="0"');
    const none = renderJunit({ ...base, Thresholds: [], Verdict: { Outcome: 'no result', Thresholds: [], Text: 'Verdict: no result' } });
    expect(none).toContain('<failure message="round 10002: no result" type="no result">');
    const capacity = renderJunit({ ...base, Thresholds: [], Verdict: { Outcome: 'no capacity', Thresholds: [], Text: 'Verdict: no capacity' } });
    expect(capacity).not.toContain('<failure');
  });
});
