import type { Capacity, EndReason, LlmResult, RoundResult, StatsPoint, Step, TaskEvent, ThresholdResult } from '../../src/contract';
import type { AgentInfo } from '../fleet/pool';

export type RoundPhase = 'starting' | 'running' | 'stopping' | 'finished';

export interface RoundEndInfo {
  reason: string;
  /** Why, as one of the verdict's end reasons. */
  endReason: EndReason;
  /** True when the round ended by a failure rather than by its own end or a user stop. */
  failed: boolean;
}

/** What a round shows of itself: read-only, taken at one moment. */
export interface RoundSnapshot {
  readonly roundId: number;
  readonly phase: RoundPhase;
  /** The round's status line: "Agent 1/2 connected", "Benchmark task is running", or why it ended. */
  readonly message: string;
  /** scan and auto while running: what they found so far (`holding 500 QPS: ...`), for the task's Message. */
  readonly liveOutcome?: string;
  /** scan and auto: the capacity found, or why there is none, for the Message of the finished round. */
  readonly outcome?: string;
  readonly desiredAgents: number;
  readonly availableAgents: number;
  readonly agents: readonly AgentInfo[];
  /** The mode's target in one line: "2 agents x 8 workers", "1450 QPS". */
  readonly target: string;
  /** What scan or auto found the service can take, once it is known. */
  readonly capacity?: Capacity;
  /** The task's thresholds as judged after the last finalized second (empty without thresholds). */
  readonly thresholds: readonly ThresholdResult[];
  /** The steps scan or auto judged so far. */
  readonly steps: readonly Step[];
  readonly events: readonly TaskEvent[];
  /** The finalized seconds, oldest first. */
  readonly series: readonly StatsPoint[];
  readonly result: RoundResult;
  readonly llm?: LlmResult;
  readonly runningSinceMs?: number;
  /** When the agents were told to stop. */
  readonly stopRequestedMs?: number;
  readonly elapsedS: number;
  /** Seconds the load has run (until the stop, once stopping): the divisor of the round's QPS. */
  readonly loadDurationS?: number;
}
