import * as echarts from 'echarts';
import { roundTo } from '../../src/contract';
import type { LlmSweep, PercentilePoint, StatsPoint } from '../../src/contract';
import { ReportData } from './model';

/** One chart of the report, rendered on the server to an inline SVG. */
export interface ReportChart {
  /** Stable id: the figure is `<figure id="chart-<name>">`. */
  name: string;
  title: string;
  svg: string;
  /** What the chart leaves out or marks, said under it. */
  note?: string;
}

/** Drawn at this size and scaled to the page's full width (the SVG keeps its viewBox). */
const WIDTH = 1200;
const HEIGHT = 320;

type Option = echarts.EChartsOption;

/** Renders one ECharts option to an SVG string; no DOM, no animation. The report's size unless told. */
export function renderSvg(option: Option, size: { width: number; height: number } = { width: WIDTH, height: HEIGHT }): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: size.width, height: size.height });
  try {
    chart.setOption({ animation: false, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

type Point = ReportData['Series'][number];

/** How a line is drawn apart from its colour, so that lines that coincide stay told apart. */
interface LineLook {
  dash?: 'solid' | 'dashed' | 'dotted';
  width?: number;
  symbol?: string;
  /** Drawn above lines of a lower z. */
  z?: number;
}

interface Line extends LineLook {
  name: string;
  value: (p: Point) => number | undefined;
}

/** A line chart over Elapsed seconds, one line per named series, drawn over `points` (all seconds unless told). */
function timeLines(data: ReportData, yName: string, lines: Line[], points: Point[] = data.Series): Option {
  return {
    legend: { top: 0 },
    grid: { left: 70, right: 30, top: 40, bottom: 50 },
    xAxis: { type: 'value', name: 'Elapsed (s)', nameLocation: 'middle', nameGap: 30, min: 'dataMin', max: 'dataMax' },
    yAxis: { type: 'value', name: yName },
    series: lines.map((l) => ({
      type: 'line' as const,
      name: l.name,
      showSymbol: l.symbol !== undefined,
      ...(l.symbol ? { symbol: l.symbol, symbolSize: 5 } : {}),
      lineStyle: { type: l.dash ?? 'solid', width: l.width ?? 2 },
      ...(l.z !== undefined ? { z: l.z } : {}),
      // a missing value (e.g. no target in manual mode) leaves a gap rather than a fake zero
      data: points.map((p) => {
        const v = l.value(p);
        return [p.Elapsed, v === undefined ? null : roundTo(v, 3)];
      }),
    })),
  };
}

/**
 * The seconds a per-second rate is drawn over. The first and last seconds
 * with responses are partial (the round starts and ends inside them), so
 * their counts are not rates: drawn, they would be dips that never happened.
 * They are left out of the rate charts (requests, traffic) and kept
 * everywhere else (latency is not a rate; the per-second table has them).
 * Rounds of under 3 such seconds keep them all: there would be nothing left.
 */
export function wholeSeconds(series: Point[]): { points: Point[]; dropped: number } {
  const active = series.map((p, i) => (p.Requests > 0 ? i : -1)).filter((i) => i >= 0);
  if (active.length < 3) return { points: series, dropped: 0 };
  const first = active[0];
  const last = active[active.length - 1];
  return { points: series.filter((_, i) => i !== first && i !== last), dropped: 2 };
}

/** The task's maxRT as a horizontal line across the response-time chart, the axis stretched to show it. */
function withMaxRt(option: Option, maxRt: number | undefined): Option {
  if (maxRt === undefined || !Array.isArray(option.series) || option.series.length === 0) return option;
  const [first, ...rest] = option.series;
  return {
    ...option,
    yAxis: { type: 'value', name: 'ms', max: (extent: { max: number }) => Math.ceil(Math.max(extent.max, maxRt * 1.1)) },
    series: [
      {
        ...first,
        markLine: { silent: true, symbol: 'none', lineStyle: { color: '#c62828', type: 'dashed', width: 2 }, label: { formatter: `maxRT ${maxRt} ms`, position: 'insideEndTop' }, data: [{ yAxis: maxRt }] },
      } as (typeof option.series)[number],
      ...rest,
    ],
  };
}

function bars(categories: string[], values: number[], yName: string, xName: string): Option {
  return {
    grid: { left: 70, right: 30, top: 30, bottom: 60 },
    xAxis: { type: 'category', data: categories, name: xName, nameLocation: 'middle', nameGap: 40, axisLabel: { interval: 0, rotate: categories.length > 8 ? 30 : 0 } },
    yAxis: { type: 'value', name: yName },
    series: [{ type: 'bar', data: values.map((v) => roundTo(v, 3)), label: { show: true, position: 'top' } }],
  };
}

/**
 * AISBench's concurrency chart: the mean and the most requests in flight in
 * each second, with the steady stage shaded from t2 to t4.
 */
function concurrencyChart(data: ReportData): Option {
  const option = timeLines(data, 'requests', [
    { name: 'In flight (mean)', value: (p) => p.InFlight },
    { name: 'In flight (most)', value: (p) => p.MaxInFlight, dash: 'dashed' },
  ]);
  const stage = data.LLM?.StableStage;
  const first = data.Series[0];
  if (!stage || !first || !Array.isArray(option.series)) return option;
  // Elapsed of a Unix ms: the series' seconds are Unix seconds with their Elapsed beside them
  const elapsed = (ms: number): number => roundTo(ms / 1000 - (first.Time - first.Elapsed), 3);
  option.series[0] = {
    ...option.series[0],
    markArea: { silent: true, itemStyle: { opacity: 0.15 }, label: { show: true, position: 'insideTop' }, data: [[{ name: 'steady stage', xAxis: elapsed(stage.StartMs) }, { xAxis: elapsed(stage.EndMs) }]] },
  } as (typeof option.series)[number];
  return option;
}

/** The latency a sweep's curve is drawn with: the knee's metric, else the first one the steps measured. */
function sweepMetric(sweep: LlmSweep): 'TTFT' | 'TPOT' | 'E2EL' {
  return sweep.Knee?.LatencyMetric ?? (['TTFT', 'TPOT', 'E2EL'] as const).find((m) => sweep.Steps.some((s) => s[m] !== null)) ?? 'TTFT';
}

/**
 * testMode sweep: latency at the sweep percentile against the request
 * throughput each judged load achieved, in load order, the capacity and the
 * knee marked (docs/llm.md, "Capacity under an SLO").
 */
function sweepChart(sweep: LlmSweep): Option {
  const metric = sweepMetric(sweep);
  const points = sweep.Steps.filter((s) => s.Seconds > 0 && s[metric] !== null).sort((a, b) => a.Load - b.Load);
  const mark = (name: string, step: { RequestThroughput: number; Load: number } | null, y: number | null): { name: string; coord: [number, number]; value: string }[] =>
    step && y !== null ? [{ name, coord: [step.RequestThroughput, y], value: `${name} ${step.Load}` }] : [];
  const capacity = sweep.CapacityStep;
  const knee = sweep.Knee;
  return {
    legend: { top: 0 },
    tooltip: { trigger: 'item' },
    grid: { left: 70, right: 30, top: 40, bottom: 50 },
    xAxis: { type: 'value', name: 'Request throughput (req/s)', nameLocation: 'middle', nameGap: 30, min: 0 },
    yAxis: { type: 'value', name: `${metric} p${sweep.SloPercentile} (ms)` },
    series: [
      {
        type: 'line' as const,
        name: `${metric} p${sweep.SloPercentile}`,
        showSymbol: true,
        symbolSize: 7,
        data: points.map((p) => [p.RequestThroughput, p[metric] as number]),
        markPoint: {
          symbol: 'pin',
          symbolSize: 40,
          label: { fontSize: 10 },
          data: [...mark('capacity', capacity, capacity ? capacity[metric] : null), ...mark('knee', knee ? { RequestThroughput: knee.RequestThroughput, Load: knee.Load } : null, knee ? knee.LatencyMs : null)],
        },
      },
    ],
  };
}

/** A percentile (0 … 99.999) on the classic HdrHistogram axis, 1/(1-p): each decade is one more nine. */
function nines(x: number): string {
  const p = 100 * (1 - 1 / x);
  return `${roundTo(p, 3)}%`;
}

/**
 * The latency percentile distribution, one line per named curve (a round, or
 * the two rounds of a comparison), on a log x axis of 1/(1-p) so that the
 * tail (99 %, 99.9 %, 99.99 %) gets as much room as the median.
 */
export function percentileChartOption(curves: readonly { name: string; points: readonly PercentilePoint[] }[]): Option {
  return {
    legend: { top: 0 },
    tooltip: { trigger: 'axis' },
    grid: { left: 70, right: 30, top: 40, bottom: 50 },
    xAxis: { type: 'log', logBase: 10, min: 1, max: 100_000, name: 'Percentile', nameLocation: 'middle', nameGap: 30, axisLabel: { formatter: (v: number) => nines(v) } },
    yAxis: { type: 'value', name: 'ms' },
    series: curves.map((c) => ({
      type: 'line' as const,
      name: c.name,
      showSymbol: false,
      // percentile 100 is x = infinity: the maximum is in the tables, not on this axis
      data: c.points.filter((p) => p.Percentile < 100).map((p) => [roundTo(1 / (1 - p.Percentile / 100), 6), p.Ms]),
    })),
  };
}

/** Every chart of SPEC 2.3 in the order the report shows them; TTFT, TPOT and tokens/s for LLM tasks. */
export function renderReportCharts(data: ReportData): ReportChart[] {
  const r = data.Result;
  const hasTarget = data.Series.some((p) => p.TargetQPS !== undefined);
  const whole = wholeSeconds(data.Series);
  const partialNote = whole.dropped > 0 ? 'The first and last seconds are partial (the round began and ended inside them) and are not drawn; the per-second table has them.' : undefined;
  const maxRt = data.Config.optional?.maxRT;
  const specs: { name: string; title: string; option: Option; note?: string }[] = [
    {
      name: 'qps',
      title: 'Requests per second',
      option: timeLines(
        data,
        'req/s',
        // a service that keeps up draws achieved on target: the target dashed above a thicker achieved line
        [{ name: 'Achieved', value: (p) => p.Requests, width: 3, z: 2 }, ...(hasTarget ? [{ name: 'Target', dash: 'dashed' as const, z: 3, value: (p: Point) => p.TargetQPS }] : [])],
        whole.points,
      ),
      note: partialNote,
    },
    {
      name: 'rt',
      title: 'Response time (ms)',
      // each line its own dash or marker, the lower percentiles drawn over the higher: TP90 is never hidden under TP99
      option: withMaxRt(
        timeLines(data, 'ms', [
          { name: 'Avg', value: (p) => p.RT.Avg, z: 5 },
          { name: 'TP50', value: (p) => p.RT.TP50, dash: 'dashed', z: 4 },
          { name: 'TP90', value: (p) => p.RT.TP90, dash: 'dotted', symbol: 'triangle', z: 3 },
          { name: 'TP99', value: (p) => p.RT.TP99, width: 3, z: 2 },
        ]),
        maxRt,
      ),
      note: maxRt !== undefined ? `The dashed red line is the task's maxRT (${maxRt} ms).` : undefined,
    },
    {
      name: 'traffic',
      title: 'Traffic (bytes per second)',
      option: timeLines(
        data,
        'bytes/s',
        [
          { name: 'In', value: (p) => p.BytesIn },
          { name: 'Out', value: (p) => p.BytesOut, dash: 'dashed' },
        ],
        whole.points,
      ),
      note: partialNote,
    },
    {
      name: 'rt-distribution',
      title: 'Response time interval distribution',
      option: bars(r.RTDistribution.map((b) => b.Range), r.RTDistribution.map((b) => b.Count), 'requests', 'RT interval (ms)'),
    },
    {
      name: 'rt-quantiles',
      title: 'Response time quantiles (ms)',
      option: bars(['Avg', 'TP50', 'TP75', 'TP90', 'TP95', 'TP99', 'TP99.9'], [r.AvgRT, r.TP50, r.TP75, r.TP90, r.TP95, r.TP99, r.TP999], 'ms', 'quantile'),
    },
    {
      name: 'status-codes',
      title: 'Status codes',
      option: bars(Object.keys(r.StatusCodes), Object.values(r.StatusCodes), 'responses', 'status code'),
    },
    {
      name: 'agents',
      title: 'Agents',
      option: timeLines(data, 'agents', [
        { name: 'Desired', value: (p) => p.AgentsDesired, dash: 'dashed', z: 2 },
        { name: 'Available', value: (p) => p.AgentsAvailable, symbol: 'circle', z: 3 },
      ]),
    },
  ];
  if (data.RTPercentiles && data.RTPercentiles.length > 0) {
    specs.push({ name: 'rt-percentiles', title: 'Response time percentile distribution (ms)', option: percentileChartOption([{ name: `Round ${data.RoundId}`, points: data.RTPercentiles }]) });
  }
  if (data.LLM) {
    specs.push(
      {
        name: 'ttft',
        title: 'TTFT (rate mode: and client queue time), average per second (ms)',
        option: timeLines(data, 'ms', [
          { name: 'TTFT', value: (p) => p.TTFTAvg },
          ...(data.Series.some((p) => p.ClientQueueAvg !== undefined) ? [{ name: 'Client queue time', value: (p: StatsPoint) => p.ClientQueueAvg }] : []),
        ]),
      },
      { name: 'tpot', title: 'TPOT, average per second (ms)', option: timeLines(data, 'ms', [{ name: 'TPOT', value: (p) => p.TPOTAvg }]) },
      { name: 'tps', title: 'Output tokens per second', option: timeLines(data, 'tokens/s', [{ name: 'Output TPS', value: (p) => p.OutputTPS }]) },
      { name: 'concurrency', title: 'Requests in flight per second (steady stage shaded)', option: concurrencyChart(data) },
    );
    const sweep = data.LLM.Sweep;
    if (sweep && sweep.Steps.length > 0) {
      const unit = sweep.By === 'rate' ? 'req/s' : 'streams';
      specs.push({
        name: 'llm-sweep',
        title: `Sweep: latency against throughput (${sweepMetric(sweep)} p${sweep.SloPercentile})`,
        option: sweepChart(sweep),
        note: `One point per load judged (${unit}), in load order; capacity ${sweep.Capacity ?? 'none'}${sweep.Knee ? `, knee at ${sweep.Knee.Load} ${unit}` : ''}. ${sweep.Outcome}`,
      });
    }
  }
  return specs.map((s) => ({ name: s.name, title: s.title, svg: renderSvg(s.option), ...(s.note ? { note: s.note } : {}) }));
}
