import type { LlmDatasetSection, StatsPoint, TaskDetail } from '../contract';
import type { BrowserFrame, LinkState } from './protocol';

/**
 * The page's script. `statsviewMain` is sent to the browser as its source
 * text (see page.ts), so it must be self-contained: type imports only, no
 * value from another module, every helper nested inside. It is still
 * compiled and type-checked with the rest (lib DOM).
 *
 * The page state is exposed as `window.__statsview` for tests: the number of
 * points, the task, the link state and each chart's data by series name.
 */

/** The part of ECharts the page uses (served from the installed package). */
interface EChartsInstance {
  setOption(option: unknown, opts?: { notMerge?: boolean; lazyUpdate?: boolean }): void;
  resize(): void;
}
/** The contract's `datasetLine`, whose source page.ts puts before this script. */
declare const datasetLine: (d: LlmDatasetSection) => string;
declare const echarts: { init(el: HTMLElement, theme?: string | null, opts?: { renderer?: 'canvas' | 'svg' }): EChartsInstance };

type Pair = [number | string, number];
type ChartData = Record<string, Pair[]>;

export interface StatsviewPageState {
  points: number;
  frames: number;
  link: LinkState | 'closed';
  /** Every link change in order, e.g. connected, lost, connected, closed. */
  links: string[];
  task?: TaskDetail;
  charts: Record<string, ChartData>;
  /** The shaded span of a chart, by chart id (the steady stage on the concurrency chart). */
  bands: Record<string, { name: string; from: number; to: number }>;
}

export function statsviewMain(): void {
  interface ChartSpec {
    id: string;
    /** curve: x is a value of its own (throughput), not the elapsed second. */
    kind: 'line' | 'bar' | 'curve';
    yName: string;
    llm?: boolean;
    /** Shown only when this holds (the sweep's curve: only for an llm sweep). */
    shown?(task: TaskDetail | undefined): boolean;
    data(series: StatsPoint[], task: TaskDetail | undefined): ChartData;
    /** A named span of the x axis to shade (elapsed seconds), e.g. the steady stage. */
    band?(series: StatsPoint[], task: TaskDetail | undefined): { name: string; from: number; to: number } | undefined;
  }

  const perSecond = (series: StatsPoint[], value: (p: StatsPoint) => number | undefined): Pair[] => {
    const out: Pair[] = [];
    for (const p of series) {
      const v = value(p);
      if (v !== undefined && v !== null && Number.isFinite(v)) out.push([p.Elapsed, v]);
    }
    return out;
  };
  const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;

  const specs: ChartSpec[] = [
    {
      id: 'chart-qps',
      kind: 'line',
      yName: 'requests/s',
      data: (s) => ({ Requests: perSecond(s, (p) => p.Requests), TargetQPS: perSecond(s, (p) => p.TargetQPS) }),
    },
    {
      id: 'chart-rt',
      kind: 'line',
      yName: 'ms',
      data: (s) => ({
        Avg: perSecond(s, (p) => round(p.RT.Avg)),
        TP50: perSecond(s, (p) => round(p.RT.TP50)),
        TP90: perSecond(s, (p) => round(p.RT.TP90)),
        TP99: perSecond(s, (p) => round(p.RT.TP99)),
      }),
    },
    {
      id: 'chart-traffic',
      kind: 'line',
      yName: 'bytes/s',
      data: (s) => ({ BytesIn: perSecond(s, (p) => p.BytesIn), BytesOut: perSecond(s, (p) => p.BytesOut) }),
    },
    {
      id: 'chart-rt-distribution',
      kind: 'bar',
      yName: 'requests',
      data: (_s, t) => ({ Requests: (t?.Result?.RTDistribution ?? []).map((b): Pair => [b.Range, b.Count]) }),
    },
    {
      id: 'chart-rt-quantiles',
      kind: 'bar',
      yName: 'ms',
      data: (_s, t) => {
        const r = t?.Result;
        if (!r) return { RT: [] };
        const q: Pair[] = [['Avg', r.AvgRT], ['TP50', r.TP50], ['TP75', r.TP75], ['TP90', r.TP90], ['TP95', r.TP95], ['TP99', r.TP99], ['TP99.9', r.TP999]];
        return { RT: q.map(([k, v]): Pair => [k, round(v, 2)]) };
      },
    },
    {
      id: 'chart-status-codes',
      kind: 'bar',
      yName: 'responses',
      data: (_s, t) => ({
        Responses: Object.entries(t?.Result?.StatusCodes ?? {})
          .sort(([a], [b]) => Number(a) - Number(b))
          .map(([code, n]): Pair => [code, n]),
      }),
    },
    {
      id: 'chart-agents',
      kind: 'line',
      yName: 'agents',
      data: (s) => ({ AgentsDesired: perSecond(s, (p) => p.AgentsDesired), AgentsAvailable: perSecond(s, (p) => p.AgentsAvailable) }),
    },
    {
      id: 'chart-ttft',
      kind: 'line',
      yName: 'ms',
      llm: true,
      // rate mode: the wait for a maxConcurrency slot beside TTFT (absent from the other modes)
      data: (s) => ({ TTFTAvg: perSecond(s, (p) => p.TTFTAvg), ...(s.some((p) => p.ClientQueueAvg !== undefined) ? { ClientQueueAvg: perSecond(s, (p) => p.ClientQueueAvg) } : {}) }),
    },
    { id: 'chart-tpot', kind: 'line', yName: 'ms', llm: true, data: (s) => ({ TPOTAvg: perSecond(s, (p) => p.TPOTAvg) }) },
    { id: 'chart-tps', kind: 'line', yName: 'tokens/s', llm: true, data: (s) => ({ OutputTPS: perSecond(s, (p) => p.OutputTPS) }) },
    {
      id: 'chart-concurrency',
      kind: 'line',
      yName: 'requests',
      llm: true,
      data: (s) => ({ InFlight: perSecond(s, (p) => p.InFlight), MaxInFlight: perSecond(s, (p) => p.MaxInFlight) }),
      band: (s, t) => {
        const stage = t?.LLM?.StableStage;
        const first = s[0];
        if (!stage || !first) return undefined;
        // elapsed of a Unix ms: the points' Time (Unix s) and Elapsed side by side
        const elapsed = (ms: number): number => round(ms / 1000 - (first.Time - first.Elapsed));
        return { name: 'steady stage', from: elapsed(stage.StartMs), to: elapsed(stage.EndMs) };
      },
    },
    {
      id: 'chart-sweep',
      kind: 'curve',
      yName: 'ms',
      llm: true,
      shown: (t) => (t?.LLM?.Sweep?.Steps.length ?? 0) > 0,
      data: (_s, t) => {
        const sweep = t?.LLM?.Sweep;
        if (!sweep) return {};
        // the knee's metric, else the first the steps measured: the one llm.slo bounds first
        const metric = sweep.Knee?.LatencyMetric ?? (['TTFT', 'TPOT', 'E2EL'] as const).find((m) => sweep.Steps.some((st) => st[m] !== null)) ?? 'TTFT';
        const points = sweep.Steps.filter((st) => st.Seconds > 0 && st[metric] !== null).sort((a, b) => a.Load - b.Load);
        const out: ChartData = { [`${metric} p${sweep.SloPercentile}`]: points.map((st): Pair => [st.RequestThroughput, st[metric] as number]) };
        if (sweep.CapacityStep && sweep.CapacityStep[metric] !== null) out.Capacity = [[sweep.CapacityStep.RequestThroughput, sweep.CapacityStep[metric] as number]];
        if (sweep.Knee) out.Knee = [[sweep.Knee.RequestThroughput, sweep.Knee.LatencyMs]];
        return out;
      },
    },
  ];

  const state: StatsviewPageState = { points: 0, frames: 0, link: 'connecting', links: [], charts: {}, bands: {} };
  (window as unknown as { __statsview: StatsviewPageState }).__statsview = state;
  let series: StatsPoint[] = [];
  let task: TaskDetail | undefined;
  const charts = new Map<string, EChartsInstance>();
  let bannerTimer: number | undefined;

  const byId = (id: string): HTMLElement => {
    const el = document.getElementById(id);
    if (!el) throw new Error(`missing element #${id}`);
    return el;
  };
  const text = (id: string, value: string): void => {
    byId(id).textContent = value;
  };
  const duration = (s: number): string => {
    const total = Math.max(0, Math.round(s));
    const m = Math.floor(total / 60);
    return `${m}:${String(total % 60).padStart(2, '0')}`;
  };
  const isLlm = (): boolean => task?.LLM !== undefined || series.some((p) => p.TTFTAvg !== undefined || p.TPOTAvg !== undefined || p.OutputTPS !== undefined);
  const finalStatuses = ['Stopped', 'CreateFailed', 'UpdateFailed', 'Terminated', 'Error'];

  const banner = (message: string, kind: 'warn' | 'ok' | 'info', hideAfterMs?: number): void => {
    const el = byId('banner');
    el.textContent = message;
    el.className = `banner ${kind}`;
    el.hidden = message === '';
    window.clearTimeout(bannerTimer);
    if (hideAfterMs) bannerTimer = window.setTimeout(() => (el.hidden = true), hideAfterMs);
  };

  const renderHeader = (): void => {
    if (!task) return;
    text('task-name', task.TaskName);
    text('task-mode', task.Mode);
    const status = byId('task-status');
    status.textContent = task.Status;
    status.className = `status status-${task.Status}`;
    const remaining = Math.max(0, task.DurationS - task.ElapsedS);
    text('task-elapsed', `${duration(task.ElapsedS)} / ${duration(task.DurationS)} (remaining ${duration(remaining)})`);
    text('task-target', task.Target ?? '-');
    const c = task.Capacity;
    text('task-capacity', c ? `${c.QPS} QPS, TP99 ${c.TP99} ms, error rate ${(c.ErrorRate * 100).toFixed(2)}% (${c.Reason})` : '-');
    const r = task.Result;
    // the validity gate: seconds in which the agents fell behind show the generator's latency, not the service's
    text(
      'task-generator',
      r?.GeneratorLimitedShare === undefined
        ? '-'
        : r.GeneratorLimitedShare === 0
          ? '0% of seconds'
          : `${(r.GeneratorLimitedShare * 100).toFixed(1)}% of seconds: their latency is the generator's, not the service's` +
            (r.WarmupExcludedS ? `; the first ${r.WarmupExcludedS} s (start-up) left out of RT and send lag` : ''),
    );
    // the round's verdict in the controller's words, the same line --wait ends with
    text('task-verdict', task.Verdict?.Text ?? '-');
    text('task-errors', errorCauses(task));
    text('task-names', namedLines(task));
    text('task-dataset', task.LLM?.Dataset ? datasetLine(task.LLM.Dataset) : '-');
    text('task-message', task.Message);
    renderReportLink(task.ReportUrl);
    // where each agent runs (with pool agents, the hosts of the fleet); the page script imports nothing, so it formats here
    const agents = (task.Agents ?? []).map((a) => `${a.AgentId} ${a.State}${a.Host ? ` on ${a.Host}` : ''}${a.Address && a.Address !== a.Host ? ` (${a.Address})` : ''}`);
    text('task-agents', agents.length ? agents.join(', ') : '-');
    const list = byId('events');
    list.replaceChildren();
    const events = (task.Events ?? []).slice(-12).reverse();
    for (const e of events) {
      const li = document.createElement('li');
      const time = document.createElement('span');
      time.className = 'time';
      time.textContent = e.Time;
      li.append(time, ` ${e.Message}`);
      list.append(li);
    }
    if (events.length === 0) {
      const li = document.createElement('li');
      li.textContent = 'no events yet';
      list.append(li);
    }
    document.title = `${task.TaskName} - ${task.Status} - statsview`;
  };

  /**
   * Failed requests by cause, `599 connection refused: 96,704 (100.00%)` a
   * line, as desc and the summary print them (formatErrorClassLine in the
   * contract; the page script imports nothing, so it formats here).
   */
  const errorCauses = (t: TaskDetail): string => {
    const r = t.Result;
    const entries = Object.entries(r?.ErrorClasses ?? {}).filter(([, n]) => (n ?? 0) > 0) as [string, number][];
    if (!r || entries.length === 0) return r && r.ErrorRequests > 0 ? `${r.ErrorRequests.toLocaleString('en-US')} (causes not recorded)` : '-';
    return entries
      .sort((a, b) => b[1] - a[1])
      .map(([name, n]) => {
        const status = name === 'http status' ? '' : name === 'timeout' ? '512 ' : '599 ';
        return `${status}${name}: ${n.toLocaleString('en-US')} (${((n / Math.max(1, r.TotalRequests)) * 100).toFixed(2)}%)`;
      })
      .join('\n');
  };

  /**
   * A task's named requests, one line each, as desc prints them
   * (`search: 4392 requests, 0.00% errors, 1464 QPS, TP50 1.57 ms, ...`).
   */
  const namedLines = (t: TaskDetail): string => {
    const byName = t.Result?.ByName ?? [];
    if (byName.length === 0) return '-';
    const n2 = (v: number): string => String(Number(v.toFixed(2)));
    return byName
      .map((n) => `${n.Name}: ${n.Requests} requests, ${(n.ErrorRate * 100).toFixed(2)}% errors, ${n2(n.QPS)} QPS, TP50 ${n2(n.TP50)} ms, TP90 ${n2(n.TP90)} ms, TP99 ${n2(n.TP99)} ms, TP99.9 ${n2(n.TP999)} ms`)
      .join('\n');
  };

  /** The report once the controller has written it: a link, opened in a new tab. */
  const renderReportLink = (url: string | undefined): void => {
    const cell = byId('task-report');
    const current = cell.querySelector('a');
    if (!url) {
      if (current || cell.textContent !== '-') cell.replaceChildren('-');
      return;
    }
    if (current?.href === url) return;
    const a = document.createElement('a');
    a.id = 'report-link';
    a.href = url;
    a.target = '_blank';
    a.rel = 'noopener';
    a.textContent = 'open the report';
    cell.replaceChildren(a);
  };

  const chartFor = (spec: ChartSpec): EChartsInstance => {
    let chart = charts.get(spec.id);
    if (!chart) {
      chart = echarts.init(byId(spec.id), null, { renderer: 'canvas' });
      charts.set(spec.id, chart);
    }
    return chart;
  };

  const renderCharts = (): void => {
    const llm = isLlm();
    byId('llm-charts').hidden = !llm;
    for (const spec of specs) {
      if (spec.llm && !llm) continue;
      if (spec.shown) {
        const shown = spec.shown(task);
        byId(spec.id).hidden = !shown;
        if (!shown) continue;
      }
      const data = spec.data(series, task);
      state.charts[spec.id] = data;
      const names = Object.keys(data);
      const title = byId(spec.id).dataset.title ?? spec.id;
      const common = {
        animation: false,
        title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
        tooltip: { trigger: 'axis' },
        grid: { left: 64, right: 24, top: 56, bottom: 40 },
        yAxis: { type: 'value', name: spec.yName, minInterval: spec.yName === 'agents' ? 1 : 0 },
      };
      if (spec.kind === 'line') {
        const band = spec.band?.(series, task);
        if (band) state.bands[spec.id] = band;
        const markArea = band ? { silent: true, itemStyle: { opacity: 0.15 }, label: { show: true, position: 'insideTop' }, data: [[{ name: band.name, xAxis: band.from }, { xAxis: band.to }]] } : undefined;
        chartFor(spec).setOption({
          ...common,
          legend: { top: 24, data: names },
          xAxis: { type: 'value', name: 's', min: 'dataMin', max: 'dataMax', minInterval: 1 },
          series: names.map((name, i) => ({ name, type: 'line', showSymbol: data[name].length < 2, data: data[name], ...(i === 0 && markArea ? { markArea } : {}) })),
        });
      } else if (spec.kind === 'curve') {
        // the curve a line through the loads, the capacity and the knee as single marked points
        chartFor(spec).setOption({
          ...common,
          tooltip: { trigger: 'item' },
          legend: { top: 24, data: names },
          xAxis: { type: 'value', name: 'req/s', min: 0 },
          series: names.map((name, i) => (i === 0 ? { name, type: 'line', showSymbol: true, data: data[name] } : { name, type: 'scatter', symbolSize: 14, data: data[name] })),
        });
      } else {
        const name = names[0];
        chartFor(spec).setOption({
          ...common,
          // Every label shown: the RT ranges are the point of the chart.
          xAxis: { type: 'category', data: data[name].map(([k]) => k), axisLabel: { interval: 0, fontSize: 11 } },
          series: [{ name, type: 'bar', data: data[name].map(([, v]) => v), label: { show: true, position: 'top' } }],
        });
      }
    }
  };

  const render = (): void => {
    state.points = series.length;
    state.task = task;
    renderHeader();
    renderCharts();
    if (task && finalStatuses.includes(task.Status)) {
      banner(`The task has ended (${task.Status}): these are its final figures. The summary was printed in the terminal${task.ReportUrl ? '; the report is linked above' : ''}.`, 'info');
    }
  };

  const setLink = (link: StatsviewPageState['link']): void => {
    state.link = link;
    state.links.push(link);
  };

  const apply = (frame: BrowserFrame): void => {
    state.frames++;
    switch (frame.Type) {
      case 'link':
        if (frame.State === 'lost') banner('connection to the controller lost, reconnecting...', 'warn');
        else if (frame.State === 'connected' && state.link === 'lost') banner('reconnected', 'ok', 5000);
        setLink(frame.State);
        return;
      case 'history':
        // The statsview sends the whole history on connect and after a reconnect: replace.
        series = frame.Series.slice();
        task = frame.Task;
        if (state.link === 'connecting') setLink('connected');
        break;
      case 'second': {
        const last = series[series.length - 1];
        if (!last || frame.Point.Time > last.Time) series.push(frame.Point);
        task = frame.Task;
        break;
      }
      case 'task':
        task = frame.Task;
        break;
    }
    render();
  };

  const connect = (): void => {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${location.pathname.replace(/\/$/, '')}/ws`);
    ws.onmessage = (ev: MessageEvent<string>) => apply(JSON.parse(ev.data) as BrowserFrame);
    ws.onclose = () => {
      setLink('closed');
      const name = task?.TaskName ?? 'NAME';
      if (task && finalStatuses.includes(task.Status)) {
        banner(`The task has ended (${task.Status}) and the statsview has closed: these are its final figures. The summary was printed in the terminal.`, 'info');
      } else {
        banner(`The statsview was closed (CTRL+C). The benchmark task is not affected; reopen the page with: eascmd bench visualize ${name}`, 'warn');
      }
    };
  };

  window.addEventListener('resize', () => charts.forEach((c) => c.resize()));
  connect();
}
