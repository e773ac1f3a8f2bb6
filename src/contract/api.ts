import type { LlmRequestRecord } from './protocol';
import type { LlmModeSections } from './llm-results';
import { TaskSpec } from './task';

/** Shapes of the controller's REST API (PascalCase, as the EAS OpenAPI). */
export const API_PREFIX = '/api/v2/benchmark-tasks';
export const STATSVIEW_PATH = '/eas-benchmark/statsview';

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
}

export type CapacityReason = 'maxRT' | 'maxQPS' | 'faultTolerate' | 'saturation';

export interface Capacity {
  QPS: number;
  TP99: number;
  ErrorRate: number;
  Reason: CapacityReason;
}

export type TaskEventKind = 'step' | 'verdict' | 'hold' | 'revise' | 'agent-added' | 'agent-lost' | 'status' | 'update' | 'info' | 'error' | 'storage';

/**
 * How scan or auto judged a step. `agents-behind`: the agents, not the
 * service, fell behind their schedule, so auto runs the step again with one
 * more agent instead of judging the service on it.
 */
export type StepVerdict = 'good' | 'bad' | 'agents-behind';

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

export interface LlmStatistic {
  Average: number;
  Min: number;
  Max: number;
  Median: number;
  P75: number;
  P90: number;
  P99: number;
  N: number;
}

export type LlmMetricName = 'TTFT' | 'TPOT' | 'ITL' | 'E2EL' | 'InputTokens' | 'OutputTokens' | 'OutputTokenThroughput';

/**
 * AISBench's "Common Metric" table, by its names without spaces, in its order.
 * Durations ms, throughputs per second of BenchmarkDuration (token/s, req/s).
 * A type alias, not an interface, so it reads as a `Record<string, number>` too.
 */
export type LlmCommonMetrics = {
  BenchmarkDuration: number;
  TotalRequests: number;
  FailedRequests: number;
  SuccessRequests: number;
  /** Mean requests in flight: the sum of (end - send) / BenchmarkDuration, at most MaxConcurrency. */
  Concurrency: number;
  MaxConcurrency: number;
  RequestThroughput: number;
  TotalInputTokens: number;
  /** TotalInputTokens / the sum of the successful requests' TTFT in seconds, token/s; 0 when no TTFT was measured. */
  PrefillTokenThroughput: number;
  TotalGeneratedTokens: number;
  InputTokenThroughput: number;
  OutputTokenThroughput: number;
  TotalTokenThroughput: number;
  /** Successful requests meeting every `llm.slo` bound, per second. */
  Goodput: number;
};

/** The AISBench tables, and the sections of the run modes and options (`llm-results.ts`). */
export interface LlmResult extends LlmModeSections {
  Total: Record<LlmMetricName, LlmStatistic>;
  Stable: Record<LlmMetricName, LlmStatistic>;
  /** Common metrics of the whole run. */
  Common: LlmCommonMetrics;
  /** The same common metrics for the steady stage. */
  StableCommon?: LlmCommonMetrics;
  /** Where token counts came from: usage, tokenizer, or chunks (said in the report). */
  TokenSource?: string;
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
}

export interface GetTaskResponse extends ApiResponse, TaskDetail {}

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
export interface StatsPoint {
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
  RT: RtQuantiles;
  SendLagP99: number;
  AgentsDesired: number;
  AgentsAvailable: number;
  /** LLM tasks: per-second figures. */
  TTFTAvg?: number;
  TPOTAvg?: number;
  OutputTPS?: number;
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
}

/** Frames pushed on `GET .../stats/stream` (websocket). */
export type StatsStreamFrame =
  | { Type: 'history'; Task: TaskDetail; Series: StatsPoint[] }
  | { Type: 'second'; Task: TaskDetail; Point: StatsPoint }
  | { Type: 'task'; Task: TaskDetail };
