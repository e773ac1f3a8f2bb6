import { commonMetricName, LLM_METRICS, roundTo } from '../../src/contract';
import type { Better, CompareFigure, FigureVerdict, LlmMetricKey, LlmResult, RoundResult, StatsPoint } from '../../src/contract';
import type { StoredSecond } from './aggregate';
import { mannWhitneyU } from './significance';

/**
 * Two rounds compared figure by figure (`bench compare`, docs/report.md).
 * A figure regressed when it moved the wrong way by at least the floor
 * (`--max-regression`) AND its per-second values differ significantly
 * between the rounds (Mann–Whitney U, two-sided, at ALPHA): the floor alone
 * would call noise a regression on a jittery service, the test alone would
 * call a 0.3 % shift one on a quiet service.
 */
export const DEFAULT_MAX_REGRESSION_PCT = 5;
export const ALPHA = 0.01;
export const TEST_NAME = 'Mann-Whitney U, two-sided, on per-second values';

/** One round as compare reads it: its merged figures and its stored seconds. */
export interface CompareRound {
  result: RoundResult;
  llm?: LlmResult;
  seconds: readonly StoredSecond[];
}

export interface CompareOptions {
  maxRegressionPct: number;
  alpha?: number;
}

interface FigureSpec {
  figure: string;
  section: 'HTTP' | 'LLM';
  better: Better;
  value: (r: CompareRound) => number | undefined;
  /** The figure's per-second values; absent: the figure has none and is not judged. */
  samples?: (r: CompareRound) => number[];
}

/** Seconds in which responses came. */
function active(r: CompareRound): StatsPoint[] {
  return r.seconds.map((s) => s.point).filter((p) => p.Requests > 0);
}

/** Seconds for latency: the active ones after the start-up seconds the round's latency figures left out. */
function latencySeconds(r: CompareRound): StatsPoint[] {
  return active(r).slice(r.result.WarmupExcludedS ?? 0);
}

/** Seconds for rates: the first and last active seconds are usually partial, so they are dropped when enough remain. */
function rateSeconds(r: CompareRound): StatsPoint[] {
  const points = active(r);
  return points.length >= 4 ? points.slice(1, -1) : points;
}

const RT_FIGURES: [string, keyof RoundResult, keyof StatsPoint['RT']][] = [
  ['AvgRT', 'AvgRT', 'Avg'],
  ['MinRT', 'MinRT', 'Min'],
  ['TP50', 'TP50', 'TP50'],
  ['TP75', 'TP75', 'TP75'],
  ['TP90', 'TP90', 'TP90'],
  ['TP95', 'TP95', 'TP95'],
  ['TP99', 'TP99', 'TP99'],
  ['TP99.9', 'TP999', 'TP999'],
  ['MaxRT', 'MaxRT', 'Max'],
];

/** Counts and totals: shown with their difference, not judged (they follow the round's length). */
const COUNTS: (keyof RoundResult)[] = ['TotalRequests', 'SuccessRequests', 'ErrorRequests', 'Dropped', 'BytesIn', 'BytesOut', 'DurationS'];

function httpFigures(): FigureSpec[] {
  const num = (key: keyof RoundResult) => (r: CompareRound): number | undefined => {
    const v = r.result[key];
    return typeof v === 'number' ? v : undefined;
  };
  return [
    { figure: 'QPS', section: 'HTTP', better: 'higher', value: num('QPS'), samples: (r) => rateSeconds(r).map((p) => p.Requests) },
    ...RT_FIGURES.map(([figure, key, rt]): FigureSpec => ({ figure, section: 'HTTP', better: 'lower', value: num(key), samples: (r) => latencySeconds(r).map((p) => p.RT[rt]) })),
    { figure: 'ErrorRate', section: 'HTTP', better: 'lower', value: num('ErrorRate'), samples: (r) => active(r).map((p) => p.Errors / p.Requests) },
    { figure: 'SendLagP99', section: 'HTTP', better: 'lower', value: num('SendLagP99'), samples: (r) => latencySeconds(r).map((p) => p.SendLagP99) },
    { figure: 'GeneratorLimitedShare', section: 'HTTP', better: null, value: num('GeneratorLimitedShare') },
    ...COUNTS.map((key): FigureSpec => ({ figure: key, section: 'HTTP', better: null, value: num(key) })),
  ];
}

/** A named request's latency figures, as thresholds name them (`search.TP99`). */
const NAMED_RT: [string, 'TP50' | 'TP90' | 'TP99' | 'TP999'][] = [['TP50', 'TP50'], ['TP90', 'TP90'], ['TP99', 'TP99'], ['TP99.9', 'TP999']];

/**
 * The figures of each request name both rounds have (weighted requests, a
 * replay's paths), judged like the round's own on the name's per-second
 * figures; its request count is shown, not judged.
 */
function namedFigures(a: RoundResult, b: RoundResult): FigureSpec[] {
  const inB = new Set((b.ByName ?? []).map((n) => n.Name));
  const specs: FigureSpec[] = [];
  for (const { Name: name } of a.ByName ?? []) {
    if (!inB.has(name)) continue;
    const figures = (r: CompareRound) => r.result.ByName?.find((n) => n.Name === name);
    const perSecond = (points: StatsPoint[]) => points.flatMap((p) => p.ByName?.filter((n) => n.Name === name && n.Requests > 0) ?? []);
    specs.push(
      { figure: `${name}.QPS`, section: 'HTTP', better: 'higher', value: (r) => figures(r)?.QPS, samples: (r) => rateSeconds(r).map((p) => p.ByName?.find((n) => n.Name === name)?.Requests ?? 0) },
      ...NAMED_RT.map(([stat, key]): FigureSpec => ({ figure: `${name}.${stat}`, section: 'HTTP', better: 'lower', value: (r) => figures(r)?.[key], samples: (r) => perSecond(latencySeconds(r)).map((n) => n[key]) })),
      { figure: `${name}.ErrorRate`, section: 'HTTP', better: 'lower', value: (r) => figures(r)?.ErrorRate, samples: (r) => perSecond(active(r)).map((n) => n.Errors / n.Requests) },
      { figure: `${name}.Requests`, section: 'HTTP', better: null, value: (r) => figures(r)?.Requests },
    );
  }
  return specs;
}

const LOWER_IS_BETTER: ReadonlySet<LlmMetricKey> = new Set(['TTFT', 'TPOT', 'ITL', 'E2EL', 'E2ELWithQueue', 'ClientQueueTime']);

/** The per-second means of an LLM metric: each second's sum over its count. */
function llmMeans(metric: LlmMetricKey) {
  return (r: CompareRound): number[] =>
    r.seconds.flatMap((s) => {
      const m = s.llm?.metrics[metric];
      return m && m.n > 0 ? [m.sum / m.n] : [];
    });
}

/** Common metrics with a per-second counterpart; the others are shown, not judged. */
const COMMON_SAMPLES: Record<string, { better: Better; samples: (r: CompareRound) => number[] }> = {
  RequestThroughput: { better: 'higher', samples: (r) => rateSeconds(r).map((p) => p.Requests) },
  OutputTokenThroughput: { better: 'higher', samples: (r) => rateSeconds(r).map((p) => p.OutputTPS ?? 0) },
};

function llmFigures(a: LlmResult, b: LlmResult): FigureSpec[] {
  const specs: FigureSpec[] = [];
  for (const metric of LLM_METRICS) {
    const rowA = a.Total[metric];
    const rowB = b.Total[metric];
    if (!rowA || !rowB) continue;
    const better: Better = LOWER_IS_BETTER.has(metric) ? 'lower' : metric === 'OutputTokenThroughput' ? 'higher' : null;
    for (const stat of Object.keys(rowA)) {
      if (stat === 'N' || !(stat in rowB)) continue;
      specs.push({
        figure: `${metric}.${stat}`,
        section: 'LLM',
        better,
        value: (r) => (r.llm?.Total[metric] as Record<string, number> | undefined)?.[stat],
        // every statistic of a metric is judged on the spread of its per-second means: the seconds' own percentiles of a few requests say less
        ...(better ? { samples: llmMeans(metric) } : {}),
      });
    }
  }
  for (const key of Object.keys(a.Common)) {
    const judged = COMMON_SAMPLES[key];
    specs.push({
      figure: commonMetricName(key),
      section: 'LLM',
      better: judged?.better ?? null,
      value: (r) => (r.llm?.Common as Record<string, number> | undefined)?.[key],
      ...(judged ? { samples: judged.samples } : {}),
    });
  }
  return specs;
}

/** Regressed, improved or within noise: the direction, the floor and the test must all agree. */
export function judgeFigure(better: Better, a: number, b: number, pValue: number | null, options: CompareOptions): FigureVerdict {
  if (better === null || pValue === null) return 'not judged';
  const diff = b - a;
  if (diff === 0) return 'within noise';
  const pct = a === 0 ? Infinity : (Math.abs(diff) / Math.abs(a)) * 100;
  if (pct < options.maxRegressionPct || pValue >= (options.alpha ?? ALPHA)) return 'within noise';
  const worse = better === 'higher' ? diff < 0 : diff > 0;
  return worse ? 'regressed' : 'improved';
}

/** Every figure both rounds have, A against B. */
export function compareRounds(a: CompareRound, b: CompareRound, options: CompareOptions): CompareFigure[] {
  const specs = [...httpFigures(), ...namedFigures(a.result, b.result), ...(a.llm && b.llm ? llmFigures(a.llm, b.llm) : [])];
  const figures: CompareFigure[] = [];
  for (const spec of specs) {
    const va = spec.value(a);
    const vb = spec.value(b);
    if (va === undefined || vb === undefined) continue;
    const sa = spec.samples?.(a) ?? [];
    const sb = spec.samples?.(b) ?? [];
    const pValue = spec.samples ? mannWhitneyU(sa, sb).p : null;
    const diff = vb - va;
    figures.push({
      Figure: spec.figure,
      Section: spec.section,
      A: va,
      B: vb,
      Diff: roundTo(diff, 6),
      DiffPct: va === 0 ? (diff === 0 ? 0 : null) : roundTo((diff / Math.abs(va)) * 100, 2),
      Better: spec.better,
      PValue: pValue === null ? null : Number(pValue.toPrecision(4)),
      Samples: [sa.length, sb.length],
      Verdict: judgeFigure(spec.better, va, vb, pValue, options),
    });
  }
  return figures;
}
