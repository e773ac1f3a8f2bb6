import { datasetLine } from '../contract';
import { statsviewMain } from './browser';
import { ECHARTS_PATH, SCRIPT_PATH } from './protocol';

/** The static page. Everything it loads comes from the same 127.0.0.1 server. */

const CHARTS: readonly [string, string][] = [
  ['chart-qps', 'Requests per second (achieved and target)'],
  ['chart-rt', 'Response time (ms)'],
  ['chart-traffic', 'Traffic (bytes per second)'],
  ['chart-agents', 'Agents (desired and available)'],
  ['chart-rt-distribution', 'Response-time distribution (ms)'],
  ['chart-rt-quantiles', 'Response-time quantiles, whole round (ms)'],
  ['chart-status-codes', 'Status codes'],
];

const LLM_CHARTS: readonly [string, string][] = [
  ['chart-ttft', 'Time to first token (rate mode: and client queue time), average per second (ms)'],
  ['chart-tpot', 'Time per output token, average per second (ms)'],
  ['chart-tps', 'Output tokens per second'],
  ['chart-concurrency', 'Requests in flight per second (mean and most; steady stage shaded)'],
  ['chart-sweep', 'Sweep: latency at the sweep percentile against request throughput, one point per load judged'],
];

const chartDivs = (charts: readonly [string, string][]): string => charts.map(([id, title]) => `<div class="chart" id="${id}" data-title="${title}"></div>`).join('\n      ');

let html: string | undefined;
let script: string | undefined;

export function pageHtml(): string {
  html ??= `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>statsview</title>
  <style>
    body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: #f4f6f9; color: #1f2d3d; }
    header { background: #fff; border-bottom: 1px solid #dde3ea; padding: 12px 20px; display: flex; flex-wrap: wrap; gap: 24px; }
    header h1 { font-size: 18px; margin: 0 0 6px; }
    dl { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; margin: 0; }
    dt { color: #6b7a8c; }
    dd { margin: 0; font-variant-numeric: tabular-nums; }
    .status { font-weight: 600; }
    #task-verdict { font-weight: 600; }
    #task-errors, #task-names { white-space: pre-line; }
    .status-Running, .status-Updating { color: #1a7f37; }
    .status-Stopped { color: #0b5cad; }
    .status-Terminated, .status-Error, .status-CreateFailed, .status-UpdateFailed { color: #c62828; }
    .events { flex: 1; min-width: 320px; }
    .events h2 { font-size: 13px; color: #6b7a8c; margin: 0 0 4px; font-weight: normal; }
    .events ul { margin: 0; padding: 0; list-style: none; max-height: 8.5em; overflow-y: auto; font-size: 13px; }
    .events .time { color: #6b7a8c; font-variant-numeric: tabular-nums; }
    .banner { padding: 8px 20px; font-weight: 600; }
    .banner.warn { background: #fff4ce; color: #7a5b00; }
    .banner.ok { background: #dff6dd; color: #1a7f37; }
    .banner.info { background: #e5f0fb; color: #0b5cad; }
    main { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 12px; padding: 12px 20px; }
    .chart { background: #fff; border: 1px solid #dde3ea; border-radius: 4px; height: 320px; }
    .chart[hidden] { display: none; }
    #llm-charts { display: contents; }
    #llm-charts[hidden] { display: none; }
  </style>
</head>
<body>
  <header>
    <div>
      <h1 id="task-name">connecting...</h1>
      <dl>
        <dt>Mode</dt><dd id="task-mode">-</dd>
        <dt>Status</dt><dd><span id="task-status" class="status">-</span></dd>
        <dt>Verdict</dt><dd id="task-verdict">-</dd>
        <dt>Elapsed / duration</dt><dd id="task-elapsed">-</dd>
        <dt>Current target</dt><dd id="task-target">-</dd>
        <dt>Capacity</dt><dd id="task-capacity">-</dd>
        <dt>Generator-limited</dt><dd id="task-generator">-</dd>
        <dt>Failed requests</dt><dd id="task-errors">-</dd>
        <dt>Requests by name</dt><dd id="task-names">-</dd>
        <dt>Dataset</dt><dd id="task-dataset">-</dd>
        <dt>Message</dt><dd id="task-message">-</dd>
        <dt>Report</dt><dd id="task-report">-</dd>
        <dt>Agents</dt><dd id="task-agents">-</dd>
      </dl>
    </div>
    <div class="events">
      <h2>Mode events (newest first)</h2>
      <ul id="events"></ul>
    </div>
  </header>
  <div id="banner" class="banner" hidden></div>
  <main>
      ${chartDivs(CHARTS)}
    <div id="llm-charts" hidden>
      ${chartDivs(LLM_CHARTS)}
    </div>
  </main>
  <script src="${ECHARTS_PATH}"></script>
  <script src="${SCRIPT_PATH}"></script>
</body>
</html>
`;
  return html;
}

/** The page script: the contract's datasetLine, then statsviewMain's compiled source, called at once. */
export function pageScript(): string {
  script ??= `'use strict';\nconst datasetLine = ${datasetLine.toString()};\n(${statsviewMain.toString()})();\n`;
  return script;
}
