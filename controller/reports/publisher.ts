import { ReportStore } from '../storage';
import { ReportData } from './model';
import { PublishedReport, publishReport } from './publish';

/** One round's report to write. */
export interface ReportJob {
  /** One report of a task is written at a time; a report that waits for the data dir is kept under this name. */
  taskName: string;
  roundId: number;
  /** The unguessable part of the report's keys, the same each time the round's report is written. */
  secret: string;
  /** The report's content, built when it is written (again, with the figures of then, after a wait). */
  content(): ReportData;
  /** Called once per attempt: where the report went, or `warning` (why it was not written) for the task's Message. */
  settled(outcome: ReportOutcome): void;
}

export type ReportOutcome = { published: PublishedReport; warning?: string } | { published?: undefined; warning: string };

export interface ReportPublisherDeps {
  store: ReportStore;
  /** The controller's own disk: every report is written here first. */
  local: ReportStore;
  log: (line: string) => void;
  /**
   * Whether a report that failed with `err` waits for the data dir to take
   * writes again. The task side decides (a full disk), and calls `resume`
   * when it can be written.
   */
  waitsForDisk(taskName: string, err: unknown): boolean;
}

const REPORT_ATTEMPTS = 3;
const UPLOAD_BACKOFF_MS = 500;

/**
 * Writes the reports of ended rounds: the upload is retried (publishReport),
 * and a report the full data dir refused waits until the task side says the
 * disk takes writes again.
 */
export class ReportPublisher {
  private readonly waiting = new Map<string, ReportJob>();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly deps: ReportPublisherDeps) {}

  /** Writes the report; the promise ends after `settled` was called. */
  publish(job: ReportJob): Promise<void> {
    const run = this.write(job).then((outcome) => job.settled(outcome));
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  /** The task's data dir takes writes again: a report that waited for it is written now. */
  resume(taskName: string): Promise<void> | undefined {
    const job = this.waiting.get(taskName);
    if (!job) return undefined;
    this.waiting.delete(taskName);
    return this.publish(job);
  }

  /** The task is gone: a report that waited for it is dropped. */
  forget(taskName: string): void {
    this.waiting.delete(taskName);
  }

  /** Resolves when every report being written now is settled. */
  async idle(): Promise<void> {
    await Promise.all([...this.running]);
  }

  private async write(job: ReportJob): Promise<ReportOutcome> {
    try {
      const published = await publishReport(this.deps.store, this.deps.local, job.content(), job.secret, { attempts: REPORT_ATTEMPTS, backoffMs: UPLOAD_BACKOFF_MS });
      if (published.uploadError) this.deps.log(`${job.taskName} round ${job.roundId}: ${published.uploadError}`);
      return { published, warning: published.uploadError };
    } catch (err) {
      const waits = this.deps.waitsForDisk(job.taskName, err);
      if (waits) this.waiting.set(job.taskName, job);
      const warning = `report not written: ${(err as Error).message}${waits ? '; it is written when the data dir can be written again' : ''}`;
      this.deps.log(`${job.taskName} round ${job.roundId}: ${warning}`);
      return { warning };
    }
  }
}
