import * as fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import * as path from 'node:path';
import { BenchError, isValidTaskName, LlmRequestRecord, TaskEvent } from '../../src/contract';
import { StoredSecond } from '../metrics/aggregate';
import { appendFileNoFollow, assertRealDirs, mkdirReal, O_NOFOLLOW, readFileNoFollow, writeFileAtomic } from '../storage/no-follow';
import { childPath } from '../storage/paths';
import { AppendIo, AppendLog, AppendOutcome, errorCode, nodeAppendIo } from './append-log';
import { TaskRecord } from './record';

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
 * read or write of a link fails (ELOOP) instead of reaching outside.
 */
export class TaskStore {
  readonly tasksDir: string;
  /** The open append logs, by task, then by file. */
  private readonly logs = new Map<string, Map<string, AppendLog>>();
  private readonly held = new Map<string, HeldWrites>();
  /** Appends that refuse a link, as the task folder or as the file: the lines wait like on a full disk. */
  private readonly appendIo: AppendIo = {
    ...nodeAppendIo,
    append: (file, text) => {
      assertRealDirs(path.dirname(this.tasksDir), path.dirname(file));
      appendFileNoFollow(file, text);
    },
  };
  private retryTimer?: NodeJS.Timeout;
  private listener?: DiskListener;

  constructor(dataDir: string, private readonly retryMs = DISK_RETRY_MS) {
    this.tasksDir = path.join(dataDir, 'tasks');
    try {
      fs.mkdirSync(this.tasksDir, { recursive: true });
      fs.accessSync(this.tasksDir, fs.constants.W_OK);
    } catch (err) {
      throw new BenchError('StorageFailed', `data dir ${dataDir} is not writable: ${errorCode(err)}`, { resource: dataDir });
    }
  }

  /** The task's folder; a name outside the task-name alphabet never becomes a path. */
  private taskDir(taskName: string): string {
    if (!isValidTaskName(taskName)) throw new BenchError('TaskNotFound', `benchmark task ${taskName} does not exist`, { resource: taskName });
    return childPath(this.tasksDir, taskName);
  }

  /** The task's folder, made when missing; LinkRefused when it (or tasks/) is a link. */
  private madeTaskDir(taskName: string): string {
    const dir = this.taskDir(taskName);
    mkdirReal(path.dirname(this.tasksDir), dir);
    return dir;
  }

  /** A file of the task's folder to read: LinkRefused when the folder is a link (the file itself is opened with O_NOFOLLOW). */
  private readable(file: string): string {
    assertRealDirs(path.dirname(this.tasksDir), path.dirname(file));
    return file;
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
      writeFileAtomic(path.join(this.madeTaskDir(record.taskName), 'task.json'), JSON.stringify(record, null, 1));
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
      writeFileAtomic(path.join(this.madeTaskDir(taskName), CONTENT_FILE), content);
    } catch (err) {
      const error = errorCode(err);
      const full = isDiskFull(error);
      throw new BenchError(full ? 'StorageFull' : 'StorageFailed', `cannot save the data of task ${taskName}: the data dir ${full ? 'is full' : 'cannot be written'} (${error})`, { resource: taskName });
    }
  }

  /** The data.content saveContent kept; StorageFailed when it cannot be read. */
  readContent(taskName: string): string {
    try {
      return readFileNoFollow(this.readable(path.join(this.taskDir(taskName), CONTENT_FILE)));
    } catch (err) {
      throw new BenchError('StorageFailed', `cannot read the data of task ${taskName} from the data dir (${errorCode(err)})`, { resource: taskName });
    }
  }

  /**
   * Every readable task. A folder whose name, or whose record's name, is not a
   * valid task name is left alone and reported to `skipped`: the controller
   * never builds a path from it. A folder whose task.json cannot be read is
   * never deleted on a guess: only a provable crash leftover (no task.json and
   * nothing but temp files, i.e. a create that died before its first rename)
   * is removed; a task.json that is there but not a record is moved aside to
   * `<dataDir>/quarantine/`; a read that failed for another reason (EACCES,
   * EMFILE, EIO) leaves the folder where it is, to be read at the next start.
   * A task folder that is a symbolic link is neither read nor moved.
   */
  loadAll(skipped: (name: string, reason: string) => void = () => undefined): TaskRecord[] {
    const records: TaskRecord[] = [];
    for (const name of fs.readdirSync(this.tasksDir)) {
      if (!isValidTaskName(name)) {
        skipped(name, 'the folder name is not a valid task name');
        continue;
      }
      const dir = this.taskDir(name);
      if (isLink(dir)) {
        skipped(name, 'it is a symbolic link, not a folder: left alone, never followed');
        continue;
      }
      const read = readRecord(path.join(dir, 'task.json'));
      if ('record' in read) {
        if (read.record.taskName === name) records.push(read.record);
        else skipped(name, 'its task.json names another task');
        continue;
      }
      if (read.error === 'ENOENT' && isCrashLeftover(dir)) {
        fs.rmSync(dir, { recursive: true, force: true });
      } else if (read.error === 'corrupt' || read.error === 'ENOENT') {
        const what = `its task.json is ${read.error === 'corrupt' ? 'not a task record' : 'missing'}`;
        try {
          skipped(name, `${what}; moved to ${this.quarantine(name)}`);
        } catch (err) {
          skipped(name, `${what}; left in place: ${(err as Error).message}`);
        }
      } else {
        skipped(name, `its task.json cannot be read (${read.error}); left in place`);
      }
    }
    return records;
  }

  /** Moves a task folder aside, out of the controller's sight, keeping it for a person to look at. */
  private quarantine(name: string): string {
    const aside = path.join(path.dirname(this.tasksDir), 'quarantine', `${name}-${Date.now()}`);
    // a `quarantine` that is a link would carry the folder outside the data dir
    mkdirReal(path.dirname(this.tasksDir), path.dirname(aside));
    fs.renameSync(this.taskDir(name), aside);
    return aside;
  }

  remove(taskName: string): void {
    this.logs.delete(taskName);
    this.release(taskName);
    fs.rmSync(this.taskDir(taskName), { recursive: true, force: true });
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
    const file = this.logFile(taskName, roundId, 'llm');
    const waiting = [...(this.logs.get(taskName)?.get(file)?.waiting() ?? [])];
    let handle: fs.promises.FileHandle | undefined;
    try {
      handle = await fs.promises.open(this.readable(file), fs.constants.O_RDONLY | O_NOFOLLOW);
    } catch {
      handle = undefined;
    }
    if (handle) {
      try {
        // up to the size the file had when asked: lines appended meanwhile are in `waiting` or the next call
        let left = (await handle.stat()).size;
        const buffer = Buffer.alloc(RECORDS_CHUNK_BYTES);
        const decoder = new StringDecoder('utf8');
        let rest = '';
        while (left > 0) {
          // each chunk is its own read: the event loop serves others between them, and one chunk is all that is held
          const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, left), null);
          if (bytesRead === 0) break;
          left -= bytesRead;
          const lines = (rest + decoder.write(buffer.subarray(0, bytesRead))).split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines) if (isWholeJson(line)) yield line;
        }
        rest += decoder.end();
        if (isWholeJson(rest)) yield rest;
      } finally {
        await handle.close();
      }
    }
    yield* waiting;
  }

  /**
   * LLM tasks: every record of a round, handed to `visit` one at a time and
   * read from the file a chunk at a time, so a long run's records are never
   * all in memory (the run modes' sections of a round read back from disk).
   */
  forEachLlmRecord(taskName: string, roundId: number, visit: (record: LlmRequestRecord) => void): void {
    const file = this.logFile(taskName, roundId, 'llm');
    const visitLine = (line: string): void => {
      if (!line) return;
      try {
        visit(JSON.parse(line) as LlmRequestRecord);
      } catch {
        // a torn line from a crash mid-write
      }
    };
    let fd: number | null = null;
    try {
      fd = fs.openSync(this.readable(file), fs.constants.O_RDONLY | O_NOFOLLOW);
    } catch {
      fd = null;
    }
    if (fd !== null) {
      try {
        const buffer = Buffer.alloc(1 << 20);
        const decoder = new StringDecoder('utf8');
        let rest = '';
        for (let n = fs.readSync(fd, buffer); n > 0; n = fs.readSync(fd, buffer)) {
          const lines = (rest + decoder.write(buffer.subarray(0, n))).split('\n');
          rest = lines.pop() ?? '';
          lines.forEach(visitLine);
        }
        visitLine(rest + decoder.end());
      } finally {
        fs.closeSync(fd);
      }
    }
    for (const line of this.logs.get(taskName)?.get(file)?.waiting() ?? []) visitLine(line);
  }

  readSeconds(taskName: string, roundId: number): StoredSecond[] {
    return this.readLog<StoredSecond>(taskName, roundId, 'seconds');
  }

  readEvents(taskName: string, roundId: number): TaskEvent[] {
    return this.readLog<TaskEvent>(taskName, roundId, 'events');
  }

  private logFile(taskName: string, roundId: number, kind: LogKind): string {
    return path.join(this.taskDir(taskName), `round-${roundId}.${kind}.ndjson`);
  }

  private log(taskName: string, roundId: number, kind: LogKind): AppendLog {
    const file = this.logFile(taskName, roundId, kind);
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
    const file = this.logFile(taskName, roundId, kind);
    let onDisk: T[] = [];
    try {
      onDisk = readLines<T>(this.readable(file));
    } catch {
      onDisk = [];
    }
    const waiting = this.logs.get(taskName)?.get(file)?.waiting() ?? [];
    return waiting.length === 0 ? onDisk : [...onDisk, ...waiting.map((line) => JSON.parse(line) as T)];
  }
}

type LogKind = 'seconds' | 'events' | 'llm';

/** How much of a records file is read at once when its lines are streamed. */
const RECORDS_CHUNK_BYTES = 256 * 1024;

/** Where a task's long data.content is kept, beside task.json. */
const CONTENT_FILE = 'data.content';

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

function readRecord(file: string): { record: TaskRecord } | { error: string } {
  let text: string;
  try {
    text = readFileNoFollow(file);
  } catch (err) {
    return { error: errorCode(err) };
  }
  try {
    const record = JSON.parse(text) as TaskRecord;
    return typeof record === 'object' && record !== null && typeof record.taskName === 'string' ? { record } : { error: 'corrupt' };
  } catch {
    return { error: 'corrupt' };
  }
}

function isLink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** A folder that holds nothing but writeFileAtomic's temp files: a create that died before task.json existed. */
function isCrashLeftover(dir: string): boolean {
  try {
    return fs.readdirSync(dir).every((f) => f.endsWith('.tmp'));
  } catch {
    return false;
  }
}

/** A stored line that parses: a line torn by a crash mid-write is skipped, as readLines does. */
function isWholeJson(line: string): boolean {
  if (!line) return false;
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

function readLines<T>(file: string): T[] {
  let text: string;
  try {
    text = readFileNoFollow(file);
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a torn line from a crash mid-write: the seconds before it are intact
    }
  }
  return out;
}
