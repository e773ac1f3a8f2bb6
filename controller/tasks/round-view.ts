import { Capacity, LlmRequestRecord, LlmResult, RoundResult, StatsPoint, TaskEvent } from '../../src/contract';
import { RoundPhase, RoundRunner } from './round';

/**
 * What the task side may read of a running round. Everything outside the
 * runner reads its state through this, never through its fields, so the
 * runner can change how it keeps that state without touching its readers.
 */
export interface RoundView {
  readonly phase: RoundPhase;
  /** The round's status line ("Agent 1/2 connected", "Benchmark task is running"). */
  readonly message: string;
  /** The agents the round may run now: asking grants them from the controller-wide pool. */
  readonly desiredAgents: number;
  readonly availableAgents: number;
  /** When all agents were running (the load began), and when they were told to stop. */
  readonly runningSinceMs?: number;
  readonly stopRequestedMs?: number;
  readonly elapsedS: number;
  /** Seconds the load has run: the divisor of the round's QPS. */
  readonly loadDurationS?: number;
  /** One line of what the mode aims at: "2 agents x 8 workers", "1450 QPS". */
  readonly target: string;
  readonly capacity?: Capacity;
  /** The finalized seconds, oldest first. */
  readonly series: readonly StatsPoint[];
  readonly events: readonly TaskEvent[];
  readonly result: RoundResult;
  /** LLM tasks: every request kept so far, and the figures computed from them. */
  readonly llmRecords: readonly LlmRequestRecord[];
  readonly llm?: LlmResult;
}

/**
 * The round's view, read from the runner when a field is asked for: most
 * readers want one or two fields, and the result and LLM figures are not free
 * to compute.
 */
export function viewRound(runner: RoundRunner): RoundView {
  return {
    get phase() { return runner.phase; },
    get message() { return runner.message; },
    get desiredAgents() { return runner.desiredAgents(); },
    get availableAgents() { return runner.availableAgents(); },
    get runningSinceMs() { return runner.runningSinceMs; },
    get stopRequestedMs() { return runner.stopRequestedMs; },
    get elapsedS() { return runner.elapsedS(); },
    get loadDurationS() { return runner.loadDurationS(); },
    get target() { return runner.mode.describeTarget(); },
    get capacity() { return runner.mode.capacity(); },
    get series() { return runner.series; },
    get events() { return runner.events; },
    get result() { return runner.accumulator.result(runner.loadDurationS()); },
    get llmRecords() { return runner.llmRecords; },
    get llm() { return runner.llmResult(); },
  };
}
