import * as fs from 'node:fs';
import * as path from 'node:path';
import { BenchError, LlmRequestRecord, TaskEvent } from '../../src/contract';
import { StoredSecond } from '../metrics/aggregate';
import { TaskRecord } from './record';

/**
 * Task state under `<dataDir>/tasks/<TaskName>/`. Written so that a kill -9 at
 * any instant leaves it readable: task.json is replaced atomically
 * (write temp, fsync, rename), per-second data and events are append-only
 * ndjson whose torn last line, if any, is ignored on read.
 */
export class TaskStore {
  readonly tasksDir: string;

  constructor(dataDir: string) {
    this.tasksDir = path.join(dataDir, 'tasks');
    try {
      fs.mkdirSync(this.tasksDir, { recursive: true });
      fs.accessSync(this.tasksDir, fs.constants.W_OK);
    } catch (err) {
      throw new BenchError('StorageFailed', `data dir ${dataDir} is not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { resource: dataDir });
    }
  }

  private taskDir(taskName: string): string {
    return path.join(this.tasksDir, taskName);
  }

  save(record: TaskRecord): void {
    const dir = this.taskDir(record.taskName);
    fs.mkdirSync(dir, { recursive: true });
    writeFileAtomic(path.join(dir, 'task.json'), JSON.stringify(record, null, 1));
  }

  /** Every readable task; folders without a readable task.json are leftovers of a crash mid-create and are removed. */
  loadAll(): TaskRecord[] {
    const records: TaskRecord[] = [];
    for (const name of fs.readdirSync(this.tasksDir)) {
      const file = path.join(this.taskDir(name), 'task.json');
      try {
        records.push(JSON.parse(fs.readFileSync(file, 'utf8')) as TaskRecord);
      } catch {
        fs.rmSync(this.taskDir(name), { recursive: true, force: true });
      }
    }
    return records;
  }

  remove(taskName: string): void {
    fs.rmSync(this.taskDir(taskName), { recursive: true, force: true });
  }

  appendSecond(taskName: string, roundId: number, second: StoredSecond): void {
    appendLine(path.join(this.taskDir(taskName), `round-${roundId}.seconds.ndjson`), JSON.stringify(second));
  }

  appendEvent(taskName: string, roundId: number, event: TaskEvent): void {
    appendLine(path.join(this.taskDir(taskName), `round-${roundId}.events.ndjson`), JSON.stringify(event));
  }

  /** LLM tasks: per-request records, one ndjson line each (a restart keeps them like the seconds). */
  appendLlmRecords(taskName: string, roundId: number, records: LlmRequestRecord[]): void {
    if (records.length === 0) return;
    // One write for the batch: a crash tears at most its last line.
    fs.appendFileSync(path.join(this.taskDir(taskName), `round-${roundId}.llm.ndjson`), `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  }

  readLlmRecords(taskName: string, roundId: number): LlmRequestRecord[] {
    return readLines<LlmRequestRecord>(path.join(this.taskDir(taskName), `round-${roundId}.llm.ndjson`));
  }

  readSeconds(taskName: string, roundId: number): StoredSecond[] {
    return readLines<StoredSecond>(path.join(this.taskDir(taskName), `round-${roundId}.seconds.ndjson`));
  }

  readEvents(taskName: string, roundId: number): TaskEvent[] {
    return readLines<TaskEvent>(path.join(this.taskDir(taskName), `round-${roundId}.events.ndjson`));
  }
}

export function writeFileAtomic(file: string, content: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

function appendLine(file: string, line: string): void {
  // One write call per line: a crash can tear only the last line.
  fs.appendFileSync(file, `${line}\n`);
}

function readLines<T>(file: string): T[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
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
