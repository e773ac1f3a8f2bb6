import { randomBytes } from 'node:crypto';
import { BenchError, Capacity, HistoryRound, isValidTaskName, PercentilePoint, LlmResult, RoundResult, StatsPoint, TaskEvent, TaskSpec, TaskStatus, Verdict } from '../../src/contract';

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
  /** What the round concluded: the report's headline (absent in reports stored before verdicts existed). */
  Verdict?: Verdict;
  /** The merged response-time histogram as a percentile distribution (absent in reports stored before it was kept). */
  RTPercentiles?: PercentilePoint[];
  /** Earlier finished rounds against the same service, newest first (a few), for their capacity beside this one. */
  ServiceHistory?: HistoryRound[];
  GeneratedAt: string;
}

/**
 * `summary/<TaskName>-<RoundId>-<secret>.<ext>`: reports are served without
 * credentials, so the name carries a secret (newReportSecret) that makes it
 * impossible to guess from the task name, which has only 16 random bits. The
 * task name and secret are checked because object stores have no folder walls
 * to keep a key in.
 */
export function reportKey(taskName: string, roundId: number, secret: string, ext: 'html' | 'json'): string {
  if (!isValidTaskName(taskName) || !Number.isInteger(roundId) || !/^[0-9a-f]*$/.test(secret)) {
    throw new BenchError('InvalidParameter', `no report key for task ${taskName} round ${roundId}`, { resource: taskName });
  }
  return `summary/${taskName}-${roundId}${secret ? `-${secret}` : ''}.${ext}`;
}

/** 128 random bits, hex. */
export function newReportSecret(): string {
  return randomBytes(16).toString('hex');
}
