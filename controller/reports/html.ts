import { commonMetricName, datasetLine, describeClientQueue, describeWarmupExcluded, formatBytes, LLM_METRICS, LlmResult, statisticColumns, TaskEvent } from '../../src/contract';
import { renderReportCharts } from './charts';
import { errorCausesTable, renderHeadline, renderKeyFigures } from './headline';
import { count, escapeHtml, fmt, ms, percent, reqPerS, table } from './html-table';
import { ReportData } from './model';


/** The AISBench-style tables: every metric for the whole run and the steady stage, then the common metrics. */
function llmSection(llm: LlmResult): string {
  const rows: (string | number)[][] = [];
  // Average, Min, Max, Median, the task's llm.percentiles, N: the columns its rows hold
  const columns = statisticColumns(llm.Total);
  for (const name of LLM_METRICS) {
    for (const [stage, stats] of [['total', llm.Total], ['stable', llm.Stable]] as const) {
      // ITLGap is absent from rounds stored before it was measured; the queue times from runs without a schedule
      const s = stats?.[name] as Record<string, number> | undefined;
      if (!s) continue;
      rows.push([name, stage, ...columns.map((c) => (c === 'N' ? s.N : s[c] === undefined ? '-' : fmt(s[c], 3)))]);
    }
  }
  const perf = table(['Metric', 'Stage', ...columns], rows);
  const common = table(['Common metric', 'Value'], Object.entries(llm.Common).map(([k, v]) => [commonMetricName(k), fmt(v, 4)]));
  const source = llm.TokenSource ? `<p>Token counts: ${escapeHtml(llm.TokenSource)}. Times in ms, throughput in tokens/s.</p>` : '';
  const absent = llm.StableAbsent ? `<p class="stable-absent">Stable: ${escapeHtml(llm.StableAbsent)}.</p>` : '';
  const queue = describeClientQueue(llm);
  const queued = queue ? `<p class="client-queue">Client queue: ${escapeHtml(queue)}.</p>` : '';
  return `<section id="llm"><h2>LLM Performance</h2>${source}${absent}${queued}${perf}${common}${llmModeTables(llm)}</section>`;
}

const MODE_SECTIONS = ['Dataset', 'Warmup', 'Retries', 'Drift', 'TokenSweep', 'Consistency', 'Sessions', 'ToolCalls', 'Sweep'] as const;

/**
 * The run modes' sections (`LlmModeSections`), each as a table of its figures
 * (nested ones by dotted name) and, for a list (sweep points, turns), a table
 * of its rows.
 */
function llmModeTables(llm: LlmResult): string {
  const out: string[] = [];
  for (const name of MODE_SECTIONS) {
    const section = llm[name];
    if (!section) continue;
    const figures: (string | number)[][] = [];
    const lists: string[] = [];
    const walk = (prefix: string, value: unknown): void => {
      if (Array.isArray(value)) {
        const items = value as Record<string, number>[];
        if (items.length) lists.push(table(Object.keys(items[0]), items.map((item) => Object.values(item).map((v) => (typeof v === 'number' ? fmt(v, 4) : String(v))))));
      } else if (typeof value === 'object' && value !== null) {
        for (const [k, v] of Object.entries(value)) walk(prefix ? `${prefix}.${k}` : k, v);
      } else {
        figures.push([prefix, typeof value === 'number' ? fmt(value, 4) : String(value)]);
      }
    };
    walk('', section);
    // the dataset in the summary's words above its figures
    const said = name === 'Dataset' && llm.Dataset ? `<p class="dataset">${escapeHtml(datasetLine(llm.Dataset))}</p>` : '';
    out.push(`<h3>${escapeHtml(name)}</h3>${said}${table(['Figure', 'Value'], figures)}${lists.join('')}`);
  }
  return out.join('');
}

/** Placeholder of a figure a step does not carry. */
const NOT_RECORDED = '-';

/** The validity gate's share, said plainly: whose latency those seconds show. */
function generatorLimitedLine(share: number, seconds: number): string {
  if (seconds === 0) return '0 (every second passed the validity gate)';
  return `${seconds} (${percent(share)}): the agents fell behind their schedule there, so the latency of those seconds is the generator's, not the service's`;
}

/** scan/auto: one row per judged step, from the `verdict` events. */
function stepsTable(events: TaskEvent[]): string {
  const rows = events
    .filter((e) => e.Kind === 'verdict')
    .map((e) => {
      const s = e.Step;
      // events stored before steps were structured carry their figures in the Message only
      if (!s) return [e.Time, NOT_RECORDED, NOT_RECORDED, NOT_RECORDED, NOT_RECORDED, e.Message];
      const generator = s.GeneratorLimitedShare ? ` (${percent(s.GeneratorLimitedShare)} of its seconds generator-limited: their latency is the generator's, not the service's)` : '';
      return [e.Time, fmt(s.TargetQPS), fmt(s.AchievedQPS), fmt(s.TP99, 3), percent(s.ErrorRate), `${s.Verdict}: ${s.Why}${generator}`];
    });
  return table(['Time', 'Target QPS', 'Achieved QPS', 'TP99 (ms)', 'Error rate', 'Verdict'], rows);
}

/** The service's earlier rounds, newest first, so this round's capacity is read beside theirs. */
function historySection(data: ReportData): string {
  if (!data.ServiceHistory?.length) return '';
  const rows = data.ServiceHistory.map((h) => [h.EndTime, `${h.TaskName}:${h.RoundId}`, h.Mode, h.CapacityQPS === undefined ? NOT_RECORDED : fmt(h.CapacityQPS), fmt(h.QPS), fmt(h.TP99, 3), percent(h.ErrorRate), h.Outcome]);
  const now = [data.EndTime, `${data.TaskName}:${data.RoundId} (this round)`, data.Mode, data.Capacity ? fmt(data.Capacity.QPS) : NOT_RECORDED, fmt(data.Result.QPS), fmt(data.Result.TP99, 3), percent(data.Result.ErrorRate), data.Verdict?.Outcome ?? NOT_RECORDED];
  return `<section id="service-history"><h2>Earlier rounds of ${escapeHtml(data.ServiceName)}</h2>${table(['End', 'Round', 'Mode', 'Capacity QPS', 'QPS', 'TP99 (ms)', 'Error rate', 'Outcome'], [now, ...rows])}</section>`;
}

/** The self-contained HTML report: no script, no network, everything inline. */
export function renderReportHtml(data: ReportData): string {
  const r = data.Result;
  const basic = table(
    ['Field', 'Value'],
    [
      ['Task name', data.TaskName],
      ['Task id', data.TaskId],
      ['Round', data.RoundId],
      ['Service', data.ServiceName],
      ['Target', data.TargetUrl],
      ['Region', data.Region],
      ['Mode', data.Mode],
      ['Status', data.Status],
      ['Message', data.Message],
      ['Start', data.StartTime],
      ['End', data.EndTime],
    ],
  );
  const result = table(
    ['Metric', 'Value'],
    [
      ['Total requests', r.TotalRequests],
      ['Success requests', r.SuccessRequests],
      ['Error requests', r.ErrorRequests],
      ['Error rate', percent(r.ErrorRate)],
      ['QPS', reqPerS(r.QPS)],
      ['Avg RT', ms(r.AvgRT)],
      ['Min RT', ms(r.MinRT)],
      ['Max RT', ms(r.MaxRT)],
      ['TP50', ms(r.TP50)],
      ['TP75', ms(r.TP75)],
      ['TP90', ms(r.TP90)],
      ['TP95', ms(r.TP95)],
      ['TP99', ms(r.TP99)],
      ['TP99.9', ms(r.TP999)],
      ['Bytes in', formatBytes(r.BytesIn)],
      ['Bytes out', formatBytes(r.BytesOut)],
      ['Dropped (in-flight cap)', count(r.Dropped)],
      ['Send lag p99', ms(r.SendLagP99)],
      ['Duration', `${Number(r.DurationS.toFixed(1))} s`],
      ...(r.GeneratorLimitedShare !== undefined ? [['Generator-limited seconds', generatorLimitedLine(r.GeneratorLimitedShare, r.GeneratorLimitedSeconds ?? 0)]] : []),
      ...(r.WarmupExcludedS ? [['Start-up left out of the latency figures', describeWarmupExcluded(r.WarmupExcludedS)]] : []),
    ],
  );
  const codes = table(['Status code', 'Count'], Object.entries(r.StatusCodes).map(([code, n]) => [code, count(n)]));
  const distribution = table(['RT interval (ms)', 'Count'], r.RTDistribution.map((b) => [b.Range, b.Count]));
  const capacity = data.Capacity
    ? `<section id="capacity"><h2>Capacity</h2>${table(['QPS', 'TP99 (ms)', 'Error rate', 'Reason'], [[fmt(data.Capacity.QPS), fmt(data.Capacity.TP99, 1), percent(data.Capacity.ErrorRate), data.Capacity.Reason]])}</section>`
    : '';
  // a task's named requests (docs/data.md), each with its own figures
  const byName = r.ByName?.length
    ? `<section id="requests-by-name"><h2>Requests by name</h2>${table(
        ['Name', 'Requests', 'Errors', 'Error rate', 'QPS', 'TP50', 'TP90', 'TP99', 'TP99.9'],
        r.ByName.map((n) => [n.Name, count(n.Requests), count(n.Errors), percent(n.ErrorRate), fmt(n.QPS, 1), ms(n.TP50), ms(n.TP90), ms(n.TP99), ms(n.TP999)]),
      )}</section>`
    : '';
  const steps = data.Mode === 'scan' || data.Mode === 'auto' ? `<section id="steps"><h2>Steps</h2>${stepsTable(data.Events)}</section>` : '';
  const charts = renderReportCharts(data)
    .map((c) => `<figure id="chart-${c.name}"><figcaption>${escapeHtml(c.title)}</figcaption>${c.svg}${c.note ? `<p class="note">${escapeHtml(c.note)}</p>` : ''}</figure>`)
    .join('\n');
  const events = table(['Time', 'Kind', 'Message'], data.Events.map((e) => [e.Time, e.Kind, e.Message]));
  const series = table(
    ['Elapsed (s)', 'Requests', 'Errors', 'Avg RT (ms)', 'TP99 (ms)', 'Send lag p99 (ms)', 'Agents', 'Generator'],
    data.Series.map((p) => [p.Elapsed, p.Requests, p.Errors, fmt(p.RT.Avg, 2), fmt(p.RT.TP99, 2), fmt(p.SendLagP99, 2), `${p.AgentsAvailable}/${p.AgentsDesired}`, p.Generator?.Limited ? 'limited' : '']),
  );
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(data.TaskName)} round ${data.RoundId} - eas-bench report</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 24px}th,td{border:1px solid #ccc;padding:4px 10px;text-align:left}th{background:#f3f5f7}pre{background:#f6f8fa;padding:12px}figure{margin:0 0 24px;width:100%}figure svg{display:block;width:100%;height:auto}figcaption{font-weight:600;margin-bottom:4px}.note{color:#555;font-size:13px;margin:4px 0 0}
.verdict{border-left:6px solid #888;padding:4px 16px;margin-bottom:16px;background:#fafbfc}.outcome-passed{border-color:#1a7f37}.outcome-failed,.outcome-no-result{border-color:#c62828}.outcome-no-capacity{border-color:#b7791f}.verdict-text{font-size:18px;font-weight:600}table.headline th{width:12em}
.figures{display:flex;flex-wrap:wrap;gap:12px}.figure{border:1px solid #ddd;border-radius:4px;padding:8px 14px;min-width:10em}.figure .name{color:#666;font-size:13px}.figure .value{font-size:20px;font-weight:600}</style>
</head><body>
<h1>Stress testing report: ${escapeHtml(data.TaskName)} (round ${data.RoundId})</h1>
${renderHeadline(data)}
${renderKeyFigures(data)}
<section id="basic-information"><h2>Basic Information</h2>${basic}</section>
<section id="test-result"><h2>Test Result</h2>${result}${codes}${errorCausesTable(r)}</section>
${byName}
${data.LLM ? llmSection(data.LLM) : ''}
${steps}
${capacity}
${historySection(data)}
<section id="test-monitoring"><h2>Test Monitoring</h2>
${charts}
<h3>Response time interval distribution</h3>${distribution}<h3>Per second</h3>${series}</section>
<section id="events"><h2>Events</h2>${events}</section>
<section id="configurations"><h2>Stress Testing Configurations</h2><pre>${escapeHtml(JSON.stringify(data.Config, null, 2))}</pre></section>
<footer>Generated ${escapeHtml(data.GeneratedAt)}</footer>
</body></html>
`;
}
