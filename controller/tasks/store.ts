import { BenchError, LlmRequestRecord, TaskEvent } from '../../src/contract';
import { StoredSecond } from '../metrics/aggregate';
import { appendFileNoFollow, readFileNoFollow, writeFileAtomic } from '../storage/no-follow';
import { AppendIo, AppendLog, AppendOutcome, errorCode, nodeAppendIo } from './append-log';
import { readLines, streamWholeLines, visitLines } from './ndjson-lines';
import { TaskRecord } from './record';
import { LogKind, TaskFolders } from './task-folders';

/**
 * Task state under `<dataDir>/tasks/<TaskName>/`. Written so that a kill -9 at
 * any instant leaves it readable: task.json is replaced atomically
 * (write temp, fsync, rename), per-second data and events are append-only
 * ndjson whose torn last line, if any, is ignored on read.
 *
 * A full disk loses nothing either: lines that cannot be appended wait in
 * memory (and are served to readers), and a task.json that cannot be replaced
 * leaves the previous one whole. The store tries what waits again every
 * `retryMs` and after every write that succeeds, and tells its DiskListener
 * when a task's writes start to wait and when all of them are written.
 *
 * Nothing below the data dir is followed if it is a symbolic link (a task
 * folder, task.json, a log): such a folder is skipped at recovery, and a
 * read or write of a link fails (ELOOP) instead of reaching outside. Where
 * each file is, and how a task's folder is read at recovery: task-folders.ts.
 */
export class TaskStore {
  private readonly folders: TaskFolders;
  /** The open append logs, by task, then by file. */
  private readonly logs = new Map<string, Map<string, AppendLog>>();
  private readonly held = new Map<string, HeldWrites>();
  /** Appends that refuse a link, as the task folder or as the file: the lines wait like on a full disk. */
  private readonly appendIo: AppendIo = {
    ...nodeAppendIo,
    append: (file, text) => appendFileNoFollow(this.folders.real(file), text),
  };
  private retryTimer?: NodeJS.Timeout;
  private listener?: DiskListener;

  constructor(dataDir: string, private readonly retryMs = DISK_RETRY_MS) {
    this.folders = new TaskFolders(dataDir);
  }

  /** `<dataDir>/tasks`, where every task's folder is. */
  get tasksDir(): string {
    return this.folders.tasksDir;
  }

  /** Replaces task.json; throws StorageFull or StorageFailed, naming the task and the errno, when it cannot. */
  save(record: TaskRecord): void {
    const { error } = this.trySave(record);
    if (error === undefined) return;
    const full = isDiskFull(error);
    throw new BenchError(full ? 'StorageFull' : 'StorageFailed', `cannot save task ${record.taskName}: the data dir ${full ? 'is full' : 'cannot be written'} (${error})`, { resource: record.taskName });
  }

  /**
   * Replaces task.json; a failure leaves the previous one whole and holds the
   * task: the record is saved again with its waiting lines.
   */
  saveOrHold(record: TaskRecord): void {
    const { error } = this.trySave(record);
    const held = this.held.get(record.taskName);
    if (error !== undefined) this.hold(record.taskName, error, record);
    else if (held) held.record = undefined;
  }

  /** The one listener told when a task's writes start to wait and when they are all written. */
  watchDisk(listener: DiskListener): void {
    this.listener = listener;
  }

  /**
   * Another write of the task in the data dir (its report) failed for want of
   * room: the task is held like one whose lines wait, and said writable again
   * at the next retry that succeeds.
   */
  holdAfterFailedWrite(taskName: string, error: string): void {
    this.hold(taskName, error);
  }

  /** Why the task's writes wait, while they do. */
  heldError(taskName: string): string | undefined {
    return this.held.get(taskName)?.error;
  }

  heldTasks(): string[] {
    return [...this.held.keys()];
  }

  /** Tries every task's waiting writes now. */
  retryHeld(): void {
    for (const taskName of this.heldTasks()) this.retry(taskName);
  }

  /** Stops the retries; what still waits stays in memory (and is lost when the process ends). */
  close(): void {
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
  }

  private hold(taskName: string, error: string, record?: TaskRecord): void {
    const held = this.held.get(taskName);
    if (held) {
      held.record ??= record;
      return;
    }
    this.held.set(taskName, { error, record });
    this.retryTimer ??= setInterval(() => this.retryHeld(), this.retryMs).unref();
    this.listener?.unwritable(taskName, error);
  }

  /** Writes what waits; once all of it is on disk, the task is writable again. */
  private retry(taskName: string): void {
    const held = this.held.get(taskName);
    if (!held || !this.flush(taskName).written) return;
    if (held.record && this.trySave(held.record).error !== undefined) return;
    this.release(taskName);
    this.listener?.writable(taskName);
  }

  private release(taskName: string): void {
    this.held.delete(taskName);
    if (this.held.size === 0) this.close();
  }

  /** A failed write holds the task; one that succeeds tries what else of it waits. */
  private afterWrite(taskName: string, outcome: AppendOutcome): AppendOutcome {
    if (!outcome.written) this.hold(taskName, outcome.error ?? 'unknown error');
    else if (this.held.has(taskName)) this.retry(taskName);
    return outcome;
  }

  private trySave(record: TaskRecord): AppendOutcome {
    try {
      writeFileAtomic(this.folders.recordFileToWrite(record.taskName), JSON.stringify(record, null, 1));
      return { written: true, pending: 0 };
    } catch (err) {
      return { written: false, pending: 0, error: errorCode(err) };
    }
  }

  /**
   * A task's long data.content, kept apart from task.json (written once, at
   * create): the record, rewritten at every change and held in memory for
   * the task's retention, stays small. Throws like `save`.
   */
  saveContent(taskName: string, content: string): void {
    try {
      writeFileAtomic(this.folders.contentFile(taskName, true), content);
    } catch (err) {
      const error = errorCode(err);
      const full = isDiskFull(error);
      throw new BenchError(full ? 'StorageFull' : 'StorageFailed', `cannot save the data of task ${taskName}: the data dir ${full ? 'is full' : 'cannot be written'} (${error})`, { resource: taskName });
    }
  }

  /** The data.content saveContent kept; StorageFailed when it cannot be read. */
  readContent(taskName: string): string {
    try {
      return readFileNoFollow(this.folders.real(this.folders.contentFile(taskName)));
    } catch (err) {
      throw new BenchError('StorageFailed', `cannot read the data of task ${taskName} from the data dir (${errorCode(err)})`, { resource: taskName });
    }
  }

  /** Every readable task (what is skipped, and why: `TaskFolders.loadRecords`). */
  loadAll(skipped: (name: string, reason: string) => void = () => undefined): TaskRecord[] {
    return this.folders.loadRecords(skipped);
  }

  remove(taskName: string): void {
    this.logs.delete(taskName);
    this.release(taskName);
    this.folders.remove(taskName);
  }

  appendSecond(taskName: string, roundId: number, second: StoredSecond): AppendOutcome {
    return this.afterWrite(taskName, this.log(taskName, roundId, 'seconds').append([JSON.stringify(second)]));
  }

  appendEvent(taskName: string, roundId: number, event: TaskEvent): AppendOutcome {
    return this.afterWrite(taskName, this.log(taskName, roundId, 'events').append([JSON.stringify(event)]));
  }

  /** LLM tasks: per-request records, one ndjson line each (a restart keeps them like the seconds). */
  appendLlmRecords(taskName: string, roundId: number, records: LlmRequestRecord[]): AppendOutcome {
    return this.afterWrite(taskName, this.log(taskName, roundId, 'llm').append(records.map((r) => JSON.stringify(r))));
  }

  /** Retries the task's waiting lines; `pending` is what still waits. */
  private flush(taskName: string): AppendOutcome {
    let pending = 0;
    let error: string | undefined;
    for (const log of this.logs.get(taskName)?.values() ?? []) {
      if (log.pendingLines === 0) continue;
      const outcome = log.flush();
      pending += outcome.pending;
      error ??= outcome.error;
    }
    return { written: pending === 0, pending, error };
  }

  /** Lines of the task that wait in memory for the disk. */
  pendingLines(taskName: string): number {
    let pending = 0;
    for (const log of this.logs.get(taskName)?.values() ?? []) pending += log.pendingLines;
    return pending;
  }

  readLlmRecords(taskName: string, roundId: number): LlmRequestRecord[] {
    return this.readLog<LlmRequestRecord>(taskName, roundId, 'llm');
  }

  /**
   * LLM tasks: the round's record lines (ndjson), read from the file as they
   * are asked for, never all in memory: what the file held when the call was
   * made, then the lines still waiting for the disk.
   */
  async *llmRecordLines(taskName: string, roundId: number): AsyncGenerator<string> {
    const file = this.folders.logFile(taskName, roundId, 'llm');
    const waiting = [...(this.logs.get(taskName)?.get(file)?.waiting() ?? [])];
    const readable = this.readable(file);
    if (readable !== undefined) yield* streamWholeLines(readable);
    yield* waiting;
  }

  /**
   * LLM tasks: every record of a round, handed to `visit` one at a time and
   * read from the file a chunk at a time, so a long run's records are never
   * all in memory (the run modes' sections of a round read back from disk).
   */
  forEachLlmRecord(taskName: string, roundId: number, visit: (record: LlmRequestRecord) => void): void {
    const file = this.folders.logFile(taskName, roundId, 'llm');
    const visitLine = (line: string): void => {
      if (!line) return;
      try {
        visit(JSON.parse(line) as LlmRequestRecord);
      } catch {
        // a torn line from a crash mid-write
      }
    };
    const readable = this.readable(file);
    if (readable !== undefined) visitLines(readable, visitLine);
    for (const line of this.logs.get(taskName)?.get(file)?.waiting() ?? []) visitLine(line);
  }

  readSeconds(taskName: string, roundId: number): StoredSecond[] {
    return this.readLog<StoredSecond>(taskName, roundId, 'seconds');
  }

  readEvents(taskName: string, roundId: number): TaskEvent[] {
    return this.readLog<TaskEvent>(taskName, roundId, 'events');
  }

  /** The file, when its folder is no link (LinkRefused reads as nothing on disk). */
  private readable(file: string): string | undefined {
    try {
      return this.folders.real(file);
    } catch {
      return undefined;
    }
  }

  private log(taskName: string, roundId: number, kind: LogKind): AppendLog {
    const file = this.folders.logFile(taskName, roundId, kind);
    let ofTask = this.logs.get(taskName);
    if (!ofTask) {
      ofTask = new Map();
      this.logs.set(taskName, ofTask);
    }
    let log = ofTask.get(file);
    if (!log) {
      log = new AppendLog(file, this.appendIo);
      ofTask.set(file, log);
    }
    return log;
  }

  /** What is on disk, then what still waits in memory: everything recorded, in order. */
  private readLog<T>(taskName: string, roundId: number, kind: LogKind): T[] {
    const file = this.folders.logFile(taskName, roundId, kind);
    const readable = this.readable(file);
    const onDisk = readable !== undefined ? readLines<T>(readable) : [];
    const waiting = this.logs.get(taskName)?.get(file)?.waiting() ?? [];
    return waiting.length === 0 ? onDisk : [...onDisk, ...waiting.map((line) => JSON.parse(line) as T)];
  }
}

/** How often writes that failed (a full disk) are tried again. */
const DISK_RETRY_MS = 1000;

/** What the task side hears of the data dir. */
export interface DiskListener {
  /** The task's writes started to wait in memory (`error`: the errno code, ENOSPC, ...). */
  unwritable(taskName: string, error: string): void;
  /** Every write of the task that waited is on disk. */
  writable(taskName: string): void;
}

/** A task whose writes wait: the error that held them first, and its record when task.json could not be replaced. */
interface HeldWrites {
  error: string;
  record?: TaskRecord;
}

export function isDiskFull(code: string | undefined): boolean {
  return code === 'ENOSPC' || code === 'EDQUOT';
}
