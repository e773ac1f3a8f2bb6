import {
  isScheduledLlmMetric,
  LLM_METRICS,
  percentileKey,
  roundTo,
  type LlmCommonMetrics,
  type LlmMetricKey,
  type LlmMetricSecond,
  type LlmRequestRecord,
  type LlmSecondFrame,
  type LlmSloSpec,
  type LlmSpec,
  type LlmStatistic,
  type LlmTable,
} from '../../../src/contract';
import { maxOf, minOf, sumInto } from '../fold';
import { decodeHistogram, LatencyHistogram, recordUs, valuesAtRanks } from '../../../src/measure/histogram';
import { meetsSlo } from '../../../src/measure/llm-request';
import { LLM_HIGHEST, LLM_SCALE, LlmMetricMoments } from '../../../src/measure/llm-second';

/** A second of an LLM round as stored: every agent's frame merged, and the requests meeting the SLO. */
export interface LlmStoredSecond extends LlmSecondFrame {
  /** Successful requests that met every `llm.slo` bound (all successful ones without slo). */
  good: number;
}

/**
 * The shortest steady stage whose figures are shown, ms. A stage shorter
 * than a second is a moment (a rate run's one peak), whatever its E2EL.
 */
export const MIN_STABLE_STAGE_MS = 1000;

/**
 * Why a steady stage's figures are not shown, or undefined when they are:
 * AISBench's throughputs of the stage are reliable only when the longest
 * E2EL of the run is under a third of the stage (its steady-state guide),
 * and a stage shorter than MIN_STABLE_STAGE_MS is not a stage.
 */
export function stableStageAbsence(durationMs: number | null, maxE2elMs: number, most = 0, heldAt?: StageHeldAt): string | undefined {
  if (durationMs === null) return 'no steady stage: no request was in flight';
  if (heldAt === 'sweep') return "no steady stage: a sweep's load changes step by step; each load's figures are in LLM.Sweep";
  if (heldAt === null) return 'no steady stage: in rate mode without maxConcurrency nothing holds the requests in flight at a most';
  if (heldAt !== undefined && most < heldAt) return `no steady stage: in rate mode the requests in flight never reached maxConcurrency (${most} of ${heldAt})`;
  const d = roundTo(durationMs, 1);
  if (durationMs < MIN_STABLE_STAGE_MS) return `steady stage not shown: it lasted ${d} ms, under the ${MIN_STABLE_STAGE_MS} ms minimum`;
  if (maxE2elMs * 3 >= durationMs) return `steady stage not shown: it lasted ${d} ms, not 3 times the longest E2EL (${roundTo(maxE2elMs, 1)} ms), AISBench's rule for reliable figures`;
  return undefined;
}

/**
 * Where a task's steady stage is held: at `maxConcurrency` reached in rate
 * mode (a number); nowhere in rate mode without it (null), since there the
 * arrivals, not the tester, set how many are in flight and the most is a
 * passing peak (rate 10 req/s once showed a "stage" of 5 ms and 142.95
 * req/s); nowhere in a sweep, whose load changes step by step and is judged
 * load by load ('sweep'); undefined: at the most in flight, which the
 * closed-loop modes' streams hold.
 */
export type StageHeldAt = number | null | 'sweep' | undefined;

export function stageHeldAt(spec: Pick<LlmSpec, 'testMode' | 'maxConcurrency'> | undefined): StageHeldAt {
  if (spec?.testMode === 'sweep') return 'sweep';
  if (spec?.testMode !== 'rate') return undefined;
  return spec.maxConcurrency ?? null;
}

/**
 * The request rate a task asks for, req/s: rate mode's `requestRate` (in
 * sessions mode it is sessions a second, not requests); undefined otherwise.
 * Common gives it beside the rate achieved.
 */
export function askedRequestRate(spec: Pick<LlmSpec, 'testMode' | 'requestRate' | 'mode'> | undefined): number | undefined {
  if (spec?.testMode !== 'rate' || spec.mode === 'sessions') return undefined;
  return spec.requestRate;
}

/** What a steady stage keeps of one request: its send and end, its table values, and its flags. */
export interface StageRequest {
  sendMs: number;
  endMs: number;
  success: boolean;
  usage: boolean;
  good: boolean;
  values: Record<LlmMetricKey, number | null>;
  /** Its token gaps (`ITLGap`), ms. */
  gaps: ArrayLike<number>;
}

/** One metric over many seconds: what a stage adds up of it. */
class MetricTotals extends LlmMetricMoments {
  addValue(value: number, scale: number): void {
    recordUs(this.h, value * scale, LLM_HIGHEST);
    this.n++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  add(m: LlmMetricSecond, decoded?: LatencyHistogram): void {
    const h = decoded ?? decodeHistogram(m.h, 32, LLM_HIGHEST);
    if (h.totalCount > 0) this.h.add(h);
    this.n += m.n;
    this.sum += m.sum;
    this.min = Math.min(this.min, m.min);
    this.max = Math.max(this.max, m.max);
  }

  /**
   * Average, Min, Max and N exact; percentiles as numpy (and AISBench and
   * `bench recompute`) define them, interpolated between the two ranks
   * around p/100 * (N - 1), with the values at those ranks from the
   * histogram (each within 0.05%), never outside [Min, Max]. A nearest-rank
   * percentile is not within 0.1% of numpy's on a bimodal sample: with the
   * two middle values in different modes, the median is between them.
   */
  statistic(scale: number, percentiles: readonly number[]): LlmStatistic {
    if (this.n === 0) return emptyStatistic(percentiles);
    const wanted = [...new Set([50, ...percentiles])];
    const ranks: number[] = [];
    for (const p of wanted) {
      const rank = (p / 100) * (this.n - 1);
      ranks.push(Math.floor(rank), Math.ceil(rank));
    }
    const sorted = [...new Set(ranks)].sort((a, b) => a - b);
    const values = new Map<number, number>();
    valuesAtRanks(this.h, sorted).forEach((v, i) => values.set(sorted[i], Math.min(this.max, Math.max(this.min, v / scale))));
    // the first and the last rank are Min and Max, known exactly
    values.set(0, this.min);
    values.set(this.n - 1, this.max);
    const at = (p: number): number => {
      const rank = (p / 100) * (this.n - 1);
      const lo = values.get(Math.floor(rank)) ?? 0;
      const hi = values.get(Math.ceil(rank)) ?? 0;
      return roundTo(lo + (hi - lo) * (rank - Math.floor(rank)), 4);
    };
    return statisticRow(roundTo(this.sum / this.n, 4), roundTo(this.min, 4), roundTo(this.max, 4), this.n, percentiles, at);
  }
}

/** A table row in its key order: Average, Min, Max, Median, the asked percentiles, N (AISBench's columns). */
export function statisticRow(average: number, min: number, max: number, n: number, percentiles: readonly number[], at: (p: number) => number): LlmStatistic {
  const row = { Average: average, Min: min, Max: max, Median: at(50) } as LlmStatistic;
  for (const p of percentiles) if (p !== 50) row[percentileKey(p) as `P${string}`] = at(p);
  row.N = n;
  return row;
}

export function emptyStatistic(percentiles: readonly number[]): LlmStatistic {
  return statisticRow(0, 0, 0, 0, percentiles, () => 0);
}

/** The counters of a stored second that a stage adds up. */
const STAGE_SUMS = ['requests', 'success', 'good', 'usage', 'busyMs'] as const;
type StageSum = (typeof STAGE_SUMS)[number];

/**
 * The sum of some seconds of an LLM round: the whole run, its steady stage,
 * or the seconds after the steady stage seen so far. Adding a second costs
 * the same whatever the run's length, and the state is a fixed set of
 * histograms and counters.
 */
export class LlmStageTotals {
  private readonly metrics: Map<LlmMetricKey, MetricTotals>;
  requests = 0;
  success = 0;
  good = 0;
  usage = 0;
  busyMs = 0;
  maxInFlight = 0;
  seconds = 0;
  firstSendMs: number | null = null;
  lastEndMs: number | null = null;
  /** The latest send; undefined once a second came without it (stored before agents sent it). */
  lastSendMs: number | null | undefined = null;

  constructor(countWidth: 32 | 64 = 64) {
    this.metrics = new Map(LLM_METRICS.map((k) => [k, new MetricTotals(countWidth)]));
  }

  /** One request, added by itself (a steady stage counts the requests sent in it). */
  addRequest(q: StageRequest): void {
    this.requests++;
    this.busyMs += Math.max(0, q.endMs - q.sendMs);
    this.firstSendMs = minOf(this.firstSendMs, q.sendMs);
    this.lastEndMs = maxOf(this.lastEndMs, q.endMs);
    if (this.lastSendMs !== undefined) this.lastSendMs = maxOf(this.lastSendMs, q.sendMs);
    if (!q.success) return;
    this.success++;
    if (q.usage) this.usage++;
    if (q.good) this.good++;
    for (const key of LLM_METRICS) {
      const v = q.values[key];
      if (v !== null) this.metrics.get(key)?.addValue(v, LLM_SCALE[key]);
    }
    const gaps = this.metrics.get('ITLGap') as MetricTotals;
    for (let i = 0; i < q.gaps.length; i++) gaps.addValue(q.gaps[i], LLM_SCALE.ITLGap);
  }

  /** The largest value of a metric so far (0 when none). */
  metricMax(key: LlmMetricKey): number {
    const m = this.metrics.get(key);
    return m && m.n > 0 ? m.max : 0;
  }

  addSecond(s: LlmStoredSecond, decoded?: ReadonlyMap<LlmMetricKey, LatencyHistogram>): void {
    this.addCounters(s, 1);
    for (const key of LLM_METRICS) {
      const m = s.metrics[key];
      if (m) this.metrics.get(key)?.add(m, decoded?.get(key));
    }
  }

  /** The counters of a stored second that a stage adds up. */
  private addCounters(o: Pick<LlmStoredSecond, StageSum | 'maxInFlight' | 'firstSendMs' | 'lastEndMs' | 'lastSendMs'>, seconds: number): void {
    this.seconds += seconds;
    sumInto(this, o, STAGE_SUMS);
    this.maxInFlight = Math.max(this.maxInFlight, o.maxInFlight);
    this.firstSendMs = minOf(this.firstSendMs, o.firstSendMs);
    this.lastEndMs = maxOf(this.lastEndMs, o.lastEndMs);
    if (o.lastSendMs === undefined && o.requests > 0) this.lastSendMs = undefined;
    else if (this.lastSendMs !== undefined) this.lastSendMs = maxOf(this.lastSendMs, o.lastSendMs ?? null);
  }

  reset(): void {
    this.requests = 0;
    this.success = 0;
    this.good = 0;
    this.usage = 0;
    this.busyMs = 0;
    this.maxInFlight = 0;
    this.seconds = 0;
    this.firstSendMs = null;
    this.lastEndMs = null;
    this.lastSendMs = null;
    for (const m of this.metrics.values()) m.reset();
  }

  /** The per-second figures of the stats points: means of TTFT and TPOT, output tokens, in-flight. */
  metricMean(key: LlmMetricKey): number | undefined {
    const m = this.metrics.get(key);
    return m && m.n > 0 ? roundTo(m.sum / m.n, 4) : undefined;
  }

  metricSum(key: LlmMetricKey): number {
    return this.metrics.get(key)?.sum ?? 0;
  }

  table(percentiles: readonly number[]): LlmTable {
    const table: Partial<Record<LlmMetricKey, LlmStatistic>> = {};
    for (const key of LLM_METRICS) {
      const m = this.metrics.get(key);
      if (isScheduledLlmMetric(key) && !(m && m.n > 0)) continue;
      table[key] = m ? m.statistic(LLM_SCALE[key], percentiles) : emptyStatistic(percentiles);
    }
    return table as LlmTable;
  }

  /** The stage's common metrics over `durationMs`, as `commonMetrics` computes them from records; `askedRatePerS`: `askedRequestRate` of the task. */
  common(durationMs: number, maxConcurrency: number, askedRatePerS?: number): LlmCommonMetrics {
    const inputTokens = this.metricSum('InputTokens');
    const outputTokens = this.metricSum('OutputTokens');
    return commonFromSums({
      durationMs,
      maxConcurrency,
      requests: this.requests,
      success: this.success,
      good: this.good,
      inputTokens,
      outputTokens,
      ttftSumMs: this.metricSum('TTFT'),
      busyMs: this.busyMs,
      ...(askedRatePerS !== undefined ? { askedRatePerS } : {}),
      ...(this.lastSendMs !== undefined && this.firstSendMs !== null && this.lastSendMs !== null ? { sends: { firstMs: this.firstSendMs, lastMs: this.lastSendMs } } : {}),
    });
  }

  /** All the seconds merged into one stored second (the per-second merge of several agents' frames uses it). */
  toSecond(extra: { maxInFlight: number; maxFromMs: number | null; maxUntilMs: number | null }): LlmStoredSecond {
    const metrics: Partial<Record<LlmMetricKey, LlmMetricSecond>> = {};
    for (const [key, m] of this.metrics) if (m.n > 0) metrics[key] = m.toSecond();
    return {
      requests: this.requests,
      success: this.success,
      usage: this.usage,
      metrics,
      maxInFlight: extra.maxInFlight,
      busyMs: roundTo(this.busyMs, 3),
      maxFromMs: extra.maxFromMs,
      maxUntilMs: extra.maxUntilMs,
      firstSendMs: this.firstSendMs,
      lastEndMs: this.lastEndMs,
      ...(this.lastSendMs !== undefined ? { lastSendMs: this.lastSendMs } : {}),
      good: this.good,
    };
  }
}

/** The sums a stage's common metrics are made of. */
export interface CommonSums {
  durationMs: number;
  maxConcurrency: number;
  requests: number;
  success: number;
  good: number;
  inputTokens: number;
  outputTokens: number;
  ttftSumMs: number;
  busyMs: number;
  /** Rate mode: the request rate asked for (req/s), and the first and last send of the stage's requests. */
  askedRatePerS?: number;
  sends?: { firstMs: number; lastMs: number };
}

/**
 * The rate the requests were sent at, req/s: (requests - 1) over the span
 * from the first send to the last, the mean interval between sends as the
 * asked rate's is 1 / rate (0 for fewer than two sends).
 */
export function achievedRequestRate(requests: number, firstSendMs: number, lastSendMs: number): number {
  const spanS = (lastSendMs - firstSendMs) / 1000;
  return requests >= 2 && spanS > 0 ? roundTo((requests - 1) / spanS, 4) : 0;
}

/**
 * Common metrics of a stage, by AISBench's names without spaces. Durations ms,
 * throughputs per second of `durationMs`; Concurrency is the mean number of
 * requests in flight (busy time / duration), shown no higher than
 * MaxConcurrency as AISBench does. PrefillTokenThroughput is AISBench's
 * "Prefill Token Throughput": the stage's input tokens over the sum of its
 * successful requests' TTFT (not over the duration).
 */
export function commonFromSums(s: CommonSums): LlmCommonMetrics {
  const durationS = s.durationMs > 0 ? s.durationMs / 1000 : 0;
  const per = (v: number): number => (durationS > 0 ? roundTo(v / durationS, 4) : 0);
  const ttftS = s.ttftSumMs / 1000;
  return {
    BenchmarkDuration: roundTo(s.durationMs, 4),
    TotalRequests: s.requests,
    FailedRequests: s.requests - s.success,
    SuccessRequests: s.success,
    Concurrency: s.durationMs > 0 ? roundTo(Math.min(s.maxConcurrency, s.busyMs / s.durationMs), 4) : 0,
    MaxConcurrency: s.maxConcurrency,
    RequestThroughput: per(s.success),
    // rate mode: what was asked beside what was sent (maxConcurrency, or a slow agent, holds a schedule back)
    ...(s.askedRatePerS !== undefined ? { AskedRequestRate: s.askedRatePerS } : {}),
    ...(s.askedRatePerS !== undefined && s.sends ? { AchievedRequestRate: achievedRequestRate(s.requests, s.sends.firstMs, s.sends.lastMs) } : {}),
    TotalInputTokens: s.inputTokens,
    PrefillTokenThroughput: ttftS > 0 ? roundTo(s.inputTokens / ttftS, 4) : 0,
    TotalGeneratedTokens: s.outputTokens,
    InputTokenThroughput: per(s.inputTokens),
    OutputTokenThroughput: per(s.outputTokens),
    TotalTokenThroughput: per(s.inputTokens + s.outputTokens),
    Goodput: per(s.good),
  };
}

/**
 * Merges the LLM frames that several agents sent for one second. The
 * in-flight figures add up (each agent's most, their integrals); the moments
 * at the most are the latest start and the earliest end among the agents,
 * the span where every agent was at its own most.
 */
export class LlmSecondMerge {
  private readonly totals = new LlmStageTotals(32);
  private maxInFlight = 0;
  private maxFromMs: number | null = null;
  private maxUntilMs: number | null = null;

  constructor(private readonly slo: LlmSloSpec | undefined) {}

  /** `decoded`: the frame's metric histograms, already decoded (decodeFrame). */
  add(frame: LlmSecondFrame, records: readonly LlmRequestRecord[] | undefined, decoded?: ReadonlyMap<LlmMetricKey, LatencyHistogram>): void {
    let good = frame.success;
    if (this.slo && records) good = records.reduce((n, r) => n + (meetsSlo(r, this.slo) ? 1 : 0), 0);
    this.totals.addSecond({ ...frame, good }, decoded);
    this.maxInFlight += frame.maxInFlight;
    if (frame.maxFromMs !== null) this.maxFromMs = maxOf(this.maxFromMs, frame.maxFromMs);
    if (frame.maxUntilMs !== null) this.maxUntilMs = minOf(this.maxUntilMs, frame.maxUntilMs);
  }

  stored(): LlmStoredSecond {
    const from = this.maxFromMs;
    const until = from !== null && this.maxUntilMs !== null ? Math.max(from, this.maxUntilMs) : this.maxUntilMs;
    return this.totals.toSecond({ maxInFlight: this.maxInFlight, maxFromMs: from, maxUntilMs: until });
  }
}

/** Decodes a stored second's histograms once, for the several stages it is added to. */
export function decodeLlmSecond(s: LlmStoredSecond): Map<LlmMetricKey, LatencyHistogram> {
  const out = new Map<LlmMetricKey, LatencyHistogram>();
  for (const key of LLM_METRICS) {
    const m = s.metrics[key];
    if (m) out.set(key, decodeHistogram(m.h, 32, LLM_HIGHEST));
  }
  return out;
}
