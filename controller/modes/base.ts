import { Capacity, LlmModeSections, LoadShape, Mode, ResolvedOptional, Step, TaskEventKind } from '../../src/contract';
import { FinalizedSecond } from '../metrics/aggregate';

/** What a mode may do to its round besides choosing loads. */
export interface ModeContext {
  /** `step`: the structured form of a `verdict`, for the report's Steps table and the API. */
  event(kind: TaskEventKind, message: string, step?: Step): void;
  /** The request timeout, which bounds how many requests can be in flight. */
  timeoutMs: number;
  /** Most agents the controller lets a task run. */
  maxAgents: number;
  /** Most QPS of one agent's share of an open-loop rate (--max-agent-qps; DEFAULT_MAX_AGENT_QPS when absent). */
  maxAgentQps?: number;
  /** Wall clock, Unix seconds: a new load reaches the agents now, so its first whole second is floor(nowS()) + 1. */
  nowS(): number;
  /** Wall clock, ms, when the round's agents were told to start; undefined while they are starting (stages: where the ramp stands). */
  runningSinceMs?(): number | undefined;
  /** Ends the round (faultAction stop, or an LLM sweep's verdict: `endReason` sweep): `reason` is why, as the task's final Message gives it. */
  end(reason: string, endReason?: 'faultAction' | 'sweep'): void;
}

/** The first whole second that runs entirely at a load sent now. */
export function firstWholeSecond(ctx: ModeContext): number {
  return Math.floor(ctx.nowS()) + 1;
}

/**
 * One way of driving load (manual, scan, auto). The round runner owns the
 * agents and the clock; a mode only decides how many agents there should be
 * and what each of them sends, second by second.
 */
export interface ModeDriver {
  readonly mode: Mode | 'llm';
  desiredAgents(): number;
  /** The load of agent `index` when `count` agents are connected. */
  loadFor(index: number, count: number): LoadShape;
  /** Called with every finalized second; returns true when the agents' loads must be re-sent. */
  onSecond(second: FinalizedSecond): boolean;
  /** A live `bench update`; returns true when the agents' loads must be re-sent. */
  update(optional: ResolvedOptional): boolean;
  targetQps(): number | undefined;
  /** The target of wall second `second` (Unix s) for its series, when it is not the target now (stages: the ramp's count in that second). */
  targetQpsDuring?(second: number): number | undefined;
  concurrency(): number | undefined;
  /** One line for the header of statsview and `desc`: "2 agents x 8 workers", "1450 QPS". */
  describeTarget(): string;
  capacity(): Capacity | undefined;
  /**
   * The outcome so far, for the task's Message while the round runs (scan and
   * auto: the held rate and why, or that even the lowest rate failed);
   * undefined while there is none yet.
   */
  outcome?(): string | undefined;
  /** The outcome for the Message of the finished round: the capacity found, or why there is none. */
  finalOutcome?(): string | undefined;
  /** LLM result sections the mode itself makes (the sweep's `Sweep`), merged into the round's LLM result. */
  llmSections?(): LlmModeSections;
  /** The round has ended (its last seconds finalized): a search still under way is over. */
  roundEnded?(): void;
}

/**
 * A task's mode as the task manager sees it, before and besides a round: the
 * manager asks it rather than branching on the mode's name.
 */
export interface TaskMode {
  /** How lists and reports name it: `manual`, `scan`, `auto`, `llm-rate`. */
  readonly displayName: string;
  /** true when the task sets its agents (optional.agentCount), so the controller must be able to grant them; false when the mode chooses its own. */
  readonly agentsFromTask: boolean;
  /** The agents a round starts with. */
  startingAgents(maxAgents: number): number;
  /** The driver of one round. */
  create(ctx: ModeContext): ModeDriver;
  /** Said at create when the duration is likely too short for the mode to reach a verdict (scan and auto). */
  durationWarning?(): string | undefined;
}

/** Share `index` of `count` of a total, the remainder going to the first agents. */
export function splitInteger(total: number, index: number, count: number): number {
  const base = Math.floor(total / count);
  return base + (index < total - base * count ? 1 : 0);
}

/** Open-loop rates are fractional: every agent gets the same share. */
export function splitRate(totalQps: number, count: number): number {
  return count > 0 ? totalQps / count : 0;
}
