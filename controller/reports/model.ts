import { BenchError, Capacity, isValidTaskName, LlmResult, RoundResult, StatsPoint, TaskEvent, TaskSpec, TaskStatus } from '../../src/contract';

/** Everything a report shows; also stored as the `.json` twin of the HTML. */
export interface ReportData {
  TaskName: string;
  TaskId: string;
  RoundId: number;
  ServiceName: string;
  Region: string;
  Mode: string;
  Status: TaskStatus;
  Message: string;
  StartTime: string;
  EndTime: string;
  TargetUrl: string;
  Config: TaskSpec;
  Result: RoundResult;
  Capacity?: Capacity;
  Series: StatsPoint[];
  Events: TaskEvent[];
  LLM?: LlmResult;
  GeneratedAt: string;
}

/** The store key of a round's report; the task name is checked because object stores have no folder walls to keep a key in. */
export function reportKey(taskName: string, roundId: number, ext: 'html' | 'json'): string {
  if (!isValidTaskName(taskName) || !Number.isInteger(roundId)) throw new BenchError('InvalidParameter', `no report key for task ${taskName} round ${roundId}`, { resource: taskName });
  return `summary/${taskName}-${roundId}.${ext}`;
}
