import { Capacity, LlmMetricName, LlmResult, LlmStatistic, RoundResult } from '../contract';
import { formatBytes, formatCapacity, formatMs, formatNumber, formatRate } from './format';
import { Cell, displayWidth, renderKeyValueTable, renderTable } from './table';

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
  if (capacity) rows.push(['Capacity', formatCapacity(capacity)]);
  return rows;
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

const LLM_METRICS: readonly [LlmMetricName, string][] = [
  ['TTFT', 'TTFT (ms)'],
  ['TPOT', 'TPOT (ms)'],
  ['ITL', 'ITL (ms)'],
  ['E2EL', 'E2EL (ms)'],
  ['InputTokens', 'InputTokens'],
  ['OutputTokens', 'OutputTokens'],
  ['OutputTokenThroughput', 'OutputTokenThroughput (tok/s)'],
];

function llmStageTable(stage: Record<LlmMetricName, LlmStatistic> | undefined): string | undefined {
  if (!stage) return undefined;
  const rows = LLM_METRICS.filter(([name]) => stage[name]).map(([name, label]): Cell[] => {
    const s = stage[name];
    return [label, formatNumber(s.Average), formatNumber(s.Min), formatNumber(s.Max), formatNumber(s.Median), formatNumber(s.P75), formatNumber(s.P90), formatNumber(s.P99), s.N];
  });
  if (rows.length === 0) return undefined;
  return renderTable(['Metric', 'Average', 'Min', 'Max', 'Median', 'P75', 'P90', 'P99', 'N'], rows, {
    align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  });
}

function keyValue(rows: [string, string][]): string {
  const valueWidth = Math.max(10, ...rows.map(([, v]) => displayWidth(v)));
  return renderKeyValueTable(rows, { valueWidth });
}

function llmSections(llm: LlmResult): string[] {
  const out: string[] = [];
  const total = llmStageTable(llm.Total);
  if (total) out.push('LLM metrics (whole run):', total);
  const stable = llmStageTable(llm.Stable);
  if (stable) out.push('LLM metrics (steady stage):', stable);
  const common = Object.entries(llm.Common ?? {});
  if (common.length > 0) out.push('LLM common metrics:', keyValue(common.map(([k, v]) => [k, formatNumber(v)])));
  if (llm.TokenSource) out.push(`Token counts from: ${llm.TokenSource}`);
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
    const distribution = rtDistributionTable(input.Result);
    if (distribution) out.push(distribution);
  }
  if (!input.Result && input.Capacity) out.push(`Capacity: ${formatCapacity(input.Capacity)}`);
  if (input.LLM) out.push(...llmSections(input.LLM));
  return out.join('\n');
}
