import type { CompareResponse } from '../../src/contract';
import { percentileChartOption, renderSvg } from './charts';
import { escapeHtml, fmt, table } from './html-table';

const sideName = (s: CompareResponse['A']): string => `${s.TaskName}:${s.RoundId}`;

/** `bench compare --html`: the figures side by side and both rounds' percentile distributions overlaid; self-contained, no script. */
export function renderCompareHtml(c: Omit<CompareResponse, 'RequestId' | 'Html'>): string {
  const a = sideName(c.A);
  const b = sideName(c.B);
  const rows = c.Figures.map((f) => [
    f.Figure,
    fmt(f.A, 3),
    fmt(f.B, 3),
    fmt(f.Diff, 3),
    f.DiffPct === null ? 'n/a' : `${f.DiffPct > 0 ? '+' : ''}${fmt(f.DiffPct, 2)}%`,
    f.Better ?? '-',
    f.PValue === null ? '-' : String(f.PValue),
    f.Verdict,
  ]);
  const chart = renderSvg(percentileChartOption([
    { name: `A ${a}`, points: c.A.Percentiles },
    { name: `B ${b}`, points: c.B.Percentiles },
  ]));
  const sides = table(
    ['', 'Round', 'Service', 'Mode', 'Start'],
    [
      ['A', a, c.A.ServiceName, c.A.Mode, c.A.StartTime],
      ['B', b, c.B.ServiceName, c.B.Mode, c.B.StartTime],
    ],
  );
  const headline = c.Regressed > 0 ? `${c.Regressed} figure${c.Regressed === 1 ? '' : 's'} regressed` : 'nothing regressed';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(a)} vs ${escapeHtml(b)} - eas-bench comparison</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 24px}th,td{border:1px solid #ccc;padding:4px 10px;text-align:left}th{background:#f3f5f7}figure{margin:0 0 24px}figcaption{font-weight:600;margin-bottom:4px}</style>
</head><body>
<h1>Comparison: ${escapeHtml(a)} (A) vs ${escapeHtml(b)} (B): ${escapeHtml(headline)}</h1>
<section id="rounds"><h2>Rounds</h2>${sides}</section>
<section id="figures"><h2>Figures</h2>
<p>${escapeHtml(`A figure regressed when it moved the wrong way by at least ${c.MaxRegressionPct}% and its per-second values differ between the rounds (${c.Test}, p < ${c.Alpha}); ${c.Improved} improved.`)}</p>
${table(['Figure', 'A', 'B', 'Diff', 'Diff %', 'Better', 'p', 'Verdict'], rows)}</section>
<section id="percentiles"><h2>Latency percentile distribution</h2><figure id="chart-rt-percentiles"><figcaption>Response time (ms) by percentile, both rounds</figcaption>${chart}</figure></section>
</body></html>
`;
}
