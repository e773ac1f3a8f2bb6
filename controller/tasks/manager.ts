import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { assertValidTask, BenchError, Clock, isFinalStatus, mergeOptional, normalizeTask, resolveOptional, sameSecret, systemClock } from '../../src/contract';
import { taskMode } from '../modes';
import { AgentOwner } from '../fleet/hub';
import { AgentLauncher } from '../fleet/launcher';
import { ReportStore } from '../storage';
import { TaskBook } from './book';
import { CapacityLimits, TaskCapacity } from './capacity';
import { TaskEntry } from './entry';
import { formatTime, newEvent, newTaskId, newTaskName } from './naming';
import { PrepareDeps } from './prepare';
import { currentRound, storeContentApart, TaskRecord, withContent } from './record';
import { RoundReports } from './round-reports';
import { judgedAgain } from './round-verdict';
import { RoundSupervisor } from './round-supervisor';
import { RoundTiming } from './round-timing';
import { TaskStore } from './store';
import { updatedSpec } from './update-body';

export interface TaskManagerDeps extends CapacityLimits, PrepareDeps {
  store: TaskStore;
  reports: ReportStore;
  /** The controller's own disk: every report is written here first. */
  localReports: ReportStore;
  launcher: AgentLauncher;
  region: string;
  agentConnectTimeoutS: number;
  /** Most QPS of one agent's share (--max-agent-qps). */
  maxAgentQps: number;
  controllerWsUrl: () => string;
  retentionStoppedS: number;
  retentionFailedS: number;
  log: (line: string) => void;
  /** The clock of every round, of the tasks' time stamps and of retention (systemClock when absent). */
  clock?: Clock;
  /** The times a round waits, where a test sets them (ROUND_TIMING when absent). */
  roundTiming?: Partial<RoundTiming>;
}

/**
 * Owns every task and coordinates its lifecycle: commands, rounds, reports,
 * retention. Emits `second` (taskName, point) and `task` (taskName) for the
 * live streams, and `round-end` (taskName, RoundRecord, RoundFigures) when a
 * round's runner ends (the Prometheus export keeps those figures); the API
 * builds its views from `entry()`.
 */
export class TaskManager extends EventEmitter {
  private readonly book: TaskBook;
  private readonly capacity: TaskCapacity;
  private readonly rounds: RoundSupervisor;
  private readonly reports: RoundReports;
  private readonly clock: Clock;

  constructor(private readonly deps: TaskManagerDeps) {
    super();
    this.setMaxListeners(0);
    const clock = (this.clock = deps.clock ?? systemClock);
    const book = (this.book = new TaskBook(deps.store, clock, (name) => this.emit('task', name)));
    this.capacity = new TaskCapacity(deps, () => book.all().map((e) => e.record));
    this.reports = new RoundReports({ ...deps, book, clock });
    this.rounds = new RoundSupervisor({
      ...deps,
      clock,
      book,
      capacity: this.capacity,
      onSecond: (name, point) => this.emit('second', name, point),
      report: (entry, round, final) => this.reports.queue(entry, round, final),
      onRoundEnd: (name, round, figures) => this.emit('round-end', name, round, figures),
    });
    deps.store.watchDisk({ unwritable: (name, error) => this.onDiskUnwritable(name, error), writable: (name) => this.onDiskWritable(name) });
  }

  /** Loads every task; rounds that were running when the controller died become Terminated, with their data kept and reported. */
  recover(): void {
    for (const record of this.deps.store.loadAll((name, reason) => this.deps.log(`recovery: task folder ${JSON.stringify(name)} skipped: ${reason}`))) {
      const entry = new TaskEntry(record, this.deps.store);
      this.book.add(entry);
      this.moveContentApart(entry);
      if (isFinalStatus(record.status)) continue;
      if (record.status === 'Deleting') void this.finishDelete(entry);
      else this.terminateInterrupted(entry);
    }
  }

  // ------------------------------------------------------------ commands

  /** `keyId`: the API key that asked, whose creates of the last minute are capped. */
  async create(body: unknown, keyId = ''): Promise<TaskRecord> {
    const now = this.clock.nowMs();
    this.capacity.checkCreateRate(keyId, now);
    const task = assertValidTask(body);
    // the one place a task's options are resolved: the record keeps them, the shown spec is written from them
    const options = resolveOptional(task);
    const spec = normalizeTask(task, options);
    // fail early, before anything is created, when the service cannot be resolved
    this.deps.services.resolve(spec.service);
    if (taskMode(options, spec.llm).agentsFromTask) this.capacity.checkAgentCount(options.agentCount);
    const desiredAgent = this.capacity.startingAgents(options, spec.llm);
    this.capacity.checkStart(undefined, desiredAgent);
    const record: TaskRecord = {
      taskId: newTaskId(),
      taskName: newTaskName(spec.service.serviceName, (name) => this.book.has(name)),
      region: this.deps.region,
      serviceName: spec.service.serviceName,
      spec,
      options,
      status: 'Creating',
      message: 'Benchmark task is creating',
      createMs: now,
      updateMs: now,
      desiredAgent,
      rounds: [],
      agentToken: randomBytes(24).toString('base64url'),
    };
    try {
      storeContentApart(record, (content) => this.deps.store.saveContent(record.taskName, content));
      this.deps.store.save(record);
    } catch (err) {
      // nothing half-created: no folder, no record
      this.deps.store.remove(record.taskName);
      throw err;
    }
    this.capacity.countCreate(keyId, now);
    const entry = new TaskEntry(record, this.deps.store);
    this.book.add(entry);
    void this.rounds.start(entry);
    return record;
  }

  /** What the task's mode says of its settings before it runs: a duration too short for a search to end. */
  durationWarning(record: TaskRecord): string | undefined {
    return taskMode(record.options, record.spec.llm).durationWarning?.();
  }

  async start(name: string): Promise<TaskRecord> {
    const entry = this.entry(name);
    const record = entry.record;
    if (!isFinalStatus(record.status)) {
      throw new BenchError('TaskConflict', `task ${name} is ${record.status}; only a finished task can be started`, { resource: name });
    }
    const desiredAgent = this.capacity.startingAgents(record.options, record.spec.llm);
    this.capacity.checkStart(record, desiredAgent);
    record.desiredAgent = desiredAgent;
    record.agentToken = randomBytes(24).toString('base64url');
    this.book.setStatus(entry, 'Creating', 'Benchmark task is starting');
    void this.rounds.start(entry);
    return record;
  }

  async stop(name: string): Promise<TaskRecord> {
    const entry = this.entry(name);
    const runner = entry.runner;
    if (!runner || isFinalStatus(entry.record.status)) {
      throw new BenchError('TaskConflict', `task ${name} is ${entry.record.status}, not running`, { resource: name });
    }
    this.book.setStatus(entry, 'Stopping', 'Benchmark task is stopping');
    void runner.stop('stopped by the user', 'stopped');
    return entry.record;
  }

  async update(name: string, body: unknown): Promise<TaskRecord> {
    const entry = this.entry(name);
    const record = entry.record;
    // checked whole (an llm custom dataset needs its content); kept without it
    const { spec: whole, changes } = updatedSpec(entry.wholeSpec(), body);
    const next = record.storedContent ? withContent(whole, undefined) : whole;
    // merged into the stored options, never resolved again from the spec
    const options = mergeOptional(record.options, changes);
    this.capacity.checkAgentCount(options.agentCount);
    if (record.status === 'Stopping' || record.status === 'Deleting' || record.status === 'Creating') {
      throw new BenchError('TaskConflict', `task ${name} is ${record.status}; try again when it is Running or finished`, { resource: name });
    }
    const runner = entry.runner;
    if (runner && taskMode(options, next.llm).agentsFromTask) this.capacity.checkAgents(record, options.agentCount);
    record.spec = next;
    record.options = options;
    if (!runner) {
      // a finished task: the next `start` uses the updated config
      this.book.save(entry);
      this.book.notify(name);
      return record;
    }
    this.rounds.update(entry, runner, options);
    return record;
  }

  async delete(name: string): Promise<TaskRecord> {
    const entry = this.entry(name);
    if (entry.record.status === 'Deleting') return entry.record;
    this.book.setStatus(entry, 'Deleting', 'Benchmark task is Deleting');
    void this.finishDelete(entry);
    return entry.record;
  }

  /** Where the report of the last round (or of round `roundId`) is; 409 before the round has ended. */
  async report(name: string, roundId?: number): Promise<{ roundId: number; reportUrl: string; jsonUrl?: string }> {
    const entry = this.entry(name);
    const last = currentRound(entry.record);
    const round = roundId === undefined ? last : entry.record.rounds.find((r) => r.roundId === roundId);
    if (!round || (round === last && !isFinalStatus(entry.record.status))) {
      throw new BenchError('ReportNotReady', `task ${name} is ${entry.record.status}; its report is written when the round ends`, { resource: name });
    }
    await entry.pendingReport;
    if (!round.reportUrl) throw new BenchError('ReportNotFound', `task ${name} round ${round.roundId} has no report: ${round.message ?? 'it was not written'}`, { resource: name });
    return { roundId: round.roundId, reportUrl: round.reportUrl, jsonUrl: round.reportJsonUrl };
  }

  // ------------------------------------------------------------- lookups

  /** The task, or TaskNotFound. */
  entry(name: string): TaskEntry {
    return this.book.get(name);
  }

  /** Every task, oldest first. */
  entries(): TaskEntry[] {
    return this.book.all().sort((a, b) => a.record.createMs - b.record.createMs);
  }

  has(name: string): boolean {
    return this.book.has(name);
  }

  /** The agent-token lookup the agent hub uses: a task's token, or the own secret of one of its launched agents. */
  ownerForToken(token: string): AgentOwner | undefined {
    for (const { runner, record } of this.book.all()) {
      if (runner && (sameSecret(token, record.agentToken) || runner.holdsAgentSecret(token))) return runner.agentOwner;
    }
    return undefined;
  }

  // ------------------------------------------------------ housekeeping

  /** Deletes tasks whose retention has passed. */
  sweepRetention(nowMs = this.clock.nowMs()): void {
    for (const { record } of this.book.all()) {
      if (!isFinalStatus(record.status) || record.finalMs === undefined) continue;
      const keepS = record.status === 'Stopped' ? this.deps.retentionStoppedS : this.deps.retentionFailedS;
      if (nowMs - record.finalMs >= keepS * 1000) {
        this.deps.log(`retention: deleting ${record.taskName} (${record.status} for more than ${keepS} s)`);
        void this.delete(record.taskName);
      }
    }
  }

  /** Stops every running round and writes its report (graceful shutdown). */
  async shutdown(): Promise<void> {
    await Promise.all(this.book.all().map((entry) => {
      const runner = entry.runner;
      if (!runner) return undefined;
      if (!isFinalStatus(entry.record.status)) this.book.setStatus(entry, 'Stopping', 'Benchmark task is stopping: the controller is shutting down');
      return runner.stop('the controller is shutting down', 'shutdown');
    }));
    await this.reports.idle();
    const store = this.deps.store;
    store.retryHeld();
    for (const name of store.heldTasks()) this.deps.log(`${name}: ${store.pendingLines(name)} held lines could not be written before exit (${store.heldError(name)})`);
    store.close();
  }

  /** A task.json written before long content was kept apart: its content goes to the task's folder now, and stays out of memory. */
  private moveContentApart(entry: TaskEntry): void {
    try {
      const before = entry.record.storedContent;
      storeContentApart(entry.record, (content) => this.deps.store.saveContent(entry.taskName, content));
      if (entry.record.storedContent !== before) this.book.save(entry);
    } catch (err) {
      this.deps.log(`recovery: ${entry.taskName}: its data.content stays in task.json: ${(err as Error).message}`);
    }
  }

  /** A round that was running when the controller died: Terminated, its data kept up to the last second recorded, and reported. */
  private terminateInterrupted(entry: TaskEntry): void {
    const record = entry.record;
    const round = currentRound(record);
    const seconds = round ? this.deps.store.readSeconds(record.taskName, round.roundId) : [];
    const last = seconds[seconds.length - 1];
    const upTo = last ? ` (data recorded up to ${formatTime((last.point.Time + 1) * 1000)} kept)` : '';
    const message = `Terminated: the controller stopped while the task was ${record.status}${upTo}`;
    if (round) {
      round.endMs = last ? (last.point.Time + 1) * 1000 : this.clock.nowMs();
      round.message = message;
      round.endReason = 'shutdown';
      round.ended = message;
      round.verdict = judgedAgain(record, round, () => entry.figures(round));
      this.deps.store.appendEvent(record.taskName, round.roundId, newEvent('status', message, undefined, this.clock.nowMs()));
    }
    this.book.setStatus(entry, 'Terminated', message);
    if (round) this.reports.queue(entry, round);
  }

  private async finishDelete(entry: TaskEntry): Promise<void> {
    if (entry.runner) await entry.runner.stop('the task is being deleted', 'stopped');
    await entry.pendingReport;
    this.reports.forget(entry);
    for (const round of entry.record.rounds) {
      for (const key of round.reportKeys ?? []) {
        for (const store of new Set([this.deps.reports, this.deps.localReports])) {
          await store.delete(key).catch((err: Error) => this.deps.log(`cannot delete report ${key}: ${err.message}`));
        }
      }
    }
    this.deps.store.remove(entry.taskName);
    this.book.remove(entry);
    this.book.notify(entry.taskName);
  }

  // ----------------------------------------------------------- full disk

  private onDiskUnwritable(taskName: string, error: string): void {
    const entry = this.book.find(taskName);
    if (!entry) return;
    const message = `cannot write to the data dir (${error}): the seconds, events and status are held in memory and written when it can be written again`;
    this.deps.log(`${taskName}: ${message}`);
    this.book.recordEvent(entry, 'storage', message);
  }

  /** Everything held is written: says so, and writes a report the full disk held back. */
  private onDiskWritable(taskName: string): void {
    const entry = this.book.find(taskName);
    if (!entry) return;
    this.deps.log(`${taskName}: the data dir can be written again; every held line is written`);
    this.book.recordEvent(entry, 'storage', 'the data dir can be written again: every held second, event and status is written');
    this.reports.resume(entry);
    this.book.notify(taskName);
  }
}
