import { Capacity, LlmResult, RoundResult, StatsPoint, TaskEvent, TaskSpec, TaskStatus } from '../../src/contract';

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

export function reportKey(taskName: string, roundId: number, ext: 'html' | 'json'): string {
  return `summary/${taskName}-${roundId}.${ext}`;
}
