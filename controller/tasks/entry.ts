import { cutContent, LlmResult, PercentilePoint, redactTask, RoundResult, StatsPoint, TaskEvent, TaskSpec, taskThresholds } from '../../src/contract';
import { RoundAccumulator, StoredSecond } from '../metrics/aggregate';
import { columnsResult, percentilesOf } from '../metrics/llm/result';
import { LlmRecordColumns } from '../metrics/llm/columns';
import { LlmRoundFigures } from '../metrics/llm/round';
import { askedRequestRate, stageHeldAt } from '../metrics/llm/stage';
import { evaluateThresholds, ServiceSeconds } from '../metrics/thresholds';
import { llmModeAccumulator } from './llm-run-work';
import { loadDurationS, RoundRecord, TaskRecord, withContent } from './record';
import { RoundRunner, RoundSnapshot } from './round-runner';
import { TaskStore } from './store';

/** A finished round's figures: rebuilt once from disk (or taken from its runner at the end) and kept. */
export interface RoundFigures {
  series: StatsPoint[];
  events: TaskEvent[];
  result: RoundResult;
  llm?: LlmResult;
  /** The merged response times as a percentile distribution; absent in the figures kept from a live round until asked for. */
  percentiles?: PercentilePoint[];
}

/**
 * Finished rounds whose figures a task keeps in memory: the views of the
 * rounds asked for last. An older round's figures are read from disk again
 * when asked (the same figures: they are rebuilt from its stored seconds).
 */
export const KEPT_ROUND_FIGURES = 2;

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

  /** The task's spec with its data.content, read back from the task's folder when it is kept there. */
  wholeSpec(): TaskSpec {
    const { spec, storedContent } = this.record;
    return storedContent ? withContent(spec, this.store.readContent(this.taskName)) : spec;
  }

  /** The task as desc and reports show it: redacted, data.content cut (or whole, read back, when `whole`). */
  shownConfig(whole = false): TaskSpec {
    const { spec, storedContent } = this.record;
    if (!storedContent) return redactTask(spec, { wholeContent: whole });
    return redactTask(whole ? this.wholeSpec() : withContent(spec, cutContent(storedContent.head, storedContent.length)), { wholeContent: whole });
  }

  /** The running round, read only; undefined between rounds. */
  live(): RoundSnapshot | undefined {
    return this.runner?.snapshot();
  }

  /** A finished round's figures, read from disk the first time. */
  figures(round: RoundRecord): RoundFigures {
    const kept = this.figuresByRound.get(round.roundId);
    if (kept) {
      // most recently used last, so the oldest is the first to go
      this.figuresByRound.delete(round.roundId);
      this.figuresByRound.set(round.roundId, kept);
      return kept;
    }
    const seconds = this.store.readSeconds(this.taskName, round.roundId);
    const accumulator = new RoundAccumulator();
    const service = new ServiceSeconds();
    for (const s of seconds) {
      accumulator.addSecond(s.point, s.rt, s.lag, s.byName);
      service.add(s.point, s.rt, s.lag);
    }
    const figures: RoundFigures = {
      series: seconds.map((s) => s.point),
      events: this.store.readEvents(this.taskName, round.roundId),
      result: accumulator.result(loadDurationS(round)),
      percentiles: accumulator.percentileCurve(),
    };
    const llm = this.record.spec.llm;
    if (llm) {
      // the run modes' sections come from the records, read a chunk at a time; so do all the figures
      // of a round stored before the seconds carried LLM histograms (as they did then)
      // the steady stage is found from the seconds first, then takes the records sent in it
      const modes = llmModeAccumulator(llm);
      const columns = seconds.some((s) => s.llm !== undefined) ? undefined : new LlmRecordColumns(llm.slo);
      const fromSeconds = columns ? undefined : new LlmRoundFigures(percentilesOf(llm), llm.slo, stageHeldAt(llm), askedRequestRate(llm));
      for (const s of seconds) if (s.llm) fromSeconds?.addSecond(s.llm);
      this.store.forEachLlmRecord(this.taskName, round.roundId, (r) => {
        modes.add(r);
        columns?.add(r);
        fromSeconds?.addRecords([r]);
      });
      figures.llm = { ...(columns ? columnsResult(columns, percentilesOf(llm), undefined, stageHeldAt(llm), askedRequestRate(llm)) : (fromSeconds as LlmRoundFigures).result()), ...modes.result(), ...(round.llmSweep ? { Sweep: round.llmSweep } : {}) };
    }
    // judged on the figures read back, as the round judged them after its last second
    const thresholds = taskThresholds(this.record.spec);
    if (thresholds.length > 0) figures.result.Thresholds = evaluateThresholds(thresholds, { result: figures.result, service: service.result(), llm: figures.llm });
    this.keep(round.roundId, figures);
    return figures;
  }

  /** A finished round's percentile distribution: the figures kept from its end lack it, so it is built from the stored seconds then. */
  percentiles(round: RoundRecord): PercentilePoint[] {
    const figures = this.figures(round);
    if (!figures.percentiles) {
      const accumulator = new RoundAccumulator();
      for (const s of this.store.readSeconds(this.taskName, round.roundId)) accumulator.addStored(s);
      figures.percentiles = accumulator.percentileCurve();
    }
    return figures.percentiles;
  }

  /** A round's stored seconds, read from disk (compare needs their histograms' per-second figures). */
  storedSeconds(roundId: number): StoredSecond[] {
    return this.store.readSeconds(this.taskName, roundId);
  }

  private keep(roundId: number, figures: RoundFigures): void {
    this.figuresByRound.delete(roundId);
    this.figuresByRound.set(roundId, figures);
    for (const oldest of this.figuresByRound.keys()) {
      if (this.figuresByRound.size <= KEPT_ROUND_FIGURES) break;
      this.figuresByRound.delete(oldest);
    }
  }

  /** Keeps the figures of a round that just ended, taken from its last view, so they are not read back from disk; returns them. */
  keepFigures(roundId: number, last: RoundSnapshot): RoundFigures {
    const figures: RoundFigures = {
      series: [...last.series],
      events: [...last.events],
      result: last.result,
      ...(this.record.spec.llm ? { llm: last.llm } : {}),
    };
    this.keep(roundId, figures);
    return figures;
  }

  /** An event of the controller itself, added to the kept figures of a finished round (a running round keeps its own). */
  addFinishedEvent(roundId: number, event: TaskEvent): void {
    this.figuresByRound.get(roundId)?.events.push(event);
  }

  /** LLM tasks: a round's per-request records, as stored ndjson lines, read from disk as they are asked for. */
  llmRecordLines(roundId: number): AsyncGenerator<string> {
    return this.store.llmRecordLines(this.taskName, roundId);
  }

  /** Why the task's writes wait in memory, and how many lines wait; undefined while the data dir takes them. */
  heldWrites(): { error: string; lines: number } | undefined {
    const error = this.store.heldError(this.taskName);
    return error === undefined ? undefined : { error, lines: this.store.pendingLines(this.taskName) };
  }
}

