import { Capacity, CUT_CONTENT_HEAD, EndReason, LlmSweep, ResolvedOptional, SHOWN_CONTENT_CHARS, TaskSpec, TaskStatus, Verdict } from '../../src/contract';
import { taskMode } from '../modes';

/** One round of a task, as persisted in task.json. */
export interface RoundRecord {
  roundId: number;
  startMs: number;
  /** When all agents were running (the load began) and when they were told to stop: QPS divides by this span. */
  runningMs?: number;
  loadEndMs?: number;
  endMs?: number;
  message?: string;
  reportUrl?: string;
  reportJsonUrl?: string;
  /** Report keys in the store, so delete can remove them. */
  reportKeys?: string[];
  /** The unguessable part of the report's keys (reports are served without credentials). Never shown. */
  reportSecret?: string;
  capacity?: Capacity;
  /** llm testMode sweep: what the sweep found, kept at the round's end (it is the mode's, not in the stored seconds). */
  llmSweep?: LlmSweep;
  /** Why the round ended, as a reason and in words (`duration of 30 s reached`). */
  endReason?: EndReason;
  ended?: string;
  /** scan and auto: why they found no capacity, when they said. */
  noCapacityWhy?: string;
  /** The round's verdict, made once at its end (`round-verdict.ts`). */
  verdict?: Verdict;
  /** Its headline figures, kept at its end so `bench history` lists rounds without reading their seconds. */
  summary?: { QPS: number; TP99: number; ErrorRate: number };
}

/** What the controller persists of a task: small, rewritten atomically on each change. */
export interface TaskRecord {
  taskId: string;
  taskName: string;
  region: string;
  serviceName: string;
  /** The task JSON as shown (desc, reports): the user's, with its mode's defaults written out; updates change it. */
  spec: TaskSpec;
  /**
   * The options resolved once, at create, with every update merged in: what
   * rounds, modes and verdicts read (never `spec.optional`). A task stored
   * before they were has them resolved from `spec` when it is loaded.
   */
  options: ResolvedOptional;
  status: TaskStatus;
  message: string;
  createMs: number;
  updateMs: number;
  /** When the task reached its current final status (for retention). */
  finalMs?: number;
  desiredAgent: number;
  rounds: RoundRecord[];
  /** Secret that agents of this task present on the agent websocket. Never shown. */
  agentToken: string;
  /**
   * Set when the task's data.content is long: it is kept in the task's folder
   * (TaskStore.saveContent), spec.data has none, and only what desc shows of
   * it is here. Read back when a round is prepared or the whole config asked.
   */
  storedContent?: { length: number; head: string };
}

/**
 * Moves a long data.content out of the record into the task's folder, so
 * that no task, running or kept for its retention, holds its data in memory.
 */
export function storeContentApart(record: TaskRecord, saveContent: (content: string) => void): void {
  const content = record.spec.data?.content;
  if (content === undefined || content.length <= SHOWN_CONTENT_CHARS) return;
  saveContent(content);
  record.spec = withContent(record.spec, undefined);
  // a copy, not a slice: V8 keeps a slice's whole parent string alive, the very content moved out
  record.storedContent = { length: content.length, head: Buffer.from(content.slice(0, CUT_CONTENT_HEAD), 'latin1').toString('latin1') };
}

/** The spec with data.content set (or, undefined, removed). */
export function withContent(spec: TaskSpec, content: string | undefined): TaskSpec {
  const { content: _dropped, ...data } = spec.data ?? {};
  return { ...spec, data: content === undefined ? data : { ...data, content } };
}

export function currentRound(record: TaskRecord): RoundRecord | undefined {
  return record.rounds[record.rounds.length - 1];
}

/** Seconds the round's load ran, when known (the divisor of its QPS). */
export function loadDurationS(round: RoundRecord): number | undefined {
  const end = round.loadEndMs ?? round.endMs;
  return round.runningMs !== undefined && end !== undefined && end > round.runningMs ? (end - round.runningMs) / 1000 : undefined;
}

/** The mode shown in lists and reports: an llm task shows its test mode. */
export function modeName(record: TaskRecord): string {
  return taskMode(record.options, record.spec.llm).displayName;
}
