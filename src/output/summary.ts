import { Capacity, describeClientQueue, describeWarmupExcluded, errorClassLines, formatErrorClassLine, LlmMetricName, LlmResult, LlmStatistic, RoundResult, ThresholdResult, commonMetricName, statisticColumns } from '../contract';
import { formatBytes, formatCapacity, formatMs, formatNumber, formatRate } from './format';
import { Cell, displayWidth, renderKeyValueTable, renderTable } from './table';
import { llmModeSummary } from './llm-mode-summary';

/**
 * The text summary of a round: printed at the end of `--wait`, and by the
 * statsview when the task ends while the page is open. Takes the fields that
 * GET task and GET stats both carry, so either response can be passed.
 */
export interface SummaryInput {
  TaskName: string;
  RoundId?: number;
  Status?: string;
  Result?: RoundResult;
  Capacity?: Capacity;
  LLM?: LlmResult;
}

function resultRows(result: RoundResult, capacity: Capacity | undefined): [string, string][] {
  const rows: [string, string][] = [
    ['TotalRequests', String(result.TotalRequests)],
    ['SuccessRequests', String(result.SuccessRequests)],
    ['ErrorRequests', String(result.ErrorRequests)],
    ['ErrorRate', formatRate(result.ErrorRate)],
    ['QPS', formatNumber(result.QPS)],
    ['Duration', `${formatNumber(result.DurationS, 1)} s`],
    ['AvgRT', formatMs(result.AvgRT)],
    ['MinRT', formatMs(result.MinRT)],
    ['MaxRT', formatMs(result.MaxRT)],
    ['TP50', formatMs(result.TP50)],
    ['TP75', formatMs(result.TP75)],
    ['TP90', formatMs(result.TP90)],
    ['TP95', formatMs(result.TP95)],
    ['TP99', formatMs(result.TP99)],
    ['TP99.9', formatMs(result.TP999)],
    ['BytesIn', formatBytes(result.BytesIn)],
    ['BytesOut', formatBytes(result.BytesOut)],
    // Open-loop honesty: requests the agents could not send on time or at all.
    ['Dropped', String(result.Dropped)],
    ['SendLagP99', formatMs(result.SendLagP99)],
  ];
  // the validity gate (docs/performance.md): absent from rounds stored before it
  if (result.GeneratorLimitedShare !== undefined) rows.push(['GenLimitedShare', generatorLimited(result.GeneratorLimitedShare)]);
  if (result.WarmupExcludedS) rows.push(['WarmupExcluded', describeWarmupExcluded(result.WarmupExcludedS)]);
  if (capacity) rows.push(['Capacity', formatCapacity(capacity)]);
  return rows;
}

/** The share of generator-limited seconds, and what it means when there are any. */
function generatorLimited(shareOfSeconds: number): string {
  const rate = formatRate(shareOfSeconds);
  return shareOfSeconds > 0 ? `${rate} of seconds (their latency is the generator's, not the service's)` : `${rate} of seconds`;
}

function share(count: number, total: number): string {
  return total > 0 ? formatRate(count / total) : '-';
}

function statusCodeTable(result: RoundResult): string | undefined {
  const codes = Object.entries(result.StatusCodes ?? {}).sort(([a], [b]) => Number(a) - Number(b) || a.localeCompare(b));
  if (codes.length === 0) return undefined;
  const total = codes.reduce((sum, [, n]) => sum + n, 0);
  return renderTable(
    ['Status Code', 'Count', 'Percent'],
    codes.map(([code, n]): Cell[] => [code, n, share(n, total)]),
    { align: [undefined, 'right', 'right'] },
  );
}

/** The task's thresholds as judged: one row each (Value in the metric's unit: ms, a fraction for ErrorRate, req/s for QPS). */
export function thresholdsTable(thresholds: readonly ThresholdResult[] | undefined): string | undefined {
  if (!thresholds || thresholds.length === 0) return undefined;
  return renderTable(
    ['Threshold', 'Expr', 'Value', 'Result'],
    thresholds.map((t): Cell[] => [t.Metric, t.Expr, t.Value === null ? '-' : formatNumber(t.Value, 4), `${t.Passed ? 'held' : 'FAILED'}${t.AbortOnFail ? ' (abortOnFail)' : ''}`]),
    { align: [undefined, undefined, 'right', undefined] },
  );
}

/** Why requests failed (SPEC 7), one line a class: `599 connection refused: 96,704 (100.00%)`. */
function errorCauses(result: RoundResult): string | undefined {
  const lines = errorClassLines(result.ErrorClasses, result.TotalRequests);
  if (lines.length === 0) return undefined;
  return ['Failed requests by cause:', ...lines.map((line) => `  ${formatErrorClassLine(line)}`)].join('\n');
}

function rtDistributionTable(result: RoundResult): string | undefined {
  const buckets = result.RTDistribution ?? [];
  if (buckets.length === 0) return undefined;
  const total = buckets.reduce((sum, b) => sum + b.Count, 0);
  return renderTable(
    ['RT Range (ms)', 'Count', 'Percent'],
    buckets.map((b): Cell[] => [b.Range, b.Count, share(b.Count, total)]),
    { align: [undefined, 'right', 'right'] },
  );
}

/** AISBench's order and units: times in ms, throughput in token/s. */
const LLM_METRICS: readonly [LlmMetricName, string][] = [
  ['E2EL', ' ms'],
  // rate mode only: E2EL from the scheduled send, and the wait for a maxConcurrency slot before the actual one
  ['E2ELWithQueue', ' ms'],
  ['ClientQueueTime', ' ms'],
  ['TTFT', ' ms'],
  ['TPOT', ' ms'],
  ['ITL', ' ms'],
  ['ITLGap', ' ms'],
  ['InputTokens', ''],
  ['OutputTokens', ''],
  ['OutputTokenThroughput', ' token/s'],
];

function commonUnit(name: string): string {
  if (name === 'BenchmarkDuration') return ' ms';
  if (name === 'RequestThroughput' || name === 'Goodput' || name.endsWith('RequestRate')) return ' req/s';
  if (name.endsWith('Throughput')) return ' token/s';
  return '';
}

type LlmStage = Partial<Record<LlmMetricName, LlmStatistic>>;

/** The AISBench "Performance Parameters" table: one row per metric and stage (total, stable). */
function llmParametersTable(stages: [string, LlmStage | undefined][]): string | undefined {
  const rows: Cell[][] = [];
  // the columns the rows hold: Average, Min, Max, Median, the task's llm.percentiles, N
  const columns = statisticColumns(stages[0][1]);
  for (const [name, unit] of LLM_METRICS) {
    for (const [stageName, stage] of stages) {
      const s = stage?.[name] as Record<string, number> | undefined;
      if (!s) continue;
      const v = (x: number | undefined): string => (x === undefined ? '-' : `${formatNumber(x, 4)}${unit}`);
      rows.push([name, stageName, ...columns.map((c) => (c === 'N' ? (s.N ?? 0) : v(s[c])))]);
    }
  }
  if (rows.length === 0) return undefined;
  return renderTable(['Performance Parameters', 'Stage', ...columns], rows, {
    align: ['left', 'left', ...columns.map(() => 'right' as const)],
  });
}

/** The AISBench "Common Metric" table, total and stable stages. */
function llmCommonTable(stages: [string, Record<string, number> | undefined][]): string | undefined {
  const rows: Cell[][] = [];
  const names = new Set<string>();
  for (const [, common] of stages) for (const name of Object.keys(common ?? {})) names.add(name);
  for (const name of names) {
    for (const [stageName, common] of stages) {
      const value = common?.[name];
      if (value === undefined) continue;
      // AISBench's names, with spaces ("Benchmark Duration")
      rows.push([commonMetricName(name), stageName, `${formatNumber(value, 4)}${commonUnit(name)}`]);
    }
  }
  if (rows.length === 0) return undefined;
  return renderTable(['Common Metric', 'Stage', 'Value'], rows, { align: ['left', 'left', 'right'] });
}

function keyValue(rows: [string, string][]): string {
  const valueWidth = Math.max(10, ...rows.map(([, v]) => displayWidth(v)));
  return renderKeyValueTable(rows, { valueWidth });
}

/** The AISBench-style LLM tables (Performance Parameters, Common Metric) and where the token counts came from. */
export function llmSections(llm: LlmResult): string[] {
  const out: string[] = [];
  const parameters = llmParametersTable([
    ['total', llm.Total],
    ['stable', llm.Stable],
  ]);
  if (parameters) out.push('LLM performance (total: whole run; stable: AISBench steady stage):', parameters);
  const common = llmCommonTable([
    ['total', llm.Common],
    ['stable', llm.StableCommon],
  ]);
  if (common) out.push(common);
  if (llm.StableAbsent) out.push(`Stable: ${llm.StableAbsent}`);
  const queue = describeClientQueue(llm);
  if (queue) out.push(`Client queue: ${queue}`);
  if (llm.TokenSource) out.push(`Token counts from: ${llm.TokenSource}`);
  out.push(...llmModeSummary(llm));
  return out;
}

/** The whole summary as one block of text (no trailing newline). */
export function renderSummary(input: SummaryInput): string {
  const round = input.RoundId !== undefined ? `, round ${input.RoundId}` : '';
  const status = input.Status ? ` (${input.Status})` : '';
  const out: string[] = [`Summary of benchmark task ${input.TaskName}${round}${status}:`];
  if (!input.Result) {
    out.push('No requests were recorded.');
  } else {
    out.push(keyValue(resultRows(input.Result, input.Capacity)));
    const codes = statusCodeTable(input.Result);
    if (codes) out.push(codes);
    const causes = errorCauses(input.Result);
    if (causes) out.push(causes);
    const distribution = rtDistributionTable(input.Result);
    if (distribution) out.push(distribution);
    const thresholds = thresholdsTable(input.Result.Thresholds);
    if (thresholds) out.push(thresholds);
  }
  if (!input.Result && input.Capacity) out.push(`Capacity: ${formatCapacity(input.Capacity)}`);
  if (input.LLM) out.push(...llmSections(input.LLM));
  return out.join('\n');
}
