import * as fs from 'node:fs';
import * as path from 'node:path';
import { BenchError, isObject, isValidTaskName, resolveOptional, TaskSpec } from '../../src/contract';
import { assertRealDirs, mkdirReal, readFileNoFollow } from '../storage/no-follow';
import { childPath } from '../storage/paths';
import { errorCode } from './append-log';
import { TaskRecord } from './record';

/**
 * The on-disk layout of tasks, `<dataDir>/tasks/<TaskName>/`: `task.json`
 * (the record), `data.content` (a long content kept apart) and one ndjson
 * file per round and kind. Only names in the task-name alphabet become
 * paths, and nothing below the data dir is followed if it is a symbolic link.
 */

export type LogKind = 'seconds' | 'events' | 'llm';

/** Where a task's long data.content is kept, beside task.json. */
const CONTENT_FILE = 'data.content';
const RECORD_FILE = 'task.json';

export class TaskFolders {
  readonly tasksDir: string;

  constructor(dataDir: string) {
    this.tasksDir = path.join(dataDir, 'tasks');
    try {
      fs.mkdirSync(this.tasksDir, { recursive: true });
      fs.accessSync(this.tasksDir, fs.constants.W_OK);
    } catch (err) {
      throw new BenchError('StorageFailed', `data dir ${dataDir} is not writable: ${errorCode(err)}`, { resource: dataDir });
    }
  }

  /** The data dir: no link below it is followed. */
  private get root(): string {
    return path.dirname(this.tasksDir);
  }

  /** The task's folder; a name outside the task-name alphabet never becomes a path. */
  taskDir(taskName: string): string {
    if (!isValidTaskName(taskName)) throw new BenchError('TaskNotFound', `benchmark task ${taskName} does not exist`, { resource: taskName });
    return childPath(this.tasksDir, taskName);
  }

  /** The task's folder, made when missing; LinkRefused when it (or tasks/) is a link. */
  madeTaskDir(taskName: string): string {
    const dir = this.taskDir(taskName);
    mkdirReal(this.root, dir);
    return dir;
  }

  /** A file of the task's folder to read or append to: LinkRefused when the folder is a link (the file itself is opened with O_NOFOLLOW). */
  real(file: string): string {
    assertRealDirs(this.root, path.dirname(file));
    return file;
  }

  /** task.json in the task's folder, made when missing. */
  recordFileToWrite(taskName: string): string {
    return path.join(this.madeTaskDir(taskName), RECORD_FILE);
  }

  contentFile(taskName: string, make = false): string {
    return path.join(make ? this.madeTaskDir(taskName) : this.taskDir(taskName), CONTENT_FILE);
  }

  logFile(taskName: string, roundId: number, kind: LogKind): string {
    return path.join(this.taskDir(taskName), `round-${roundId}.${kind}.ndjson`);
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
  loadRecords(skipped: (name: string, reason: string) => void): TaskRecord[] {
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
      const read = readRecord(path.join(dir, RECORD_FILE));
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
    const aside = path.join(this.root, 'quarantine', `${name}-${Date.now()}`);
    // a `quarantine` that is a link would carry the folder outside the data dir
    mkdirReal(this.root, path.dirname(aside));
    fs.renameSync(this.taskDir(name), aside);
    return aside;
  }

  remove(taskName: string): void {
    fs.rmSync(this.taskDir(taskName), { recursive: true, force: true });
  }
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
    return typeof record === 'object' && record !== null && typeof record.taskName === 'string' ? { record: withOptions(record) } : { error: 'corrupt' };
  } catch {
    return { error: 'corrupt' };
  }
}

/**
 * A record written before the options were stored resolved: they are
 * resolved once, here, from its spec (which has its defaults written out),
 * and saved with the record's next change.
 */
function withOptions(record: TaskRecord): TaskRecord {
  const stored = record as Partial<TaskRecord>;
  if (stored.options === undefined && isObject(stored.spec)) record.options = resolveOptional(stored.spec as TaskSpec);
  return record;
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
