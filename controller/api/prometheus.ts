import { Counter, Gauge, Registry } from 'prom-client';
import { Clock, ERROR_CLASSES, ErrorClassCounts, LlmResult, LlmStatistic, NamedFigures, RoundResult, RtQuantiles, StatsPoint, systemClock, TaskStatus } from '../../src/contract';
import type { AgentState } from '../fleet/pool';
import { DEFAULT_METRICS_KEEP_S } from '../config';
import type { RoundFigures } from '../tasks/entry';
import { TaskManager } from '../tasks/manager';
import type { RoundRecord } from '../tasks/record';

/**
 * `GET /metrics` (SPEC 8, docs/metrics.md): the controller's figures in the
 * Prometheus text format, on a registry of its own. Nothing is counted on the
 * load path: every value is read on a scrape from what the task manager
 * already holds (the running rounds' accumulators and last finalized second)
 * and from the final figures of rounds that ended in the last `keepS`
 * seconds, kept here so that a round stays exported after its task is
 * restarted or deleted.
 */

/** Where the controller serves the scrape (the Kubernetes manifests' scrape annotations name it too). */
export const METRICS_PATH = '/metrics';

/** Every task status and agent state, so a gauge shows 0 rather than no series (the types make these lists complete). */
const TASK_STATUSES = Object.keys({
  Creating: 0, Running: 0, Updating: 0, Stopping: 0, Stopped: 0, CreateFailed: 0, UpdateFailed: 0, Terminated: 0, Error: 0, Deleting: 0,
} satisfies Record<TaskStatus, 0>) as TaskStatus[];
const AGENT_STATES = Object.keys({ launching: 0, connected: 0, ready: 0, done: 0, retiring: 0, disconnected: 0 } satisfies Record<AgentState, 0>) as AgentState[];

/** The quantile label of each response-time figure: min and max as quantiles 0 and 1, as Prometheus summaries do. */
const RESULT_QUANTILES: readonly [string, keyof RoundResult][] = [
  ['0', 'MinRT'], ['0.5', 'TP50'], ['0.75', 'TP75'], ['0.9', 'TP90'], ['0.95', 'TP95'], ['0.99', 'TP99'], ['0.999', 'TP999'], ['1', 'MaxRT'],
];
const SECOND_QUANTILES: readonly [string, keyof RtQuantiles][] = [
  ['0', 'Min'], ['0.5', 'TP50'], ['0.75', 'TP75'], ['0.9', 'TP90'], ['0.95', 'TP95'], ['0.99', 'TP99'], ['0.999', 'TP999'], ['1', 'Max'],
];
const NAMED_QUANTILES: readonly [string, 'TP50' | 'TP90' | 'TP99' | 'TP999'][] = [['0.5', 'TP50'], ['0.9', 'TP90'], ['0.99', 'TP99'], ['0.999', 'TP999']];
/** The LLM latency tables exported, by the lower-case part of their metric name (the queue times: rate mode only). */
const LLM_LATENCIES = [['ttft', 'TTFT'], ['tpot', 'TPOT'], ['itl', 'ITL'], ['e2el', 'E2EL'], ['e2el_with_queue', 'E2ELWithQueue'], ['client_queue_time', 'ClientQueueTime']] as const;

/** Most finished rounds kept at once, whatever their age: the memory a burst of short rounds may take is bounded. */
export const MAX_KEPT_ROUNDS = 1000;

/** One round as a scrape shows it: its totals, and (running rounds only) its last finalized second. */
interface RoundView {
  labels: { task: string; round: string };
  result: RoundResult;
  llm?: LlmResult;
  second?: StatsPoint;
}

interface ScrapeView {
  rounds: RoundView[];
  /** Running rounds' agents by state, by task. */
  agents: { task: string; states: Map<AgentState, number> }[];
  tasks: Map<TaskStatus, number>;
}

interface KeptRound {
  view: RoundView;
  endMs: number;
}

type Labels = Record<string, string>;
/** Sets one series of a metric being collected. */
type SetSeries = (labels: Labels, value: number) => void;
/** Defines a metric whose series `fill` sets from a scrape's view. */
type Define = (name: string, help: string, labelNames: string[], fill: (set: SetSeries, view: ScrapeView) => void) => void;
/** A fill that sets the series of each round. */
type PerRound = (fill: (set: SetSeries, round: RoundView) => void) => (set: SetSeries, view: ScrapeView) => void;

export class PrometheusExport {
  /** The registry `GET /metrics` serves; also read by the tests that check the names a dashboard uses. */
  readonly registry = new Registry();
  /** Each exported metric's label names, by metric name (prom-client keeps them, but not in its types). */
  readonly labelNames = new Map<string, readonly string[]>();
  /** Finished rounds by `task round`, oldest end first. */
  private readonly kept = new Map<string, KeptRound>();
  /** The view of the scrape being collected: built once per scrape, read by every metric. */
  private view?: ScrapeView;
  /**
   * Running rounds' totals by `task round`, with the count of finalized
   * seconds they were taken at: a round's figures change once a second, so
   * however often it is scraped its percentiles are computed once a second.
   */
  private liveResults = new Map<string, { seconds: number; result: RoundResult }>();

  /** `clock`: the controller's, which stamps a round's end and ages the rounds kept. */
  constructor(private readonly manager: TaskManager, private readonly keepS = DEFAULT_METRICS_KEEP_S, private readonly clock: Clock = systemClock) {
    manager.on('round-end', (taskName: string, round: RoundRecord, figures: RoundFigures) => this.keep(taskName, round, figures));
    this.define();
  }

  /** The text of one scrape. */
  async scrape(): Promise<string> {
    // every metric's collect runs synchronously within this call, so they all read one view
    this.view = undefined;
    try {
      return await this.registry.metrics();
    } finally {
      this.view = undefined;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private keep(taskName: string, round: RoundRecord, figures: RoundFigures): void {
    const key = `${taskName} ${round.roundId}`;
    this.kept.delete(key);
    this.kept.set(key, { endMs: round.endMs ?? this.clock.nowMs(), view: { labels: { task: taskName, round: String(round.roundId) }, result: figures.result, llm: figures.llm } });
    for (const oldest of this.kept.keys()) {
      if (this.kept.size <= MAX_KEPT_ROUNDS) break;
      this.kept.delete(oldest);
    }
  }

  private current(): ScrapeView {
    this.view ??= this.build();
    return this.view;
  }

  private build(): ScrapeView {
    const nowMs = this.clock.nowMs();
    for (const [key, round] of this.kept) {
      if (nowMs - round.endMs < this.keepS * 1000) break;
      this.kept.delete(key);
    }
    const rounds: RoundView[] = [];
    const agents: ScrapeView['agents'] = [];
    const tasks = new Map<TaskStatus, number>(TASK_STATUSES.map((s) => [s, 0]));
    const liveResults = new Map<string, { seconds: number; result: RoundResult }>();
    for (const entry of this.manager.entries()) {
      tasks.set(entry.record.status, (tasks.get(entry.record.status) ?? 0) + 1);
      const live = entry.live();
      if (!live) continue;
      const states = new Map<AgentState, number>(AGENT_STATES.map((s) => [s, 0]));
      for (const agent of live.agents) states.set(agent.state, (states.get(agent.state) ?? 0) + 1);
      agents.push({ task: entry.taskName, states });
      const key = `${entry.taskName} ${live.roundId}`;
      const seconds = live.series.length;
      const cached = this.liveResults.get(key);
      const result = cached?.seconds === seconds ? cached.result : live.result;
      liveResults.set(key, { seconds, result });
      rounds.push({ labels: { task: entry.taskName, round: String(live.roundId) }, result, llm: live.llm, second: live.series[seconds - 1] });
    }
    this.liveResults = liveResults;
    for (const round of this.kept.values()) rounds.push(round.view);
    return { rounds, agents, tasks };
  }

  // ------------------------------------------------------------ the metrics

  private define(): void {
    const registers = [this.registry];
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client calls collect with the metric as `this`
    const exporter = this;
    /** A metric's settings: on each scrape its series are emptied and set afresh from the view, `put` setting one on the metric. */
    const collected = <M extends Gauge | Counter>(name: string, help: string, labelNames: string[], fill: Parameters<Define>[3], put: (metric: M, labels: Labels, value: number) => void) => {
      this.labelNames.set(name, labelNames);
      return {
        name, help, labelNames, registers,
        collect(this: M) {
          this.reset();
          fill((labels, value) => put(this, labels, value), exporter.current());
        },
      };
    };
    const gauge: Define = (...metric) => new Gauge(collected<Gauge>(...metric, (g, labels, value) => g.set(labels, value)));
    // a counter here is a round's running total read from its accumulator: set, not incremented, on each scrape
    const counter: Define = (...metric) => new Counter(collected<Counter>(...metric, (c, labels, value) => c.inc(labels, value)));
    const perRound: PerRound = (fill) => (set, view) => {
      for (const round of view.rounds) fill(set, round);
    };

    counter('easbench_requests_total', 'Requests of the round that completed (responses and failures), by status code (512 timeout, 599 connection failure); they sum to the round\'s TotalRequests.',
      ['task', 'round', 'code'], perRound((set, r) => {
        for (const [code, n] of Object.entries(r.result.StatusCodes)) set({ ...r.labels, code }, n);
      }));
    counter('easbench_errors_total', 'Failed requests of the round by cause class (SPEC 7); every class is listed once the round\'s classes are known.',
      ['task', 'round', 'class'], perRound((set, r) => {
        const classes = knownClasses(r.result);
        if (classes) for (const c of ERROR_CLASSES) set({ ...r.labels, class: c }, classes[c] ?? 0);
      }));
    gauge('easbench_response_time_ms', 'Response time of the round (window="round", the agents\' histograms merged, as desc\'s Result) or of its last finalized second (window="second", running rounds), ms; quantile 0 is the minimum, 1 the maximum.',
      ['task', 'round', 'window', 'quantile'], perRound((set, r) => {
        if (measured(r)) for (const [quantile, key] of RESULT_QUANTILES) set({ ...r.labels, window: 'round', quantile }, r.result[key] as number);
        if (r.second && r.second.Requests > 0) for (const [quantile, key] of SECOND_QUANTILES) set({ ...r.labels, window: 'second', quantile }, r.second.RT[key]);
      }));
    gauge('easbench_response_time_avg_ms', 'Mean response time of the round or of its last finalized second, ms.',
      ['task', 'round', 'window'], perRound((set, r) => {
        if (measured(r)) set({ ...r.labels, window: 'round' }, r.result.AvgRT);
        if (r.second && r.second.Requests > 0) set({ ...r.labels, window: 'second' }, r.second.RT.Avg);
      }));
    gauge('easbench_target_qps', 'The rate the mode asks of the agents in the last finalized second (running rounds of modes with a target rate).',
      ['task', 'round'], perRound((set, r) => {
        if (r.second?.TargetQPS !== undefined) set(r.labels, r.second.TargetQPS);
      }));
    gauge('easbench_achieved_qps', 'Requests completed per second: the round\'s QPS (window="round", desc\'s Result.QPS) or the last finalized second\'s (window="second").',
      ['task', 'round', 'window'], perRound((set, r) => {
        set({ ...r.labels, window: 'round' }, r.result.QPS);
        if (r.second) set({ ...r.labels, window: 'second' }, r.second.Requests);
      }));
    gauge('easbench_send_lag_p99_ms', 'p99 of the lag between a request\'s scheduled and actual send, of the round or of its last finalized second, ms.',
      ['task', 'round', 'window'], perRound((set, r) => {
        set({ ...r.labels, window: 'round' }, r.result.SendLagP99);
        if (r.second) set({ ...r.labels, window: 'second' }, r.second.SendLagP99);
      }));
    counter('easbench_generator_limited_seconds_total', 'Seconds of the round the validity gate found generator-limited (the agents, not the service, set their latency).',
      ['task', 'round'], perRound((set, r) => {
        if (r.result.GeneratorLimitedSeconds !== undefined) set(r.labels, r.result.GeneratorLimitedSeconds);
      }));
    counter('easbench_dropped_requests_total', 'Requests of the round dropped at the agents\' in-flight cap (open loop).',
      ['task', 'round'], perRound((set, r) => set(r.labels, r.result.Dropped)));
    this.defineNamed(gauge, counter, perRound);
    gauge('easbench_agents', 'Agents of the running rounds by state (launching, connected, ready, done, retiring, disconnected).',
      ['task', 'state'], (set, view) => {
        for (const { task, states } of view.agents) for (const [state, n] of states) set({ task, state }, n);
      });
    gauge('easbench_tasks', 'Tasks the controller holds, by status.', ['status'], (set, view) => {
      for (const [status, n] of view.tasks) set({ status }, n);
    });
    this.defineLlm(gauge, counter, perRound);
  }

  /** A task's named requests (weighted `requests`, a replay's paths): each name's figures of the round, as desc's Result.ByName. */
  private defineNamed(gauge: Define, counter: Define, perRound: PerRound): void {
    const perName = (fill: (set: SetSeries, labels: Labels, figures: NamedFigures) => void): ReturnType<PerRound> =>
      perRound((set, r) => {
        for (const figures of r.result.ByName ?? []) fill(set, { ...r.labels, name: figures.Name }, figures);
      });
    counter('easbench_named_requests_total', 'Requests of the round under each request name (desc\'s Result.ByName: weighted requests, a replay\'s paths).',
      ['task', 'round', 'name'], perName((set, labels, n) => set(labels, n.Requests)));
    counter('easbench_named_errors_total', 'Failed requests of the round under each request name.',
      ['task', 'round', 'name'], perName((set, labels, n) => set(labels, n.Errors)));
    gauge('easbench_named_qps', 'Requests per second of the round under each request name.',
      ['task', 'round', 'name'], perName((set, labels, n) => set(labels, n.QPS)));
    gauge('easbench_named_response_time_ms', 'Response time of the round under each request name, ms (the name\'s histograms merged across agents).',
      ['task', 'round', 'name', 'quantile'], perName((set, labels, n) => {
        if (n.Requests === 0) return;
        for (const [quantile, key] of NAMED_QUANTILES) set({ ...labels, quantile }, n[key]);
      }));
  }

  private defineLlm(gauge: Define, counter: Define, perRound: PerRound): void {
    for (const [name, metric] of LLM_LATENCIES) {
      gauge(`easbench_llm_${name}_ms`, `${metric} of the LLM round's requests (desc's LLM.Total.${metric}), ms; quantile 0 is the minimum, 1 the maximum.`,
        ['task', 'round', 'quantile'], perRound((set, r) => {
          const statistic = r.llm?.Total[metric];
          if (statistic && statistic.N > 0) for (const [quantile, value] of statisticQuantiles(statistic)) set({ ...r.labels, quantile }, value);
        }));
      gauge(`easbench_llm_${name}_avg_ms`, `Mean ${metric} of the LLM round's requests, ms.`,
        ['task', 'round'], perRound((set, r) => {
          const statistic = r.llm?.Total[metric];
          if (statistic && statistic.N > 0) set(r.labels, statistic.Average);
        }));
    }
    gauge('easbench_llm_token_throughput', 'Tokens per second of the LLM round (window="round": desc\'s LLM.Common, kind input, output or total) or of its last finalized second (window="second", kind output).',
      ['task', 'round', 'window', 'kind'], perRound((set, r) => {
        if (r.llm) {
          set({ ...r.labels, window: 'round', kind: 'input' }, r.llm.Common.InputTokenThroughput);
          set({ ...r.labels, window: 'round', kind: 'output' }, r.llm.Common.OutputTokenThroughput);
          set({ ...r.labels, window: 'round', kind: 'total' }, r.llm.Common.TotalTokenThroughput);
        }
        if (r.second?.OutputTPS !== undefined) set({ ...r.labels, window: 'second', kind: 'output' }, r.second.OutputTPS);
      }));
    counter('easbench_llm_tokens_total', 'Tokens of the LLM round: input (prompts) and output (generated).',
      ['task', 'round', 'kind'], perRound((set, r) => {
        if (!r.llm) return;
        set({ ...r.labels, kind: 'input' }, r.llm.Common.TotalInputTokens);
        set({ ...r.labels, kind: 'output' }, r.llm.Common.TotalGeneratedTokens);
      }));
    gauge('easbench_llm_request_throughput', 'Requests per second of the LLM round (desc\'s LLM.Common.RequestThroughput).',
      ['task', 'round'], perRound((set, r) => {
        if (r.llm) set(r.labels, r.llm.Common.RequestThroughput);
      }));
    gauge('easbench_llm_goodput', 'Successful requests per second of the LLM round that met every llm.slo bound.',
      ['task', 'round'], perRound((set, r) => {
        if (r.llm) set(r.labels, r.llm.Common.Goodput);
      }));
    gauge('easbench_llm_in_flight', 'Mean requests in flight during the last finalized second of a running LLM round.',
      ['task', 'round'], perRound((set, r) => {
        if (r.second?.InFlight !== undefined) set(r.labels, r.second.InFlight);
      }));
  }
}

/** Whether the round has latency figures: as desc, which shows a Result only once a request completed (a 0 ms TP99 of nothing is no figure). */
function measured(round: RoundView): boolean {
  return round.result.TotalRequests > 0;
}

/**
 * The round's failures by class, when they are known: a round stored before
 * classes existed and with failures has none to show; one with no failure
 * has every class at 0.
 */
function knownClasses(result: RoundResult): ErrorClassCounts | undefined {
  return result.ErrorClasses ?? (result.ErrorRequests === 0 ? {} : undefined);
}

/** An LLM table row as quantiles: Min 0, Median 0.5, each `P<p>` p/100, Max 1. */
function statisticQuantiles(statistic: LlmStatistic): [string, number][] {
  const out: [string, number][] = [['0', statistic.Min], ['0.5', statistic.Median]];
  for (const [key, value] of Object.entries(statistic)) {
    const p = /^P(\d+(?:\.\d+)?)$/.exec(key);
    // 99.9 / 100 is 0.9990000000000001 in floating point: the label is written as the decimal it names
    if (p) out.push([String(Number((Number(p[1]) / 100).toPrecision(12))), value]);
  }
  out.push(['1', statistic.Max]);
  return out;
}
