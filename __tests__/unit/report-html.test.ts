import { commonMetrics } from '../../controller/metrics/llm/result';
import { renderReportCharts, wholeSeconds } from '../../controller/reports/charts';
import { renderReportHtml } from '../../controller/reports/html';
import { ReportData } from '../../controller/reports/model';
import { StatsPoint } from '../../src/contract';

const CHARTS = ['qps', 'rt', 'traffic', 'rt-distribution', 'rt-quantiles', 'status-codes', 'agents'];

function point(elapsedS: number): StatsPoint {
  const requests = 100 + elapsedS * 10;
  return {
    Time: 1_790_000_000 + elapsedS,
    Elapsed: elapsedS,
    TargetQPS: 100 + elapsedS * 10,
    Requests: requests,
    Success: requests - 1,
    Errors: 1,
    BytesIn: requests * 512,
    BytesOut: requests * 128,
    Dropped: 0,
    StatusCodes: { '200': requests - 1, '503': 1 },
    RT: { Avg: 12.5, Min: 1, Max: 80, TP50: 10, TP75: 14, TP90: 20, TP95: 25, TP99: 40 + elapsedS, TP999: 70 },
    SendLagP99: 0.2,
    AgentsDesired: 2,
    AgentsAvailable: elapsedS === 1 ? 1 : 2,
  };
}

function reportData(mode: 'scan' | 'manual'): ReportData {
  const series = [1, 2, 3, 4, 5].map(point);
  const total = series.reduce((n, p) => n + p.Requests, 0);
  return {
    TaskName: 'demo-report',
    TaskId: 'bt-1',
    RoundId: 3,
    ServiceName: 'demo',
    Region: 'cn-local',
    Mode: mode,
    Status: 'Stopped',
    Message: 'done',
    StartTime: '2026-11-23T10:00:00Z',
    EndTime: '2026-11-23T10:00:05Z',
    TargetUrl: 'http://127.0.0.1:8080/predict',
    Config: { service: { serviceName: 'demo', url: 'https://example.com/api' }, optional: { mode } },
    Result: {
      TotalRequests: total,
      SuccessRequests: total - 5,
      ErrorRequests: 5,
      ErrorRate: 5 / total,
      QPS: total / 5,
      AvgRT: 12.5,
      MinRT: 1,
      MaxRT: 80,
      TP50: 10,
      TP75: 14,
      TP90: 20,
      TP95: 25,
      TP99: 43,
      TP999: 70,
      BytesIn: total * 512,
      BytesOut: total * 128,
      StatusCodes: { '200': total - 5, '503': 5 },
      Dropped: 0,
      SendLagP99: 0.2,
      DurationS: 5,
      RTDistribution: [
        { Range: '[0,10)', Count: 300 },
        { Range: '[10,20)', Count: 500 },
        { Range: '[20,50)', Count: 100 },
      ],
    },
    Capacity: mode === 'scan' ? { QPS: 140, TP99: 43, ErrorRate: 0.01, Reason: 'maxRT' } : undefined,
    Series: series,
    Events: [
      { Time: '2026-11-23T10:00:02Z', Kind: 'step', Message: 'scan: target 120 QPS' },
      {
        Time: '2026-11-23T10:00:03Z',
        Kind: 'verdict',
        Message: 'scan: 120 QPS: achieved 119.5, TP99 42.1 ms, error rate 0.10%: good',
        Step: { TargetQPS: 120, AchievedQPS: 119.5, TP99: 42.125, ErrorRate: 0.001, Verdict: 'good', Why: 'TP99 <= maxRT 200 ms, error rate <= faultTolerate 1.00%' },
      },
      {
        Time: '2026-11-23T10:00:05Z',
        Kind: 'verdict',
        Message: 'scan: 150 QPS: achieved 148.3, TP99 212 ms, error rate 0.00%; TP99 212 ms > maxRT 200 ms',
        Step: { TargetQPS: 150, AchievedQPS: 148.25, TP99: 212.4, ErrorRate: 0, Verdict: 'bad', Why: 'TP99 212 ms > maxRT 200 ms' },
      },
    ],
    GeneratedAt: '2026-11-23T10:00:06Z',
  };
}

/** The text of `<section id="ID">...</section>`, or undefined. */
function section(html: string, id: string): string | undefined {
  const start = html.indexOf(`<section id="${id}">`);
  if (start < 0) return undefined;
  return html.slice(start, html.indexOf('</section>', start) + '</section>'.length);
}

const STEPS_HEADER = '<tr><th>Time</th><th>Target QPS</th><th>Achieved QPS</th><th>TP99 (ms)</th><th>Error rate</th><th>Verdict</th></tr>';

/** The text of `<figure id="chart-NAME">...</figure>`, or undefined. */
function figure(html: string, name: string): string | undefined {
  const start = html.indexOf(`<figure id="chart-${name}">`);
  if (start < 0) return undefined;
  return html.slice(start, html.indexOf('</figure>', start));
}

describe('HTML report', () => {
  const data = reportData('scan');
  const html = renderReportHtml(data);

  test('the Test Monitoring section holds every chart of SPEC 2.3 as inline SVG', () => {
    const monitoring = html.slice(html.indexOf('<section id="test-monitoring">'));
    for (const name of CHARTS) {
      const fig = figure(monitoring, name);
      expect(fig).toBeDefined();
      expect(fig).toMatch(/<figcaption>[^<]+<\/figcaption><svg/);
    }
  });

  test('the report loads nothing: no script, no src= or href= pointing outside', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    // the only http(s) URLs are the SVG namespaces and text from the task's own fields
    const urls = html.match(/https?:\/\/[^\s"'<>]+/g) ?? [];
    const allowed = ['http://www.w3.org/', 'http://127.0.0.1:8080/predict', 'https://example.com/api'];
    expect(urls.filter((u) => !allowed.some((a) => u.startsWith(a)))).toEqual([]);
  });

  test('a round whose start-up was left out of the latency figures says so, and one without says nothing of it', () => {
    const withWarmup = reportData('manual');
    withWarmup.Result = { ...withWarmup.Result!, WarmupExcludedS: 2 };
    expect(renderReportHtml(withWarmup)).toContain(
      "<td>Start-up left out of the latency figures</td><td>first 2 s (the agents&#39; start-up, generator-limited) left out of RT and send lag; counts and QPS cover the whole round</td>",
    );
    expect(html).not.toContain('Start-up left out');
  });

  test('the total request count appears', () => {
    expect(data.Result.TotalRequests).toBe(650);
    expect(html).toContain('<td>Total requests</td><td>650</td>');
  });

  test('the Steps table has one structured row per verdict and nothing of the other events', () => {
    expect(section(html, 'steps')).toBe(
      '<section id="steps"><h2>Steps</h2><table>' +
        STEPS_HEADER +
        '<tr><td>2026-11-23T10:00:03Z</td><td>120</td><td>119.50</td><td>42.125</td><td>0.10%</td><td>good: TP99 &lt;= maxRT 200 ms, error rate &lt;= faultTolerate 1.00%</td></tr>' +
        '<tr><td>2026-11-23T10:00:05Z</td><td>150</td><td>148.25</td><td>212.400</td><td>0.00%</td><td>bad: TP99 212 ms &gt; maxRT 200 ms</td></tr>' +
        '</table></section>',
    );
  });

  test('a verdict stored without a structured step (an older round) still renders, as its Message', () => {
    const old = reportData('scan');
    old.Events = [{ Time: '2026-11-23T10:00:05Z', Kind: 'verdict', Message: 'scan: 150 QPS; TP99 212 ms > maxRT 200 ms' }];
    expect(section(renderReportHtml(old), 'steps')).toBe(
      '<section id="steps"><h2>Steps</h2><table>' + STEPS_HEADER + '<tr><td>2026-11-23T10:00:05Z</td><td>-</td><td>-</td><td>-</td><td>-</td><td>scan: 150 QPS; TP99 212 ms &gt; maxRT 200 ms</td></tr></table></section>',
    );
  });

  test('manual mode has no steps table; charts still render with no target line', () => {
    const data = reportData('manual');
    data.Series = data.Series.map((p) => ({ ...p, TargetQPS: undefined }));
    const manual = renderReportHtml(data);
    expect(manual).not.toContain('<section id="steps">');
    for (const name of CHARTS) expect(figure(manual, name)).toContain('<svg');
  });

  test('an empty round (no seconds, no status codes) still renders every chart', () => {
    const data = reportData('manual');
    data.Series = [];
    data.Result = { ...data.Result, StatusCodes: {}, RTDistribution: [] };
    const charts = renderReportCharts(data);
    expect(charts.map((c) => c.name)).toEqual(CHARTS);
    for (const c of charts) expect(c.svg).toMatch(/^<svg/);
  });

  test('an LLM round gets the AISBench-style tables and the TTFT, TPOT and tokens/s charts', () => {
    const data = reportData('manual');
    const stat = (v: number) => ({ Average: v, Min: v, Max: v, Median: v, P75: v, P90: v, P99: v, N: 100 });
    const names = ['TTFT', 'TPOT', 'ITL', 'E2EL', 'InputTokens', 'OutputTokens', 'OutputTokenThroughput'] as const;
    const stage = Object.fromEntries(names.map((n, i) => [n, stat(i + 1.5)])) as unknown as NonNullable<ReportData['LLM']>['Total'];
    data.LLM = { Total: stage, Stable: stage, Common: { ...commonMetrics([], 0, 0, undefined), BenchmarkDuration: 12345.6, TotalRequests: 100, PrefillTokenThroughput: 2048.5 }, TokenSource: 'usage' };
    data.Series = data.Series.map((p) => ({ ...p, TTFTAvg: 100, TPOTAvg: 5, OutputTPS: 640, InFlight: 7.5, MaxInFlight: 8 }));
    // the steady stage from the second point's start to the last point's: shaded on the concurrency chart
    const [second, last] = [data.Series[1], data.Series[data.Series.length - 1]];
    data.LLM.StableStage = { StartMs: second.Time * 1000, EndMs: last.Time * 1000 };
    const html = renderReportHtml(data);
    expect(figure(html, 'concurrency')).toContain('steady stage');
    expect(html).toContain('<h2>LLM Performance</h2>');
    expect(html).toContain('<td>TTFT</td><td>stable</td><td>1.500</td>');
    expect(html).toContain('<td>Benchmark Duration</td><td>12345.6000</td>');
    expect(html).toContain('<td>Prefill Token Throughput</td><td>2048.5000</td>');
    expect(renderReportCharts(data).map((c) => c.name)).toEqual([...CHARTS, 'ttft', 'tpot', 'tps', 'concurrency']);
    for (const name of ['ttft', 'tpot', 'tps', 'concurrency']) expect(figure(html, name)).toMatch(/<svg/);
  });

  test('an LLM round of the prefix dataset names its prefix count and lengths', () => {
    const data = reportData('manual');
    const stat = (v: number) => ({ Average: v, Min: v, Max: v, Median: v, P75: v, P90: v, P99: v, N: 100 });
    const names = ['TTFT', 'TPOT', 'ITL', 'E2EL', 'InputTokens', 'OutputTokens', 'OutputTokenThroughput'] as const;
    const stage = Object.fromEntries(names.map((n, i) => [n, stat(i + 1.5)])) as unknown as NonNullable<ReportData['LLM']>['Total'];
    data.LLM = { Total: stage, Common: commonMetrics([], 0, 0, undefined), TokenSource: 'usage', Dataset: { Type: 'prefix', PrefixCount: 4, PrefixTokens: 2000, SuffixTokens: 100, PromptTokens: 2100 } };
    const html = renderReportHtml(data);
    expect(html).toContain('<h3>Dataset</h3><p class="dataset">4 shared prefixes of 2000 tokens, each prompt one of them and 100 tokens of its own (2100 tokens)</p><table><tr><th>Figure</th><th>Value</th></tr><tr><td>Type</td><td>prefix</td></tr><tr><td>PrefixCount</td><td>4</td></tr><tr><td>PrefixTokens</td><td>2000</td></tr><tr><td>SuffixTokens</td><td>100</td></tr>');
  });

  test('an LLM rate round held back by maxConcurrency: the queue rows, the asked and achieved rate, queue time beside TTFT, and what to change', () => {
    const data = reportData('manual');
    const stat = (v: number) => ({ Average: v, Min: 0, Max: v * 2, Median: v, P75: v, P90: v, P99: v, N: 100 });
    const names = ['TTFT', 'TPOT', 'ITL', 'ITLGap', 'E2EL', 'E2ELWithQueue', 'ClientQueueTime', 'InputTokens', 'OutputTokens', 'OutputTokenThroughput'] as const;
    const stage = Object.fromEntries(names.map((n, i) => [n, stat(i + 1.5)])) as unknown as NonNullable<ReportData['LLM']>['Total'];
    const common = { ...commonMetrics([], 0, 0, undefined), AskedRequestRate: 14, AchievedRequestRate: 9.8483 };
    data.LLM = { Total: stage, Common: common, TokenSource: 'usage' };
    data.Series = data.Series.map((p) => ({ ...p, TTFTAvg: 100, TPOTAvg: 5, ClientQueueAvg: 700, OutputTPS: 640, InFlight: 4, MaxInFlight: 4 }));
    data.Result = { ...data.Result, GeneratorLimitedShare: 0.8, GeneratorLimitedSeconds: 4 };
    data.Verdict = { Outcome: 'passed', Thresholds: [], Text: 'passed: requestCount of 100 reached', Ended: 'requestCount of 100 reached' };
    const html = renderReportHtml(data);
    expect(html).toContain('<td>E2ELWithQueue</td><td>total</td><td>6.500</td>');
    expect(html).toContain('<td>ClientQueueTime</td><td>total</td><td>7.500</td>');
    expect(html).toContain('<td>Asked Request Rate</td><td>14</td>');
    expect(html).toContain('<td>Achieved Request Rate</td><td>9.8483</td>');
    expect(figure(html, 'ttft')).toContain('Client queue time');
    expect(html).toContain('<p class="client-queue">Client queue: maxConcurrency held requests for a slot, up to 15 ms (mean 7.5 ms): 14 req/s asked, 9.8483 req/s sent; TTFT and E2EL count from the actual send, E2ELWithQueue from the scheduled one.</p>');
    const headline = html.slice(html.indexOf('<section id="verdict"'), html.indexOf('<section id="key-figures">'));
    expect(headline).toContain('llm.maxConcurrency holding them for a slot (client queue time up to 15.0 ms)');
    expect(headline).toContain('raise llm.maxConcurrency or ask a lower llm.requestRate');
    expect(headline).not.toContain('add agents');
  });

  test('the report leads with the verdict: outcome, capacity and its limit, thresholds, limits hit, generator share, failed requests by cause', () => {
    const withVerdict = reportData('scan');
    withVerdict.Config.optional = { mode: 'scan', maxRT: 200 };
    withVerdict.Result = { ...withVerdict.Result, GeneratorLimitedShare: 0.2, GeneratorLimitedSeconds: 1, ErrorClasses: { 'http status': 5 } };
    withVerdict.Verdict = {
      Outcome: 'failed',
      Capacity: { QPS: 140, TP99: 43, ErrorRate: 0.01, Reason: 'maxRT' },
      EndReason: 'duration',
      Ended: 'duration of 5 s reached',
      Thresholds: [
        { Metric: 'TP99', Expr: '< 40', Value: 43, Passed: false },
        { Metric: 'ErrorRate', Expr: '<= 0.01', Value: 0.0077, Passed: true, AbortOnFail: true },
      ],
      Text: 'failed: threshold TP99 < 40 failed (TP99 43.0 ms); capacity 140 QPS (maxRT)',
    };
    const page = renderReportHtml(withVerdict);
    // the headline comes before everything else of the report
    expect(page.indexOf('<section id="verdict"')).toBeLessThan(page.indexOf('<section id="key-figures">'));
    expect(page.indexOf('<section id="key-figures">')).toBeLessThan(page.indexOf('<section id="basic-information">'));
    const headline = page.slice(page.indexOf('<section id="verdict"'), page.indexOf('<section id="key-figures">'));
    expect(headline).toContain('<h2>Verdict: failed</h2>');
    expect(headline).toContain('<p class="verdict-text">failed: threshold TP99 &lt; 40 failed (TP99 43.0 ms); capacity 140 QPS (maxRT)</p>');
    expect(headline).toContain('<tr><th>Capacity</th><td>140 QPS, TP99 43.0 ms, error rate 1.00%, bounded by maxRT</td></tr>');
    expect(headline).toContain('<tr><th>Limits hit</th><td>maxRT 200 ms: the next rate&#39;s TP99 passed it; threshold TP99 &lt; 40: was 43.0 ms</td></tr>');
    expect(headline).toContain('add agents (optional.agentCount)');
    expect(headline).toContain('<tr><th>Failed requests</th><td>http status: 5 (0.77%)</td></tr>');
    expect(headline).toContain('<tr><td>TP99</td><td>&lt; 40</td><td>43.0 ms</td><td>failed</td></tr>');
    expect(headline).toContain('<tr><td>ErrorRate</td><td>&lt;= 0.01</td><td>0.0077 (0.77%)</td><td>passed (abortOnFail)</td></tr>');
    // the key figures carry their units
    const figures = section(page, 'key-figures') ?? '';
    expect(figures).toContain('130 req/s');
    expect(figures).toContain('325.0 KiB / 81.3 KiB');
    expect(figures).toContain('43.0 ms');
    expect(section(page, 'test-result')).toContain('<tr><th>Failed requests by cause</th><th>Count</th><th>Share of requests</th></tr><tr><td>http status</td><td>5</td><td>0.77%</td></tr>');
  });

  test('a report stored before verdicts existed has no headline, and no round outcome says "none found" for manual mode', () => {
    expect(html).not.toContain('id="verdict"');
    const manual = reportData('manual');
    manual.Verdict = { Outcome: 'passed', Thresholds: [], Text: 'passed: duration of 5 s reached', Ended: 'duration of 5 s reached' };
    const page = renderReportHtml(manual);
    expect(page).toContain('<h2>Verdict: passed</h2>');
    expect(page).not.toContain('none found');
    expect(page).toContain('No thresholds were set');
  });

  test('charts: maxRT drawn as a line, partial first and last seconds not drawn as rates, every RT line styled apart', () => {
    const scan = reportData('scan');
    scan.Config.optional = { mode: 'scan', maxRT: 200 };
    const charts = renderReportCharts(scan);
    const rt = charts.find((c) => c.name === 'rt');
    expect(rt?.svg).toContain('maxRT 200 ms');
    expect(rt?.note).toContain('maxRT (200 ms)');
    // dashed and dotted lines besides the solid ones: TP50, TP90 and the maxRT line
    expect(new Set(rt?.svg.match(/stroke-dasharray="[^"]+"/g) ?? []).size).toBeGreaterThanOrEqual(2);
    expect(renderReportCharts(reportData('scan')).find((c) => c.name === 'rt')?.svg).not.toContain('maxRT');
    expect(charts.find((c) => c.name === 'qps')?.note).toContain('first and last seconds are partial');
    const kept = wholeSeconds(scan.Series);
    expect(kept.points.map((p) => p.Elapsed)).toEqual([2, 3, 4]);
    expect(wholeSeconds(scan.Series.slice(0, 2)).points).toHaveLength(2);
    // idle seconds around the responses do not count: the partial ones are the first and last with responses
    const padded = [{ ...scan.Series[0], Elapsed: 0, Requests: 0 }, ...scan.Series];
    expect(wholeSeconds(padded).points.map((p) => p.Elapsed)).toEqual([0, 2, 3, 4]);
  });
});
