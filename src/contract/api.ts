import type { LlmMetricKey, LlmRequestRecord } from './llm-protocol';
import type { LlmCommonMetrics, LlmModeSections } from './llm-results';
import { TaskSpec } from './task';
import type { Capacity, ErrorClassCounts, ThresholdResult, Verdict } from './verdict';
import type { NamedFigures } from './requests';

/** Shapes of the controller's REST API (PascalCase, as the EAS OpenAPI). */
export const API_PREFIX = '/api/v2/benchmark-tasks';
export const STATSVIEW_PATH = '/eas-benchmark/statsview';
/** `GET` lists the agents: the pool's (idle and busy) under `--agent-launcher pool`, else those of running rounds. */
export const AGENTS_API_PATH = '/api/v2/benchmark-agents';

export type TaskStatus =
  | 'Creating'
  | 'Running'
  | 'Updating'
  | 'Stopping'
  | 'Stopped'
  | 'CreateFailed'
  | 'UpdateFailed'
  | 'Terminated'
  | 'Error'
  | 'Deleting';

/** Statuses in which no round is running any more. */
export const FINAL_STATUSES: readonly TaskStatus[] = ['Stopped', 'CreateFailed', 'UpdateFailed', 'Terminated', 'Error'];

export function isFinalStatus(status: TaskStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export interface ApiResponse {
  RequestId: string;
}

/**
 * `GET /healthz` (no auth): that a controller answers, and its region.
 * Nothing more is told to anyone who asks: the pid and version are in
 * ControllerInfoResponse, for a key holder.
 */
export interface HealthResponse {
  Status: 'ok';
  Region: string;
}

/** Where a key holder asks the controller for its pid and version (signed GET). */
export const CONTROLLER_INFO_PATH = '/api/v2/controller';

/**
 * `GET /api/v2/controller` (signed): the process, for `eascmd controller
 * status` and `stop`. `Proof` (controllerInfoProof) is made with the secret
 * of the key that signed the request over its nonce, the pid and the
 * version: the caller checks it, so only a controller holding the key of the
 * caller's data dir can have a pid signalled.
 */
export interface ControllerInfoResponse extends ApiResponse {
  Region: string;
  /** The eas-bench package version of the running controller. */
  Version: string;
  Pid: number;
  Proof: string;
}

export interface ErrorResponse extends ApiResponse {
  Code: string;
  Message: string;
  Field?: string;
}

export interface CreateTaskResponse extends ApiResponse {
  TaskId: string;
  TaskName: string;
  Region: string;
  Status: TaskStatus;
  Message: string;
  /** scan/auto: the duration is likely too short for the search to reach a verdict (absent when it is not). */
  Warning?: string;
}

export interface TaskSummary {
  TaskName: string;
  TaskId: string;
  Region: string;
  ServiceName: string;
  Mode: string;
  DesiredAgent: number;
  AvailableAgent: number;
  Status: TaskStatus;
  Message: string;
  CreateTime: string;
  UpdateTime: string;
}

export interface RtDistributionBucket {
  /** `[0,10)`, `[10,20)`, ..., `[2000,+inf)` in ms. */
  Range: string;
  Count: number;
}

/** Totals of one round. Times in ms. */
export interface RoundResult {
  /** A task's named requests (requests.ts), each with its own figures, in the order their first responses came. */
  ByName?: NamedFigures[];
  TotalRequests: number;
  SuccessRequests: number;
  ErrorRequests: number;
  ErrorRate: number;
  QPS: number;
  AvgRT: number;
  MinRT: number;
  MaxRT: number;
  TP50: number;
  TP75: number;
  TP90: number;
  TP95: number;
  TP99: number;
  TP999: number;
  BytesIn: number;
  BytesOut: number;
  StatusCodes: Record<string, number>;
  Dropped: number;
  SendLagP99: number;
  DurationS: number;
  RTDistribution: RtDistributionBucket[];
  /**
   * Share (0..1) of the round's seconds that were generator-limited: the
   * agents fell behind their own schedule, so the latency of those seconds is
   * the generator's, not the service's. Absent in rounds stored before it existed.
   */
  GeneratorLimitedShare?: number;
  GeneratorLimitedSeconds?: number;
  /**
   * Leading seconds (the agents' start-up, generator-limited) left out of the
   * latency figures (RT percentiles, RTDistribution, SendLagP99); counts and
   * QPS cover the whole round. Absent: nothing was left out.
   */
  WarmupExcludedS?: number;
  /** Failed requests by cause class (SPEC 7); they sum to ErrorRequests. Absent in rounds stored before classes existed. */
  ErrorClasses?: ErrorClassCounts;
  /** The task's `thresholds`, judged on this round's merged figures (live while it runs). */
  Thresholds?: ThresholdResult[];
}

/** What a round's latency figures leave out, in one line for the summary and the report (docs/performance.md). */
export function describeWarmupExcluded(seconds: number): string {
  return `first ${seconds} s (the agents' start-up, generator-limited) left out of RT and send lag; counts and QPS cover the whole round`;
}

export type TaskEventKind = 'step' | 'verdict' | 'hold' | 'revise' | 'agent-added' | 'agent-lost' | 'status' | 'update' | 'info' | 'error' | 'storage';

/**
 * How scan or auto judged a step. `agents-behind`: the agents, not the
 * service, fell behind their schedule, so auto runs the step again with one
 * more agent instead of judging the service on it. `saturated`: the service
 * did not keep up with the rate (completions short of sends, drops, or a
 * queue building); never good.
 */
export type StepVerdict = 'good' | 'bad' | 'saturated' | 'agents-behind';

/** One judged step (one target rate) of scan or auto, on the merged samples of its judged seconds. */
export interface Step {
  TargetQPS: number;
  /** Responses completed per second. */
  AchievedQPS: number;
  /** TP99 of the step's merged histogram, ms. */
  TP99: number;
  ErrorRate: number;
  Verdict: StepVerdict;
  /** The limit passed, or the limits met: "TP99 212 ms > maxRT 200 ms". */
  Why: string;
  /** Share (0..1) of the step's seconds that were generator-limited (absent: none); maxRT is judged without them. */
  GeneratorLimitedShare?: number;
}

export interface TaskEvent {
  Time: string;
  Kind: TaskEventKind;
  Message: string;
  /**
   * On `verdict` events: the judged step, one per step. Absent on events
   * stored before steps were structured, whose Message alone says it.
   */
  Step?: Step;
}

/**
 * One row of an LLM table. `Median` is always there; every other percentile
 * of `llm.percentiles` is a `P<p>` key (`P75`, `P99`, `P99.9`), in the
 * order asked (percentileKey names them).
 */
export type LlmStatistic = { Average: number; Min: number; Max: number; Median: number; N: number } & { [percentile: `P${string}`]: number };

/** The columns of an LLM table, in order (Average, Min, Max, Median, the percentiles, N), as its rows hold them. */
export function statisticColumns(stage: Partial<Record<string, LlmStatistic>> | undefined): string[] {
  const first = Object.values(stage ?? {}).find((s) => s !== undefined);
  return first ? Object.keys(first) : ['Average', 'Min', 'Max', 'Median', 'P75', 'P90', 'P99', 'N'];
}

/** The key of percentile `p` in an LlmStatistic: `Median` for 50, else `P<p>`. */
export function percentileKey(p: number): 'Median' | `P${string}` {
  return p === 50 ? 'Median' : `P${p}`;
}

export type LlmMetricName = LlmMetricKey;

/** AISBench's "Common Metric" names, with their spaces, by the JSON key of LlmCommonMetrics. */
export const COMMON_METRIC_NAMES: Readonly<Record<keyof LlmCommonMetrics, string>> = {
  BenchmarkDuration: 'Benchmark Duration',
  TotalRequests: 'Total Requests',
  FailedRequests: 'Failed Requests',
  SuccessRequests: 'Success Requests',
  Concurrency: 'Concurrency',
  MaxConcurrency: 'Max Concurrency',
  RequestThroughput: 'Request Throughput',
  TotalInputTokens: 'Total Input Tokens',
  PrefillTokenThroughput: 'Prefill Token Throughput',
  TotalGeneratedTokens: 'Total Generated Tokens',
  InputTokenThroughput: 'Input Token Throughput',
  OutputTokenThroughput: 'Output Token Throughput',
  TotalTokenThroughput: 'Total Token Throughput',
  Goodput: 'Goodput',
};

/** The reference name of a common metric key (the key itself when it has none). */
export function commonMetricName(key: string): string {
  return (COMMON_METRIC_NAMES as Readonly<Record<string, string>>)[key] ?? key;
}

/** Common metrics keyed by their reference names (`Benchmark Duration`, ...), in AISBench's order. */
export function namedCommonMetrics(common: LlmCommonMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(common)) out[commonMetricName(key)] = value;
  return out;
}

/** The AISBench tables, and the sections of the run modes and options (`llm-results.ts`). */
export interface LlmResult extends LlmModeSections {
  Total: Record<LlmMetricName, LlmStatistic>;
  /** The steady stage's tables; absent when the stage is not reliable (`StableAbsent` says why). */
  Stable?: Record<LlmMetricName, LlmStatistic>;
  /**
   * Why `Stable` and `StableCommon` are absent, in one line: the stage is
   * shorter than the minimum, or not three times the longest E2EL
   * (AISBench's rule for reliable throughputs), or there is none.
   */
  StableAbsent?: string;
  /** Common metrics of the whole run. */
  Common: LlmCommonMetrics;
  /** The same common metrics for the steady stage. */
  StableCommon?: LlmCommonMetrics;
  /**
   * The common metrics again under the names the references give them, with
   * spaces (`Benchmark Duration`, `Max Concurrency`), as the tables show them;
   * `Common` and `StableCommon` keep SPEC 6's names without spaces.
   */
  CommonMetric?: { Total: Record<string, number>; Stable?: Record<string, number> };
  /** Where token counts came from: usage, tokenizer, or chunks (said in the report). */
  TokenSource?: string;
  /** The percentiles of the tables (`llm.percentiles`). */
  Percentiles?: number[];
  /** The steady stage, Unix ms (t2 and t4 of AISBench), when there is one. */
  StableStage?: { StartMs: number; EndMs: number };
  /**
   * How the figures were computed: `histograms` (live and stored results:
   * the agents' per-second HDR histograms, percentiles within 0.1%) or
   * `records` (`bench recompute`: exact, from every stored request).
   */
  Computed?: 'histograms' | 'records';
}

export interface TaskDetail extends TaskSummary {
  Config: TaskSpec;
  RoundId: number;
  StartTime?: string;
  EndTime?: string;
  /** Seconds the current round has run. */
  ElapsedS: number;
  DurationS: number;
  CurrentQPS?: number;
  TP99?: number;
  ErrorRate?: number;
  /** Current target of the mode: QPS (scan/auto) or agents x concurrency (manual). */
  Target?: string;
  Result?: RoundResult;
  Capacity?: Capacity;
  Events: TaskEvent[];
  LLM?: LlmResult;
  ReportUrl?: string;
  /** The running round's agents, with the host each runs on. */
  Agents?: AgentView[];
  /** What the round concluded (SPEC 7); while it runs, the verdict so far. */
  Verdict?: Verdict;
}

export interface GetTaskResponse extends ApiResponse, TaskDetail {}

/** `GET .../:name/verdict?round=ID` (`bench check`): a finished round judged again. */
export interface VerdictResponse extends ApiResponse {
  TaskName: string;
  RoundId: number;
  /** The task's status now. */
  Status: TaskStatus;
  Verdict: Verdict;
}

/** One agent: of a round (desc), or of the pool (`bench agents`). */
export interface AgentView {
  AgentId: string;
  /** The host name it gave. */
  Host?: string;
  /** The address its connection comes from, as the controller sees it. */
  Address?: string;
  Pid?: number;
  /** A pool agent: idle or busy. An agent of a round: launching, connected, ready, done, retiring or disconnected. */
  State: string;
  TaskName?: string;
  RoundId?: number;
  /** The seat a busy pool agent serves (the round's agent id). */
  Seat?: string;
}

export interface ListAgentsResponse extends ApiResponse {
  /** local, pool or kubernetes (`--agent-launcher`). */
  Launcher: string;
  Agents: AgentView[];
}

export interface ListTasksResponse extends ApiResponse {
  Tasks: TaskSummary[];
}

export interface UpdateTaskResponse extends ApiResponse {
  TaskName: string;
  DesiredAgent: number;
  AvailableAgent: number;
  Status: TaskStatus;
  Message: string;
}

export interface SimpleTaskResponse extends ApiResponse {
  TaskName: string;
  Status: TaskStatus;
  Message: string;
}

/** Formats of `GET .../{TaskName}/records?format=...` (json is the default). */
export const RECORDS_FORMATS = ['csv', 'json'] as const;
export type RecordsFormat = (typeof RECORDS_FORMATS)[number];

export function isRecordsFormat(value: string): value is RecordsFormat {
  return (RECORDS_FORMATS as readonly string[]).includes(value);
}

/** `GET .../{TaskName}/records?format=json`: every per-request record of the current (or last) round of an llm task. */
export interface LlmRecordsResponse extends ApiResponse {
  TaskName: string;
  /** 0 when the task has no round yet. */
  RoundId: number;
  Records: LlmRequestRecord[];
}

/**
 * Which steady stage `bench recompute` uses: `auto` (AISBench's rule on the
 * records), `none` (no steady stage), or the requests sent between FROM and
 * TO seconds after the run's first send (`30-90`).
 */
export type LlmSteadyChoice = 'auto' | 'none' | { FromS: number; ToS: number };

/** Parses `--steady` / `?steady=`: the choice, or why the text is not one (field `steady`). */
export function parseSteadyChoice(text: string): { steady: LlmSteadyChoice } | { problem: string } {
  if (text === 'auto' || text === 'none') return { steady: text };
  const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(text);
  if (!m) return { problem: 'must be auto, none or FROM-TO (seconds after the first send, e.g. 30-90)' };
  const [fromS, toS] = [Number(m[1]), Number(m[2])];
  if (!(toS > fromS)) return { problem: `must end after it starts (${text})` };
  return { steady: { FromS: fromS, ToS: toS } };
}

/** Parses a percentile list (`50,90,99.9`): ascending numbers in (0, 100), at most 10, or why not (field `percentiles`). */
export function parsePercentileList(text: string): number[] | string {
  const parts = text.split(',').map((p) => p.trim());
  const values = parts.map(Number);
  if (parts.length === 0 || parts.length > 10 || parts.some((p) => p === '') || values.some((v) => !Number.isFinite(v))) return 'must be 1 to 10 numbers separated by commas, e.g. 50,90,99';
  if (values.some((v) => v <= 0 || v >= 100)) return 'each must be > 0 and < 100';
  if (values.some((v, i) => i > 0 && v <= values[i - 1])) return 'must be ascending, without repeats';
  return values;
}

/** `GET .../{TaskName}/recompute`: the `LLM` section again, computed exactly from the stored records (AISBench's --reuse). */
export interface LlmRecomputeResponse extends ApiResponse {
  TaskName: string;
  RoundId: number;
  /** Records read from the store. */
  Records: number;
  LLM: LlmResult;
}

export interface ReportResponse extends ApiResponse {
  TaskName: string;
  RoundId: number;
  ReportUrl: string;
  JsonUrl?: string;
}

/** Response-time quantiles of one second, ms. */
export interface RtQuantiles {
  Avg: number;
  Min: number;
  Max: number;
  TP50: number;
  TP75: number;
  TP90: number;
  TP95: number;
  TP99: number;
  TP999: number;
}

/** One second of a round, all agents merged. */
/** The agents' own figures for a second, worst agent each; ms. */
export interface GeneratorSecond {
  LoopDelayP99Ms: number;
  LoopDelayMaxMs: number;
  GcPauseMs: number;
  GcPauseMaxMs: number;
  FrameMs: number;
  ConnectionWaitMaxMs: number;
  /** The validity gate's verdict: the agents, not the service, set this second's latency. */
  Limited: boolean;
}

export interface StatsPoint {
  /** A task's named requests: each one's figures in this second. */
  ByName?: NamedFigures[];
  /** Unix time of the second's start, seconds. */
  Time: number;
  /** Seconds since the round started. */
  Elapsed: number;
  TargetQPS?: number;
  Concurrency?: number;
  Requests: number;
  Success: number;
  Errors: number;
  BytesIn: number;
  BytesOut: number;
  Dropped: number;
  StatusCodes: Record<string, number>;
  /** Failed requests of the second by cause class. */
  ErrorClasses?: ErrorClassCounts;
  RT: RtQuantiles;
  SendLagP99: number;
  AgentsDesired: number;
  AgentsAvailable: number;
  /** The agents' own figures for the second (worst agent) and the validity gate's verdict on it. */
  Generator?: GeneratorSecond;
  /** LLM tasks: per-second figures. */
  TTFTAvg?: number;
  TPOTAvg?: number;
  OutputTPS?: number;
  /** LLM tasks: mean requests in flight during the second (all agents, client side). */
  InFlight?: number;
  /** LLM tasks: most requests in flight during the second (the sum of each agent's most). */
  MaxInFlight?: number;
}

export interface StatsResponse extends ApiResponse {
  TaskName: string;
  RoundId: number;
  Status: TaskStatus;
  Mode: string;
  Series: StatsPoint[];
  Events: TaskEvent[];
  Result?: RoundResult;
  Capacity?: Capacity;
  Verdict?: Verdict;
}

/** Frames pushed on `GET .../stats/stream` (websocket). */
export type StatsStreamFrame =
  | { Type: 'history'; Task: TaskDetail; Series: StatsPoint[] }
  | { Type: 'second'; Task: TaskDetail; Point: StatsPoint }
  | { Type: 'task'; Task: TaskDetail };
