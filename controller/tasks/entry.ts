import { LlmRequestRecord, LlmResult, RoundResult, StatsPoint, TaskEvent } from '../../src/contract';
import { RoundAccumulator } from '../metrics/aggregate';
import { computeLlmResult } from '../metrics/llm';
import { llmModeAccumulator, llmTokenizerName } from './llm-run-work';
import { loadDurationS, RoundRecord, TaskRecord } from './record';
import { RoundRunner, RoundSnapshot } from './round';
import { TaskStore } from './store';

/** A finished round's figures: rebuilt once from disk (or taken from its runner at the end) and kept. */
export interface RoundFigures {
  series: StatsPoint[];
  events: TaskEvent[];
  result: RoundResult;
  llmRecords?: LlmRequestRecord[];
  llm?: LlmResult;
}

/** What the controller holds of one task: its record, the runner of its current round, and what is kept of its rounds. */
export class TaskEntry {
  /** Set while a round runs. */
  runner?: RoundRunner;
  /** The report being written, which `bench report` and delete wait for. */
  pendingReport?: Promise<void>;
  private readonly figuresByRound = new Map<number, RoundFigures>();

  constructor(readonly record: TaskRecord, private readonly store: TaskStore) {}

  get taskName(): string {
    return this.record.taskName;
  }

  /** The running round, read only; undefined between rounds. */
  live(): RoundSnapshot | undefined {
    return this.runner?.snapshot();
  }

  /** A finished round's figures, read from disk the first time. */
  figures(round: RoundRecord): RoundFigures {
    const kept = this.figuresByRound.get(round.roundId);
    if (kept) return kept;
    const seconds = this.store.readSeconds(this.taskName, round.roundId);
    const accumulator = new RoundAccumulator();
    for (const s of seconds) accumulator.addSecond(s.point, s.rt, s.lag);
    const figures: RoundFigures = {
      series: seconds.map((s) => s.point),
      events: this.store.readEvents(this.taskName, round.roundId),
      result: accumulator.result(loadDurationS(round)),
    };
    const llm = this.record.spec.llm;
    if (llm) {
      figures.llmRecords = this.store.readLlmRecords(this.taskName, round.roundId);
      const modes = llmModeAccumulator(llm);
      for (const r of figures.llmRecords) modes.add(r);
      figures.llm = { ...computeLlmResult(figures.llmRecords, llm.slo, llmTokenizerName(llm)), ...modes.result() };
    }
    this.figuresByRound.set(round.roundId, figures);
    return figures;
  }

  /** Keeps the figures of a round that just ended, taken from its last view, so they are not read back from disk. */
  keepFigures(roundId: number, last: RoundSnapshot): void {
    this.figuresByRound.set(roundId, {
      series: [...last.series],
      events: [...last.events],
      result: last.result,
      ...(this.record.spec.llm ? { llmRecords: [...last.llmRecords], llm: last.llm } : {}),
    });
  }

  /** An event of the controller itself, added to the kept figures of a finished round (a running round keeps its own). */
  addFinishedEvent(roundId: number, event: TaskEvent): void {
    this.figuresByRound.get(roundId)?.events.push(event);
  }

  /** Why the task's writes wait in memory, and how many lines wait; undefined while the data dir takes them. */
  heldWrites(): { error: string; lines: number } | undefined {
    const error = this.store.heldError(this.taskName);
    return error === undefined ? undefined : { error, lines: this.store.pendingLines(this.taskName) };
  }
}
