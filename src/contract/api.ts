import type { LlmRequestRecord } from './llm-protocol';
import type { LlmResult } from './llm-tables';
import type { TaskSpec } from './task';
import type { Capacity, ErrorClassCounts, ThresholdResult, Verdict } from './verdict';
import type { NamedFigures } from './requests';

/**
 * Shapes of the controller's REST API (PascalCase, as the EAS OpenAPI). The
 * LLM section's tables are in llm-tables.ts, what reads or words these
 * shapes in api-helpers.ts.
 */
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

/** The response-time percentiles of a round (its Result) and of one of its seconds, ms. */
export interface RtPercentiles {
  TP50: number;
  TP75: number;
  TP90: number;
  TP95: number;
  TP99: number;
  TP999: number;
}

/** Totals of one round. Times in ms. */
export interface RoundResult extends RtPercentiles {
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
export interface RtQuantiles extends RtPercentiles {
  Avg: number;
  Min: number;
  Max: number;
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
  /** LLM tasks in rate mode: mean client queue time (ms) of the requests that ended in the second. */
  ClientQueueAvg?: number;
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
