import { roundTo, type LlmSloSpec, type LlmSweep, type LlmSweepStep, type ResolvedSweep } from '../../src/contract';

/**
 * The order of the loads a sweep tries (docs/llm.md, "Capacity under an
 * SLO"): `start`, `start + step`, ... up to `max` (and `max` itself when the
 * grid stops short of it); after the first load that fails, halfway between
 * the last good and the first bad load, `bisections` times, or until the two
 * are next to each other (0.1 req/s, one stream). No clock here: the mode
 * says when a load was judged and how.
 */
export class SweepSearch {
  load: number;
  phase: 'step' | 'bisect' = 'step';
  lastGood?: number;
  firstBad?: number;
  private bisectionsLeft: number;

  constructor(private readonly sweep: ResolvedSweep) {
    this.load = this.snap(sweep.start);
    this.bisectionsLeft = sweep.bisections;
  }

  /** A load on the grid loads are sent at: 0.1 req/s, or whole streams. */
  private snap(load: number): number {
    return this.sweep.by === 'concurrency' ? Math.round(load) : roundTo(load, 1);
  }

  /** The current load was judged: the next load, or undefined when the search is over. */
  next(good: boolean): number | undefined {
    if (good) this.lastGood = this.load;
    else this.firstBad = this.load;
    if (this.phase === 'step') {
      if (good) {
        if (this.load >= this.sweep.max) return undefined;
        this.load = this.snap(Math.min(this.sweep.max, this.load + this.sweep.step));
        return this.load;
      }
      // the first load already failed: there is nothing below it to search
      if (this.lastGood === undefined) return undefined;
      this.phase = 'bisect';
    } else {
      this.bisectionsLeft--;
    }
    return this.bisect();
  }

  private bisect(): number | undefined {
    const good = this.lastGood as number;
    const bad = this.firstBad as number;
    if (this.bisectionsLeft <= 0) return undefined;
    const grid = this.sweep.by === 'concurrency' ? Math.floor((good + bad) / 2) : roundTo((good + bad) / 2, 1);
    if (grid <= good || grid >= bad) return undefined;
    this.load = grid;
    return this.load;
  }
}

/** What a step measured on its steady requests, before it is judged. */
export interface SweepFigures {
  load: number;
  phase: 'step' | 'bisect';
  seconds: number;
  generatorLimitedSeconds: number;
  requests: number;
  failed: number;
  good: number;
  outputTokens: number;
  /** The sweep percentile of each metric, ms; null when no request succeeded. */
  ttft: number | null;
  tpot: number | null;
  e2el: number | null;
}

/** The limits a step is judged against. */
export interface SweepLimits {
  slo: LlmSloSpec;
  sloPercentile: number;
  minGoodputGain: number;
  faultTolerate: number;
}

const fmt = (v: number, digits = 1): string => String(roundTo(v, digits));

/** The bounds of `slo` the figures break, in words: `TTFT p90 312.4 ms > 200 ms`. */
function sloBroken(f: SweepFigures, l: SweepLimits): string[] {
  const out: string[] = [];
  const check = (name: string, value: number | null, bound: number | undefined): void => {
    if (bound !== undefined && value !== null && value > bound) out.push(`${name} p${l.sloPercentile} ${fmt(value)} ms > ${fmt(bound)} ms`);
  };
  check('TTFT', f.ttft, l.slo.ttft);
  check('TPOT', f.tpot, l.slo.tpot);
  check('E2EL', f.e2el, l.slo.e2el);
  return out;
}

/**
 * One step's verdict, in this order: every second generator-limited
 * (nothing of the service to judge), errors over faultTolerate, an SLO bound
 * broken at the sweep percentile, goodput that did not rise with the load
 * (by at least `minGoodputGain` of the load's relative growth over `base`,
 * the last good step), else good.
 */
export function judgeSweepStep(f: SweepFigures, limits: SweepLimits, base: LlmSweepStep | undefined): LlmSweepStep {
  const seconds = f.seconds;
  const per = (n: number): number => (seconds > 0 ? roundTo(n / seconds, 3) : 0);
  const errorRate = f.requests > 0 ? roundTo(f.failed / f.requests, 4) : 0;
  const goodput = per(f.good);
  const step = (verdict: LlmSweepStep['Verdict'], why: string): LlmSweepStep => ({
    Load: f.load,
    Phase: f.phase,
    Seconds: seconds,
    GeneratorLimitedSeconds: f.generatorLimitedSeconds,
    Requests: f.requests,
    ErrorRate: errorRate,
    RequestThroughput: per(f.requests - f.failed),
    Goodput: goodput,
    OutputTokenThroughput: per(f.outputTokens),
    TTFT: f.ttft === null ? null : roundTo(f.ttft, 3),
    TPOT: f.tpot === null ? null : roundTo(f.tpot, 3),
    E2EL: f.e2el === null ? null : roundTo(f.e2el, 3),
    Verdict: verdict,
    Why: why,
  });
  if (seconds === 0) return step('agents-behind', `every second at ${fmt(f.load)} was generator-limited: its latency is the generator's, not the service's`);
  if (f.requests === 0) return step('flat', `no request ended in its ${seconds} judged s`);
  if (errorRate > limits.faultTolerate) return step('errors', `error rate ${fmt(errorRate * 100, 2)}% > faultTolerate ${fmt(limits.faultTolerate * 100, 2)}%`);
  const broken = sloBroken(f, limits);
  if (broken.length > 0) return step('slo', broken.join(', '));
  const met = `every llm.slo bound met at p${limits.sloPercentile}`;
  if (!base) return goodput > 0 ? step('good', `${met}, goodput ${fmt(goodput, 2)}/s`) : step('flat', 'no request met every llm.slo bound');
  const expected = base.Goodput * (f.load / base.Load - 1);
  const needed = base.Goodput + limits.minGoodputGain * expected;
  if (goodput < needed) {
    return step('flat', `goodput ${fmt(goodput, 2)}/s did not rise with the load: ${fmt(base.Goodput, 2)}/s at ${fmt(base.Load)}, at least ${fmt(needed, 2)}/s needed (minGoodputGain ${limits.minGoodputGain})`);
  }
  return step('good', `${met}, goodput ${fmt(goodput, 2)}/s (${fmt(base.Goodput, 2)}/s at ${fmt(base.Load)})`);
}

/** The latency the curve and its knee are drawn with: the first metric `slo` bounds, in the order TTFT, TPOT, E2EL. */
export function curveMetric(slo: LlmSloSpec): 'TTFT' | 'TPOT' | 'E2EL' {
  if (slo.ttft !== undefined) return 'TTFT';
  if (slo.tpot !== undefined) return 'TPOT';
  return 'E2EL';
}

/**
 * Where latency bent against throughput: Kneedle (Satopää et al. 2011) over
 * the judged loads in load order, with x the achieved request throughput and
 * y the curve metric, both scaled to 0..1; the knee is the point where
 * x − y is largest: the most throughput bought before latency climbs. Null
 * with fewer than three points or a flat curve.
 */
export function sweepKnee(steps: readonly LlmSweepStep[], metric: 'TTFT' | 'TPOT' | 'E2EL'): LlmSweep['Knee'] {
  const points = steps
    .filter((s) => s.Seconds > 0 && s[metric] !== null)
    .map((s) => ({ load: s.Load, x: s.RequestThroughput, y: s[metric] as number }))
    .sort((a, b) => a.load - b.load);
  if (points.length < 3) return null;
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  if (x1 <= x0 || y1 <= y0) return null;
  let best = points[0];
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const p of points) {
    const score = (p.x - x0) / (x1 - x0) - (p.y - y0) / (y1 - y0);
    if (score > bestScore) {
      bestScore = score;
      best = p;
    }
  }
  return { Load: best.load, RequestThroughput: best.x, LatencyMetric: metric, LatencyMs: best.y };
}
