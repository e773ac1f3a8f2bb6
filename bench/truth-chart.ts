import * as fs from 'node:fs';
import type { EChartsOption, MarkAreaComponentOption } from 'echarts';
import { renderSvg } from '../controller/reports/charts';
import type { Point, Result } from './tasks';

/** One fixed-rate round against nginx and autocannon -R at the same rate, from the same run. */
export interface TruthRound {
  qps: number;
  durationS: number;
  series: Point[];
  result: Result;
  autocannonP99Ms: number;
}

const SIZE = { width: 960, height: 420 };
/**
 * The log axis cannot show 0: a figure under this (a send lag the histogram
 * rounds to 0) is drawn at it, and the axis name says so when one was.
 */
const FLOOR_MS = 0.01;
const COLORS = { tp99: '#c23531', sendLag: '#2f4554', gc: '#91a7b4', limited: 'rgba(238, 102, 102, 0.12)', autocannon: '#d48265' };

const floored = (v: number): number => Math.max(FLOOR_MS, v);

/** Whole decades around the figures, so the log axis neither clips a figure nor wastes a decade on nothing. */
function decades(values: number[]): { min: number; max: number } {
  const shown = values.map(floored);
  return { min: 10 ** Math.floor(Math.log10(Math.min(...shown))), max: 10 ** Math.ceil(Math.log10(Math.max(...shown))) };
}
const ms = (v: number): string => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;

/** Runs of consecutive generator-limited seconds, as [first, last] Elapsed labels. */
function limitedRuns(series: Point[]): [string, string][] {
  const runs: [string, string][] = [];
  let open: [string, string] | undefined;
  for (const p of series) {
    if (p.Generator?.Limited) {
      if (open) open[1] = String(p.Elapsed);
      else runs.push((open = [String(p.Elapsed), String(p.Elapsed)]));
    } else {
      open = undefined;
    }
  }
  return runs;
}

function limitedAreas(series: Point[]): MarkAreaComponentOption {
  return {
    silent: true,
    itemStyle: { color: COLORS.limited },
    label: { show: true, position: 'insideTop', color: '#a33', fontSize: 11 },
    data: limitedRuns(series).map(([first, last]) => [{ name: 'generator-limited', xAxis: first }, { xAxis: last }]),
  };
}

/** The round's own figures and autocannon's, one line under the title. */
function subtitle(r: TruthRound): string {
  const left = r.result.WarmupExcludedS ? ` (first ${r.result.WarmupExcludedS} s left out as start-up)` : '';
  const share = r.result.GeneratorLimitedShare === undefined ? '' : `, generator-limited ${(r.result.GeneratorLimitedShare * 100).toFixed(0)}% of seconds`;
  return `round: TP99 ${ms(r.result.TP99)}${left}, send-lag p99 ${ms(r.result.SendLagP99)}${share}; autocannon -c 100 -R ${r.qps}: p99 ${ms(r.autocannonP99Ms)}`;
}

/**
 * The per-second picture of one round: TP99 and send-lag p99 on a log axis
 * (one start-up second can be 100x the steady ones, and a linear axis would
 * flatten the rest to a line on the floor), the agent's GC pause per second
 * as bars on a second axis, the seconds the validity gate found
 * generator-limited shaded, and autocannon -R's p99 at the same rate as a
 * horizontal line to read the steady seconds against.
 */
export function truthChartOption(r: TruthRound): EChartsOption {
  const seconds = r.series.map((p) => String(p.Elapsed));
  // a second without responses has no latency: a gap, not a 0
  const perSecond = (value: (p: Point) => number): (number | null)[] => r.series.map((p) => (p.Requests > 0 ? floored(value(p)) : null));
  const tp99 = perSecond((p) => p.RT.TP99);
  const sendLag = perSecond((p) => p.SendLagP99);
  const raw = [...r.series.filter((p) => p.Requests > 0).flatMap((p) => [p.RT.TP99, p.SendLagP99]), r.autocannonP99Ms];
  const logAxis = decades(raw);
  const flooredNote = raw.some((v) => v < FLOOR_MS) ? `; under ${FLOOR_MS} drawn at ${FLOOR_MS}` : '';
  const gc = r.series.map((p) => (p.Generator ? p.Generator.GcPauseMs : null));
  // the bars keep to the lower half, under the lines they explain; the axis ends on a round figure
  const gcTop = 2 * Math.max(1, ...gc.filter((v): v is number => v !== null));
  const gcStep = 10 ** Math.floor(Math.log10(gcTop));
  const gcMax = Math.ceil(gcTop / gcStep) * gcStep;
  return {
    animation: false,
    backgroundColor: '#ffffff',
    title: {
      text: `${r.qps} QPS x ${r.durationS} s against nginx, one agent: per second`,
      subtext: subtitle(r),
      left: 'center',
      textStyle: { fontSize: 16 },
      subtextStyle: { fontSize: 12, color: '#444' },
    },
    legend: { bottom: 4, itemGap: 28 },
    grid: { left: 70, right: 70, top: 90, bottom: 80 },
    xAxis: { type: 'category', data: seconds, name: 'second of the round', nameLocation: 'middle', nameGap: 28 },
    yAxis: [
      { type: 'log', logBase: 10, ...logAxis, name: `TP99, send lag: ms (log scale${flooredNote})`, nameTextStyle: { align: 'left' } },
      { type: 'value', min: 0, max: gcMax, name: 'GC pause: ms in the second', nameTextStyle: { align: 'right' }, splitLine: { show: false } },
    ],
    series: [
      {
        type: 'bar',
        name: 'GC pause (ms in the second)',
        yAxisIndex: 1,
        barWidth: '40%',
        itemStyle: { color: COLORS.gc, opacity: 0.5 },
        data: gc,
        markArea: limitedAreas(r.series),
      },
      {
        type: 'line',
        name: 'TP99 (ms)',
        yAxisIndex: 0,
        symbolSize: 6,
        itemStyle: { color: COLORS.tp99 },
        lineStyle: { width: 2.5 },
        data: tp99,
        markLine: {
          silent: true,
          symbol: 'none',
          lineStyle: { type: 'dashed', color: COLORS.autocannon, width: 2 },
          label: { position: 'insideStartTop', formatter: `autocannon -R p99 ${ms(r.autocannonP99Ms)}`, color: COLORS.autocannon, backgroundColor: 'rgba(255, 255, 255, 0.6)', padding: 2 },
          data: [{ yAxis: floored(r.autocannonP99Ms) }],
        },
      },
      {
        type: 'line',
        name: 'send-lag p99 (ms)',
        yAxisIndex: 0,
        symbolSize: 6,
        itemStyle: { color: COLORS.sendLag },
        lineStyle: { width: 2, type: 'dotted' },
        data: sendLag,
      },
    ],
  };
}

/** The chart as a standalone SVG document. */
export function truthChartSvg(r: TruthRound): string {
  return renderSvg(truthChartOption(r), SIZE);
}

/** Draws a round into `file`; returns the SVG's size in bytes. */
export function writeTruthChart(file: string, r: TruthRound): number {
  const svg = truthChartSvg(r);
  fs.writeFileSync(file, svg);
  return Buffer.byteLength(svg);
}
