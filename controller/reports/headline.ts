import { errorClassLines, formatBytes, formatErrorClassLine, type Capacity, type CapacityReason, type LlmResult, type RoundResult, type ThresholdResult, type Verdict } from '../../src/contract';
import { count, escapeHtml, keyValueTable, ms, percent, reqPerS, table } from './html-table';
import { ReportData } from './model';

/**
 * What the report leads with (SPEC 7): the round's verdict as the controller
 * built it (outcome, capacity or why none, thresholds, the limits hit, the
 * generator-limited share with what to change), then the key figures with
 * their units. Nothing here judges anything: the words are the verdict's.
 */

/** `120 QPS, TP99 91.8 ms, error rate 0.00%, bounded by maxRT`. */
function capacityText(c: Capacity): string {
  return `${count(c.QPS)} QPS, TP99 ${ms(c.TP99)}, error rate ${percent(c.ErrorRate)}, bounded by ${c.Reason}`;
}

/** What each capacity reason says was hit, with the task's own limit where it has one. */
function limitOfCapacity(reason: CapacityReason, data: ReportData): string {
  const o = data.Config.optional ?? {};
  switch (reason) {
    case 'maxRT':
      return `maxRT${o.maxRT !== undefined ? ` ${o.maxRT} ms` : ''}: the next rate's TP99 passed it`;
    case 'faultTolerate':
      return `faultTolerate${o.faultTolerate !== undefined ? ` ${percent(o.faultTolerate)}` : ''}: the next rate's error rate passed it`;
    case 'maxQPS':
      return `maxQPS${o.maxQPS !== undefined ? ` ${o.maxQPS}` : ''}: the highest rate the task allows (the service may take more)`;
    case 'saturation':
      return 'saturation: the service could not keep up with the next rate';
    case 'generator':
      return 'generator: the agents could not send faster (the service may take more)';
  }
}

/** Units of a threshold's value: times in ms, ErrorRate a fraction (shown as a percent too), rates per second. */
function thresholdValue(t: ThresholdResult): string {
  if (t.Value === null) return 'not measured';
  const v = t.Value;
  if (t.Metric === 'ErrorRate') return `${Number(v.toPrecision(4))} (${percent(v)})`;
  if (/^(TP\d|AvgRT|MaxRT|MinRT)|^(TTFT|TPOT|ITL|E2EL)\.|\.TP\d/.test(t.Metric)) return ms(v);
  if (t.Metric === 'QPS') return reqPerS(v);
  return String(Number(v.toPrecision(6)));
}

function thresholdsTable(thresholds: ThresholdResult[]): string {
  if (thresholds.length === 0) return '<p>No thresholds were set (top-level <code>thresholds</code> of the task).</p>';
  return table(
    ['Metric', 'Condition', 'Value', 'Result'],
    thresholds.map((t) => [t.Metric, t.Expr, thresholdValue(t), `${t.Passed ? 'passed' : 'failed'}${t.AbortOnFail ? ' (abortOnFail)' : ''}`]),
  );
}

/** The limits that bounded or ended the round: the capacity's reason and every failed threshold. */
function limitsHit(verdict: Verdict, data: ReportData): string[] {
  const hit: string[] = [];
  if (verdict.Capacity) hit.push(limitOfCapacity(verdict.Capacity.Reason, data));
  for (const t of verdict.Thresholds) if (!t.Passed) hit.push(`threshold ${t.Metric} ${t.Expr}: was ${thresholdValue(t)}`);
  return hit;
}

/** The validity gate's share, with what to change when it is not nothing. */
export function generatorAdvice(r: RoundResult, llm?: LlmResult): string | undefined {
  if (r.GeneratorLimitedShare === undefined) return undefined;
  if (r.GeneratorLimitedShare === 0) return '0% of seconds: every second passed the validity gate';
  const share = `${percent(r.GeneratorLimitedShare)} of seconds (${r.GeneratorLimitedSeconds ?? 0})`;
  // an LLM rate task's own cap holds its schedule back: more agents would not send the rate asked
  const queue = llm?.Total.ClientQueueTime;
  if (queue && queue.Max > 0) {
    return (
      `${share}: requests left after their scheduled time, llm.maxConcurrency holding them for a slot (client queue time up to ${ms(queue.Max)}), so the service saw the cap, not the rate asked. ` +
      'To send that rate, raise llm.maxConcurrency or ask a lower llm.requestRate (a slow agent also sends late: see its event-loop delay)'
    );
  }
  return (
    `${share}: the agents fell behind their schedule, so those seconds show the generator's latency, not the service's. ` +
    'To measure the service there, add agents (optional.agentCount) or give each less load'
  );
}

/** The round's failed requests by cause (SPEC 7), most first; empty when none failed. */
export function errorCausesTable(r: RoundResult): string {
  const lines = errorClassLines(r.ErrorClasses, r.TotalRequests);
  if (lines.length === 0) return '';
  return table(
    ['Failed requests by cause', 'Count', 'Share of requests'],
    lines.map((l) => [l.label, count(l.count), percent(l.share)]),
  );
}

/** The headline block; empty for a report stored before verdicts existed. */
export function renderHeadline(data: ReportData): string {
  const verdict = data.Verdict;
  if (!verdict) return '';
  const isStepped = data.Mode === 'scan' || data.Mode === 'auto';
  const capacity = verdict.Capacity ?? data.Capacity;
  const rows: [string, string][] = [['Outcome', verdict.Outcome]];
  if (capacity) rows.push(['Capacity', capacityText(capacity)]);
  else if (isStepped) rows.push(['Capacity', `none found: ${verdict.Ended ?? data.Message}`]);
  if (verdict.Ended) rows.push(['Round ended', verdict.Ended]);
  const hit = limitsHit(verdict, data);
  rows.push(['Limits hit', hit.length > 0 ? hit.join('; ') : 'none']);
  const generator = generatorAdvice(data.Result, data.LLM);
  if (generator) rows.push(['Generator-limited', generator]);
  const causes = errorClassLines(data.Result.ErrorClasses, data.Result.TotalRequests);
  if (causes.length > 0) rows.push(['Failed requests', causes.map(formatErrorClassLine).join('; ')]);
  const outcomeClass = verdict.Outcome.replace(/\s+/g, '-');
  return (
    `<section id="verdict" class="verdict outcome-${outcomeClass}"><h2>Verdict: ${escapeHtml(verdict.Outcome)}</h2>` +
    `<p class="verdict-text">${escapeHtml(verdict.Text)}</p>${keyValueTable(rows, 'headline')}` +
    `<h3>Thresholds</h3>${thresholdsTable(verdict.Thresholds)}</section>`
  );
}

/** The figures a reader looks for first, each with its unit. */
export function renderKeyFigures(data: ReportData): string {
  const r = data.Result;
  const figures: [string, string][] = [
    ['Throughput', reqPerS(r.QPS)],
    ['TP99', ms(r.TP99)],
    ['Average RT', ms(r.AvgRT)],
    ['Error rate', percent(r.ErrorRate)],
    ['Requests', `${count(r.TotalRequests)} (${count(r.ErrorRequests)} failed)`],
    ['Bytes in / out', `${formatBytes(r.BytesIn)} / ${formatBytes(r.BytesOut)}`],
    ['Duration', `${Number(r.DurationS.toFixed(1))} s`],
  ];
  const cells = figures.map(([name, value]) => `<div class="figure"><div class="name">${escapeHtml(name)}</div><div class="value">${escapeHtml(value)}</div></div>`).join('');
  return `<section id="key-figures"><h2>Key figures</h2><div class="figures">${cells}</div></section>`;
}
