import { BenchError, Clock, isFinalStatus, TaskEventKind, TaskStatus } from '../../src/contract';
import { TaskEntry } from './entry';
import { newEvent } from './naming';
import { currentRound } from './record';
import { TaskStore } from './store';

/**
 * The tasks the controller holds, by name, and the steps every change of one
 * ends with: save the record, then notify the live streams. Saving and
 * notifying are separate calls, so each caller says which it does.
 */
export class TaskBook {
  private readonly tasks = new Map<string, TaskEntry>();

  /** `clock` stamps the records (updateMs, finalMs, which retention counts from) and the controller's own events. */
  constructor(private readonly store: TaskStore, private readonly clock: Clock, private readonly notifyChange: (taskName: string) => void) {}

  add(entry: TaskEntry): void {
    this.tasks.set(entry.taskName, entry);
  }

  remove(entry: TaskEntry): void {
    this.tasks.delete(entry.taskName);
  }

  has(name: string): boolean {
    return this.tasks.has(name);
  }

  find(name: string): TaskEntry | undefined {
    return this.tasks.get(name);
  }

  /** The task, or TaskNotFound. */
  get(name: string): TaskEntry {
    const entry = this.tasks.get(name);
    if (!entry) throw new BenchError('TaskNotFound', `benchmark task ${name} does not exist`, { resource: name });
    return entry;
  }

  all(): TaskEntry[] {
    return [...this.tasks.values()];
  }

  setStatus(entry: TaskEntry, status: TaskStatus, message: string): void {
    entry.record.status = status;
    entry.record.message = message;
    entry.record.finalMs = isFinalStatus(status) ? this.clock.nowMs() : undefined;
    this.save(entry);
    this.notify(entry.taskName);
  }

  /** Stamps and saves the record; on a full disk the store holds it and saves it again with the task's other held writes. */
  save(entry: TaskEntry): void {
    entry.record.updateMs = this.clock.nowMs();
    // a task whose delete has finished has no folder left to write into
    if (this.tasks.get(entry.taskName) === entry) this.store.saveOrHold(entry.record);
  }

  /** Tells the live streams that the task changed. */
  notify(taskName: string): void {
    this.notifyChange(taskName);
  }

  /** An event of the controller itself (not of a mode), kept with the current round's other events. */
  recordEvent(entry: TaskEntry, kind: TaskEventKind, message: string): void {
    const round = currentRound(entry.record);
    if (!round) return;
    if (entry.runner) {
      // a running round keeps, stores and announces its events itself
      entry.runner.event(kind, message);
      return;
    }
    const event = newEvent(kind, message, undefined, this.clock.nowMs());
    entry.addFinishedEvent(round.roundId, event);
    this.store.appendEvent(entry.taskName, round.roundId, event);
    this.notify(entry.taskName);
  }
}
