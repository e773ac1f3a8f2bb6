import type { FieldError } from './errors';
import { isObject } from './field-checks';
import { LLM_METRICS } from './llm-protocol';
import type { LlmCommonMetrics } from './llm-results';

/**
 * The task's top-level `thresholds` (SPEC 7): result metric names mapped to
 * a comparison the round's figure must meet. What a name means and where its
 * value comes from is the controller's (`controller/metrics/thresholds.ts`);
 * this file says which names and expressions a task may hold, so the CLI
 * refuses a bad one before anything is sent.
 */

/** `"< 200"`, or the object form with an early end. */
export type ThresholdSpec = string | { expr: string; abortOnFail?: boolean; delayAbortEvalS?: number };

export type ThresholdOp = '<' | '<=' | '>' | '>=' | '==';

export interface ParsedThreshold {
  metric: string;
  /** The expression as written, trimmed: what the result shows. */
  expr: string;
  op: ThresholdOp;
  bound: number;
  abortOnFail: boolean;
  /** Seconds of the round before a failed abortOnFail threshold may end it. */
  delayAbortEvalS: number;
}

/** The figures of RoundResult a threshold may name; `TP99.9` is RoundResult's TP999. Times ms, ErrorRate a fraction, QPS req/s. */
export const HTTP_THRESHOLD_METRICS = ['TP50', 'TP75', 'TP90', 'TP95', 'TP99', 'TP99.9', 'AvgRT', 'MinRT', 'MaxRT', 'ErrorRate', 'QPS'] as const;

/** Every LLM common metric, once: a Record so that a metric added to LlmCommonMetrics must be added here. */
const LLM_COMMON: Record<keyof LlmCommonMetrics, true> = {
  BenchmarkDuration: true,
  TotalRequests: true,
  FailedRequests: true,
  SuccessRequests: true,
  Concurrency: true,
  MaxConcurrency: true,
  RequestThroughput: true,
  AskedRequestRate: true,
  AchievedRequestRate: true,
  TotalInputTokens: true,
  PrefillTokenThroughput: true,
  TotalGeneratedTokens: true,
  InputTokenThroughput: true,
  OutputTokenThroughput: true,
  TotalTokenThroughput: true,
  Goodput: true,
};
export const LLM_COMMON_THRESHOLD_METRICS = Object.keys(LLM_COMMON) as (keyof LlmCommonMetrics)[];

/** The statistics of an LLM table row besides its percentiles (`P99`, `P99.9`: the task's llm.percentiles). */
export const LLM_THRESHOLD_STATS = ['Average', 'Min', 'Max', 'Median'] as const;

/** What `<name>.<stat>` may judge of a task's named request (requests.ts): its own figures in the result's ByName. */
export const NAMED_THRESHOLD_STATS = ['TP50', 'TP90', 'TP99', 'TP99.9', 'ErrorRate', 'QPS'] as const;

/** The named request and statistic a metric names (`search.TP99`), or undefined; names may hold dots, so each is tried. */
export function namedThresholdMetric(metric: string, requestNames: readonly string[]): { name: string; stat: (typeof NAMED_THRESHOLD_STATS)[number] } | undefined {
  for (const name of requestNames) {
    if (!metric.startsWith(`${name}.`)) continue;
    const stat = metric.slice(name.length + 1);
    if ((NAMED_THRESHOLD_STATS as readonly string[]).includes(stat)) return { name, stat: stat as (typeof NAMED_THRESHOLD_STATS)[number] };
  }
  return undefined;
}

/** The name a replay's paths past the cap of names are counted under together (controller/data/replay.ts). */
export const REPLAY_OTHER_NAME = 'other';

/**
 * A replay's thresholds on its paths (`/api/b.TP99`, `other.ErrorRate`): the
 * log's names are known only once it is read, so at create any path (from
 * `/`) or `other` with a statistic is taken, and the controller checks each
 * against the log when it reads it (a path the log lacks fails the task).
 */
export function replayPathThresholds(thresholds: unknown): { metric: string; name: string }[] {
  if (!isObject(thresholds)) return [];
  return Object.keys(thresholds).flatMap((metric) => {
    const stat = NAMED_THRESHOLD_STATS.find((s) => metric.endsWith(`.${s}`));
    const name = stat === undefined ? '' : metric.slice(0, -(stat.length + 1));
    return name.startsWith('/') || name === REPLAY_OTHER_NAME ? [{ metric, name }] : [];
  });
}

const MAX_THRESHOLDS = 50;
const MAX_EXPR_LENGTH = 64;
/** As the longest round: a delay past it could never abort. */
const MAX_DELAY_ABORT_S = 86_400;

const EXPR = /^\s*(<=|>=|==|<|>)\s*(-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*$/;

/** `< 200` into its parts; a string saying what is wrong otherwise. */
export function parseThresholdExpr(text: string): { op: ThresholdOp; bound: number } | string {
  if (text.length > MAX_EXPR_LENGTH) return `expression must be at most ${MAX_EXPR_LENGTH} characters`;
  const m = EXPR.exec(text);
  if (!m) return `bad expression ${JSON.stringify(text)}: write an operator (<, <=, >, >=, ==) and a number, e.g. "< 200"`;
  const bound = Number(m[2]);
  if (!Number.isFinite(bound)) return `bad expression ${JSON.stringify(text)}: the number is out of range`;
  return { op: m[1] as ThresholdOp, bound };
}

const LLM_TIMES = ['TTFT', 'TPOT', 'ITL', 'E2EL'];

/** The unit a threshold's value is in, with its leading space (`' ms'`); `''` for a fraction or a count. */
export function thresholdUnit(metric: string): string {
  const head = metric.split('.')[0];
  // a named request's statistic (`v1.search.TP99.9`) has the unit of the statistic
  const stat = NAMED_THRESHOLD_STATS.find((s) => metric.endsWith(`.${s}`));
  if (stat === 'QPS') return ' req/s';
  if (stat !== undefined && stat in LATENCY_UNITS) return ' ms';
  if (metric in LATENCY_UNITS || LLM_TIMES.includes(head) || metric === 'BenchmarkDuration') return ' ms';
  if (metric === 'QPS' || metric === 'RequestThroughput' || metric === 'Goodput') return ' req/s';
  if (metric.endsWith('Throughput')) return ' token/s';
  return '';
}
const LATENCY_UNITS: Readonly<Record<string, true>> = { TP50: true, TP75: true, TP90: true, TP95: true, TP99: true, 'TP99.9': true, AvgRT: true, MinRT: true, MaxRT: true };

/** Whether `value` meets `op bound`. */
export function meetsThreshold(value: number, op: ThresholdOp, bound: number): boolean {
  switch (op) {
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
    case '==':
      return value === bound;
  }
}

/** The LLM percentiles a `<METRIC>.P<p>` may name: the task's llm.percentiles (default DEFAULTS.llmPercentiles). */
function statKnown(stat: string, percentiles: readonly number[]): boolean {
  if ((LLM_THRESHOLD_STATS as readonly string[]).includes(stat)) return true;
  return percentiles.some((p) => p !== 50 && stat === `P${p}`);
}

/**
 * Why `metric` is not a name a threshold may use, or undefined when it is.
 * `llmPercentiles`: the task's llm.percentiles when it has an llm section
 * (undefined: not an llm task, so no LLM name is known).
 */
export function thresholdMetricProblem(metric: string, llmPercentiles: readonly number[] | undefined, requestNames: readonly string[] = []): string | undefined {
  if ((HTTP_THRESHOLD_METRICS as readonly string[]).includes(metric)) return undefined;
  if (namedThresholdMetric(metric, requestNames)) return undefined;
  const dot = metric.indexOf('.');
  const llmName = dot > 0 ? metric.slice(0, dot) : metric;
  const isLlmName = (LLM_METRICS as readonly string[]).includes(llmName) || (dot < 0 && Object.prototype.hasOwnProperty.call(LLM_COMMON, metric));
  if (isLlmName && llmPercentiles === undefined) return 'an LLM metric needs the task to have an llm section';
  if (llmPercentiles !== undefined) {
    if (dot < 0 && Object.prototype.hasOwnProperty.call(LLM_COMMON, metric)) return undefined;
    if ((LLM_METRICS as readonly string[]).includes(llmName) && dot > 0) {
      const stat = metric.slice(dot + 1);
      if (statKnown(stat, llmPercentiles)) return undefined;
      const ps = llmPercentiles.filter((p) => p !== 50).map((p) => `P${p}`);
      return `unknown statistic ${JSON.stringify(stat)}; one of ${[...LLM_THRESHOLD_STATS, ...ps].join(', ')} (percentiles are those of llm.percentiles)`;
    }
  }
  const llmHint = llmPercentiles !== undefined ? `, <LLM metric>.<statistic> (${LLM_METRICS.join(', ')}; e.g. TTFT.P99) or an LLM common metric (${LLM_COMMON_THRESHOLD_METRICS.join(', ')})` : '';
  const namedHint = requestNames.length > 0 ? `, or <request name>.<statistic> (${NAMED_THRESHOLD_STATS.join(', ')}; e.g. ${requestNames[0]}.TP99)` : '';
  return `unknown metric; one of ${HTTP_THRESHOLD_METRICS.join(', ')}${llmHint}${namedHint}`;
}

/** One threshold's value into its parts, its problems added to `errors` at `path` (`thresholds.TP99`). */
export function parseThreshold(metric: string, value: unknown, path: string, errors: FieldError[]): ParsedThreshold | undefined {
  let expr: unknown = value;
  let abortOnFail = false;
  let delayAbortEvalS = 0;
  const before = errors.length;
  if (isObject(value)) {
    for (const key of Object.keys(value)) {
      if (key !== 'expr' && key !== 'abortOnFail' && key !== 'delayAbortEvalS') errors.push({ field: `${path}.${key}`, message: 'unknown field' });
    }
    expr = value.expr;
    if (expr === undefined) errors.push({ field: `${path}.expr`, message: 'is required' });
    if (value.abortOnFail !== undefined) {
      if (typeof value.abortOnFail !== 'boolean') errors.push({ field: `${path}.abortOnFail`, message: 'must be a boolean' });
      else abortOnFail = value.abortOnFail;
    }
    if (value.delayAbortEvalS !== undefined) {
      const d = value.delayAbortEvalS;
      if (typeof d !== 'number' || !Number.isFinite(d) || d < 0 || d > MAX_DELAY_ABORT_S) errors.push({ field: `${path}.delayAbortEvalS`, message: `must be a number of seconds from 0 to ${MAX_DELAY_ABORT_S}` });
      else delayAbortEvalS = d;
    }
    if (expr === undefined) return undefined;
    path = `${path}.expr`;
  }
  if (typeof expr !== 'string') {
    errors.push({ field: path, message: 'must be an expression string such as "< 200", or {"expr": "< 200", "abortOnFail": true}' });
    return undefined;
  }
  const parsed = parseThresholdExpr(expr);
  if (typeof parsed === 'string') {
    errors.push({ field: path, message: parsed });
    return undefined;
  }
  if (errors.length > before) return undefined;
  return { metric, expr: expr.trim(), op: parsed.op, bound: parsed.bound, abortOnFail, delayAbortEvalS };
}

/**
 * Every threshold of a task's `thresholds` checked: the object, the names
 * (against the task: LLM names need an llm section) and the expressions.
 */
export function parseThresholds(thresholds: unknown, llmPercentiles: readonly number[] | undefined, errors: FieldError[], requestNames: readonly string[] = []): ParsedThreshold[] {
  if (thresholds === undefined) return [];
  if (!isObject(thresholds)) {
    errors.push({ field: 'thresholds', message: 'must be an object of metric name to expression, e.g. {"TP99": "< 200"}' });
    return [];
  }
  const keys = Object.keys(thresholds);
  if (keys.length > MAX_THRESHOLDS) errors.push({ field: 'thresholds', message: `must hold at most ${MAX_THRESHOLDS} thresholds` });
  const out: ParsedThreshold[] = [];
  for (const metric of keys.slice(0, MAX_THRESHOLDS)) {
    const path = `thresholds.${metric}`;
    const problem = thresholdMetricProblem(metric, llmPercentiles, requestNames);
    if (problem) errors.push({ field: path, message: problem });
    const parsed = parseThreshold(metric, thresholds[metric], path, errors);
    if (parsed && !problem) out.push(parsed);
  }
  return out;
}
