import { meetsThreshold, namedThresholdMetric, roundTo, thresholdUnit, type LlmResult, type ParsedThreshold, type RoundResult, type StatsPoint, type ThresholdResult } from '../../src/contract';
import { RoundAccumulator } from './aggregate';

/**
 * The task's thresholds judged on a round's figures (SPEC 7, docs/metrics.md).
 * One evaluation for the whole round, on the histograms merged from every
 * agent's frames bucket by bucket, never an average of agents' percentiles.
 *
 * Latency metrics (TP*, AvgRT, MinRT, MaxRT) are read from the seconds that
 * passed the validity gate: the start-up and every generator-limited second
 * are left out, since their latency is the agents', not the service's. A
 * round in which no second passed the gate is judged on all its seconds
 * (less the start-up, as its Result), as there is nothing else to judge.
 * ErrorRate and QPS are the round's own (every second counts: a failure is
 * the service's answer however late it was asked). LLM metrics are the
 * whole run's (`LLM.Total`, `LLM.Common`).
 */

/** The latency metrics, by threshold name, in RoundResult. */
const LATENCY: Readonly<Record<string, keyof RoundResult>> = {
  TP50: 'TP50',
  TP75: 'TP75',
  TP90: 'TP90',
  TP95: 'TP95',
  TP99: 'TP99',
  'TP99.9': 'TP999',
  AvgRT: 'AvgRT',
  MinRT: 'MinRT',
  MaxRT: 'MaxRT',
};

/** What thresholds are judged on. */
export interface ThresholdBasis {
  /** The round's result (counts and QPS; latency when no second passed the gate). */
  result: RoundResult;
  /** The same figures over the seconds that passed the validity gate; undefined when there was none. */
  service?: RoundResult;
  llm?: LlmResult;
}

/** The seconds that passed the validity gate, folded apart: what latency thresholds read. */
export class ServiceSeconds {
  private readonly accumulator = new RoundAccumulator();
  private count = 0;

  add(point: StatsPoint, rt: string, lag: string): void {
    if (point.Requests === 0 || point.Generator?.Limited === true) return;
    this.count++;
    this.accumulator.addSecond(point, rt, lag);
  }

  /** Undefined while no second passed the gate. */
  result(): RoundResult | undefined {
    return this.count > 0 ? this.accumulator.result() : undefined;
  }
}

function valueOf(metric: string, basis: ThresholdBasis): number | null {
  const latencyKey = LATENCY[metric];
  if (latencyKey !== undefined) {
    const source = basis.service ?? basis.result;
    // a round without a response has no latency, not a latency of 0
    return source.TotalRequests > 0 ? (source[latencyKey] as number) : null;
  }
  if (metric === 'ErrorRate') return basis.result.TotalRequests > 0 ? basis.result.ErrorRate : null;
  const byName = basis.result.ByName;
  if (byName) {
    // a named request's own figures, over every second of the round (a name has no service-seconds result)
    const named = namedThresholdMetric(metric, byName.map((n) => n.Name));
    const figures = named && byName.find((n) => n.Name === named.name);
    if (named && figures) return figures.Requests > 0 ? figures[named.stat === 'TP99.9' ? 'TP999' : named.stat] : null;
  }
  if (metric === 'QPS') return basis.result.QPS;
  const llm = basis.llm;
  if (!llm) return null;
  const dot = metric.indexOf('.');
  if (dot < 0) {
    const common = (llm.Common as Record<string, number> | undefined)?.[metric];
    return typeof common === 'number' ? common : null;
  }
  const stat = (llm.Total as Record<string, Record<string, number> | undefined>)[metric.slice(0, dot)];
  const value = stat?.[metric.slice(dot + 1)];
  return typeof value === 'number' && (stat?.N ?? 0) > 0 ? value : null;
}

/**
 * Each threshold's value and whether it held. A metric with nothing measured
 * (no response yet) has Value null and has not held: a round with nothing to
 * judge meets no bound.
 */
export function evaluateThresholds(thresholds: readonly ParsedThreshold[], basis: ThresholdBasis): ThresholdResult[] {
  return thresholds.map((t) => {
    const value = valueOf(t.metric, basis);
    return {
      Metric: t.metric,
      Expr: t.expr,
      Value: value === null ? null : roundTo(value, 6),
      Passed: value !== null && meetsThreshold(value, t.op, t.bound),
      ...(t.abortOnFail ? { AbortOnFail: true } : {}),
    };
  });
}

/** `TP99 < 200 failed (TP99 212.4 ms)`: a threshold's outcome in words. */
export function describeThreshold(result: ThresholdResult): string {
  const value = result.Value === null ? 'nothing measured' : `${result.Metric} ${fmtValue(result.Value)}${thresholdUnit(result.Metric)}`;
  return `${result.Metric} ${result.Expr} ${result.Passed ? 'held' : 'failed'} (${value})`;
}

function fmtValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(roundTo(value, Math.abs(value) >= 100 ? 1 : 4));
}
