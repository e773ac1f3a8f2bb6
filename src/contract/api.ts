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

export interface TaskEvent {
  Time: string;
  Kind: TaskEventKind;
  Message: string;
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

export interface LlmResult {
  Total: Record<LlmMetricName, LlmStatistic>;
  Stable: Record<LlmMetricName, LlmStatistic>;
  /** Common metrics of the whole run (AISBench names without spaces; durations ms, throughputs per second). */
  Common: Record<string, number>;
  /** The same common metrics for the steady stage. */
  StableCommon?: Record<string, number>;
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
