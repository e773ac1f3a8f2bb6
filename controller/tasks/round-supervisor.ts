import { BenchError, Clock, ResolvedOptional, StatsPoint, TaskStatus, taskThresholds } from '../../src/contract';
import { AgentLauncher } from '../fleet/launcher';
import { newReportSecret } from '../reports/model';
import { TaskBook } from './book';
import { TaskCapacity } from './capacity';
import { RoundFigures, TaskEntry } from './entry';
import { FIRST_ROUND_ID, newEvent } from './naming';
import { PrepareDeps, prepareRound } from './prepare';
import { replayDurationS } from '../data/replay';
import { currentRound, RoundRecord } from './record';
import { RoundEndInfo, RoundHooks, RoundRunner } from './round-runner';
import { RoundTiming } from './round-timing';
import { settleVerdict, startFailedVerdict } from './round-verdict';
import { TaskStore } from './store';

/** The status a round's end sets once its report is written. */
export type FinalStatus = { status: TaskStatus; message: string };

export interface RoundSupervisorDeps extends PrepareDeps {
  book: TaskBook;
  store: TaskStore;
  capacity: TaskCapacity;
  launcher: AgentLauncher;
  controllerWsUrl: () => string;
  agentConnectTimeoutS: number;
  maxAgents: number;
  maxAgentQps: number;
  /** The controller's clock, passed down to every round. */
  clock: Clock;
  /** The times a round waits, where a test sets them (ROUND_TIMING when absent). */
  roundTiming?: Partial<RoundTiming>;
  /** A second of a round was finalized (and stored). */
  onSecond(taskName: string, point: StatsPoint): void;
  /** A round ended: write its report, then set `final`. */
  report(entry: TaskEntry, round: RoundRecord, final: FinalStatus): void;
  /** A round's runner ended; `figures` are the round's final figures, as desc shows them from now on. */
  onRoundEnd?(taskName: string, round: RoundRecord, figures: RoundFigures): void;
}

/** Starts a task's rounds and follows each to its end: what the runner says becomes the task's status, stored data and report. */
export class RoundSupervisor {
  /** The outcome each task's Message was last set to by showOutcome. */
  private readonly outcomeShown = new WeakMap<TaskEntry, string>();

  constructor(private readonly deps: RoundSupervisorDeps) {}

  async start(entry: TaskEntry): Promise<void> {
    const { book, store } = this.deps;
    const record = entry.record;
    const roundId = (currentRound(record)?.roundId ?? FIRST_ROUND_ID - 1) + 1;
    // the report's secret is saved with the round, so a report written again after a restart keeps its name
    const round: RoundRecord = { roundId, startMs: this.deps.clock.nowMs(), reportSecret: newReportSecret() };
    record.rounds.push(round);
    book.save(entry);
    book.notify(record.taskName);
    let runner: RoundRunner;
    try {
      const prepared = await prepareRound(entry.wholeSpec(), this.deps);
      if (prepared.replay && record.options.replay?.durationFromLog) {
        // the round lasts the log's span / speed, known now that it is read; the task shows it
        const durationS = replayDurationS(prepared.replay);
        record.options = { ...record.options, durationS };
        record.spec = { ...record.spec, optional: { ...record.spec.optional, duration: durationS } };
        book.save(entry);
      }
      runner = new RoundRunner({
        ...prepared,
        taskName: record.taskName,
        taskId: record.taskId,
        roundId,
        agentToken: record.agentToken,
        optional: record.options,
        launcher: this.deps.launcher,
        controllerWsUrl: this.deps.controllerWsUrl(),
        connectTimeoutS: this.deps.agentConnectTimeoutS,
        maxAgents: this.deps.maxAgents,
        maxAgentQps: this.deps.maxAgentQps,
        grantAgents: (wanted) => this.deps.capacity.grantAgents(record, wanted),
        hooks: this.hooks(entry, round),
        thresholds: taskThresholds(record.spec),
        clock: this.deps.clock,
        timing: this.deps.roundTiming,
      });
    } catch (err) {
      const message = err instanceof BenchError ? err.message : `could not start: ${(err as Error).message}`;
      round.endMs = this.deps.clock.nowMs();
      round.message = message;
      startFailedVerdict(round, message);
      store.appendEvent(record.taskName, roundId, newEvent('error', message, undefined, round.endMs));
      book.setStatus(entry, 'CreateFailed', message);
      return;
    }
    if (record.status === 'Deleting') return;
    entry.runner = runner;
    record.desiredAgent = runner.desiredAgents();
    runner.start();
    this.onChange(entry);
  }

  /** A live `bench update` of a running round: Updating until its agents are there (or the connect timeout passes). */
  update(entry: TaskEntry, runner: RoundRunner, optional: ResolvedOptional): void {
    this.deps.book.setStatus(entry, 'Updating', 'Benchmark task is Updating');
    runner.update(optional);
    entry.record.desiredAgent = runner.desiredAgents();
    const { clock } = this.deps;
    const deadline = clock.nowMs() + this.deps.agentConnectTimeoutS * 1000;
    const check = (): void => {
      if (entry.record.status !== 'Updating' || entry.runner !== runner) return;
      const availableAgents = runner.availableAgents();
      const desiredAgents = runner.desiredAgents();
      if (availableAgents >= desiredAgents) {
        this.deps.book.setStatus(entry, 'Running', 'Benchmark task is running');
      } else if (clock.nowMs() > deadline) {
        this.deps.book.setStatus(entry, 'Running', `Benchmark task is running with ${availableAgents}/${desiredAgents} agents`);
      } else {
        clock.setTimeout(check, 200).unref();
      }
    };
    check();
  }

  private hooks(entry: TaskEntry, round: RoundRecord): RoundHooks {
    const { store, book } = this.deps;
    const { taskName } = entry;
    const { roundId } = round;
    return {
      onChange: () => this.onChange(entry),
      onSecond: (stored) => {
        store.appendSecond(taskName, roundId, stored);
        this.deps.onSecond(taskName, stored.point);
      },
      onLlmRecords: (records) => store.appendLlmRecords(taskName, roundId, records),
      onEvent: (event) => {
        store.appendEvent(taskName, roundId, event);
        book.notify(taskName);
      },
      onFinished: (info) => this.onFinished(entry, round, info),
    };
  }

  private onChange(entry: TaskEntry): void {
    const live = entry.live();
    if (!live) return;
    const record = entry.record;
    record.desiredAgent = live.desiredAgents;
    if (live.phase === 'running' && record.status === 'Creating') {
      const round = currentRound(record);
      if (round) round.runningMs = live.runningSinceMs;
      this.deps.book.setStatus(entry, 'Running', live.message);
      return;
    }
    if (live.phase === 'starting' && record.status === 'Creating') {
      record.message = live.message;
      this.deps.book.save(entry);
    }
    if (live.phase === 'running' && record.status === 'Running') this.showOutcome(entry, live.liveOutcome);
    this.deps.book.notify(record.taskName);
  }

  /**
   * scan and auto: while they hold, the task's Message is what they found
   * (`holding 500 QPS: error rate 1.40% > faultTolerate 1.00% at 550`); when
   * the search re-opens, the Message they set goes back to running. Any other
   * Message (an update's "running with 1/2 agents") is left alone.
   */
  private showOutcome(entry: TaskEntry, outcome: string | undefined): void {
    const record = entry.record;
    const shown = this.outcomeShown.get(entry);
    if (outcome !== undefined && record.message !== outcome) {
      record.message = outcome;
      this.outcomeShown.set(entry, outcome);
      this.deps.book.save(entry);
    } else if (outcome === undefined && shown !== undefined && record.message === shown) {
      record.message = 'Benchmark task is running';
      this.outcomeShown.delete(entry);
      this.deps.book.save(entry);
    }
  }

  private onFinished(entry: TaskEntry, round: RoundRecord, info: RoundEndInfo): void {
    const last = entry.live();
    entry.runner = undefined;
    round.endMs = this.deps.clock.nowMs();
    round.loadEndMs = last?.stopRequestedMs ?? round.endMs;
    round.capacity = last?.capacity;
    if (last?.llm?.Sweep) round.llmSweep = last.llm.Sweep;
    if (last) this.deps.onRoundEnd?.(entry.taskName, round, entry.keepFigures(round.roundId, last));
    if (entry.record.status === 'Deleting') return;
    const status: TaskStatus = info.failed ? (last && last.series.length > 0 ? 'Error' : 'CreateFailed') : 'Stopped';
    // the Message of a finished round is its verdict (the capacity or why there is none, the
    // thresholds, why it ended), in the words the report, --wait and the live page print
    const verdict = settleVerdict(entry.record, round, info, status, last);
    const message = info.failed ? info.reason : `Benchmark task is stopped. ${verdict.Text}`;
    round.message = message;
    if (info.failed && status === 'CreateFailed') {
      this.deps.book.setStatus(entry, status, message);
      return;
    }
    // the report is written before the status says Stopped, so `bench report` works at once
    this.deps.report(entry, round, { status, message });
  }
}
