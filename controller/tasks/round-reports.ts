import { Clock, redactText, redactUrl, TaskStatus } from '../../src/contract';
import { newReportSecret, ReportData } from '../reports/model';
import { ReportOutcome, ReportPublisher } from '../reports/publisher';
import { ServiceRegistry } from '../services';
import { ReportStore } from '../storage';
import { errorCode } from './append-log';
import { TaskBook } from './book';
import { serviceHistory } from './history';
import { RoundFigures, TaskEntry } from './entry';
import { formatTime } from './naming';
import { modeName, RoundRecord, TaskRecord } from './record';
import { FinalStatus } from './round-supervisor';
import { isDiskFull, TaskStore } from './store';

/** Earlier rounds of the same service a report lists. */
const REPORT_HISTORY_ROUNDS = 5;

export interface RoundReportsDeps {
  book: TaskBook;
  store: TaskStore;
  services: ServiceRegistry;
  reports: ReportStore;
  /** The controller's own disk: every report is written here first. */
  localReports: ReportStore;
  log: (line: string) => void;
  /** The controller's clock: a report's generation time, and the end of a round that has none. */
  clock: Clock;
}

/**
 * The task side of reports: what a round's report holds, where it was
 * written (kept on the round), and the status its end sets once it is.
 * Writing, upload retries and waiting for the disk are the publisher's.
 */
export class RoundReports {
  private readonly publisher: ReportPublisher;

  constructor(private readonly deps: RoundReportsDeps) {
    this.publisher = new ReportPublisher({
      store: deps.reports,
      local: deps.localReports,
      log: deps.log,
      waitsForDisk: (taskName, err) => this.waitsForDisk(taskName, err),
    });
  }

  /** Writes the round's report, then sets the final status (if given); a report problem is added to the Message. */
  queue(entry: TaskEntry, round: RoundRecord, final?: FinalStatus): void {
    const { record } = entry;
    // rounds recorded before report names had a secret get theirs now
    round.reportSecret ??= newReportSecret();
    entry.pendingReport = this.publisher.publish({
      taskName: record.taskName,
      roundId: round.roundId,
      secret: round.reportSecret,
      content: () => ({ ...reportContent(entry, round, final?.status ?? record.status, entry.figures(round), this.deps.services, this.deps.clock.nowMs()), ...this.extras(entry, round) }),
      settled: (outcome) => this.settled(entry, round, outcome, final),
    });
  }

  /** The round's percentile distribution, and the service's earlier rounds (a few) for their capacity beside this one's. */
  private extras(entry: TaskEntry, round: RoundRecord): Pick<ReportData, 'RTPercentiles' | 'ServiceHistory'> {
    const earlier = serviceHistory(this.deps.book.all(), entry.record.serviceName)
      .filter((r) => !(r.TaskName === entry.taskName && r.RoundId === round.roundId))
      .slice(0, REPORT_HISTORY_ROUNDS);
    return { RTPercentiles: entry.percentiles(round), ...(earlier.length > 0 ? { ServiceHistory: earlier } : {}) };
  }

  /** The task's data dir takes writes again: a report that waited for it is written now. */
  resume(entry: TaskEntry): void {
    entry.pendingReport = this.publisher.resume(entry.taskName) ?? entry.pendingReport;
  }

  /** The task is being deleted: a report that waits for the disk is dropped. */
  forget(entry: TaskEntry): void {
    this.publisher.forget(entry.taskName);
  }

  /** Resolves when every report being written now is settled. */
  idle(): Promise<void> {
    return this.publisher.idle();
  }

  private settled(entry: TaskEntry, round: RoundRecord, outcome: ReportOutcome, final?: FinalStatus): void {
    if (outcome.published) {
      round.reportUrl = outcome.published.reportUrl;
      round.reportJsonUrl = outcome.published.jsonUrl;
      round.reportKeys = outcome.published.keys;
    }
    if (outcome.warning) round.message = `${round.message ?? ''}; ${outcome.warning}`;
    entry.pendingReport = undefined;
    const base = final?.message ?? entry.record.message;
    const message = outcome.warning ? `${base}; ${outcome.warning}` : base;
    if (final) {
      this.deps.book.setStatus(entry, final.status, message);
      return;
    }
    entry.record.message = message;
    this.deps.book.save(entry);
    this.deps.book.notify(entry.taskName);
  }

  /** A report the full data dir refused waits for it like the task's other writes. */
  private waitsForDisk(taskName: string, err: unknown): boolean {
    if (this.deps.store.heldError(taskName) !== undefined) return true;
    const code = errorCode(err);
    if (!isDiskFull(code)) return false;
    this.deps.store.holdAfterFailedWrite(taskName, code);
    return true;
  }
}

/** What a round's report shows: the task, the round, and its figures; `nowMs`: when it is generated. */
export function reportContent(entry: TaskEntry, round: RoundRecord, status: TaskStatus, figures: RoundFigures, services: ServiceRegistry, nowMs: number): ReportData {
  const { record } = entry;
  return {
    TaskName: record.taskName,
    TaskId: record.taskId,
    RoundId: round.roundId,
    ServiceName: record.serviceName,
    Region: record.region,
    Mode: modeName(record),
    Status: status,
    Message: redactText(round.message ?? record.message),
    StartTime: formatTime(round.startMs),
    EndTime: formatTime(round.endMs ?? nowMs),
    TargetUrl: safeTarget(services, record),
    Config: entry.shownConfig(),
    Result: figures.result,
    Capacity: round.capacity,
    Series: figures.series,
    Events: figures.events,
    ...(figures.llm ? { LLM: figures.llm } : {}),
    ...(round.verdict ? { Verdict: round.verdict } : {}),
    GeneratedAt: formatTime(nowMs),
  };
}

function safeTarget(services: ServiceRegistry, record: TaskRecord): string {
  try {
    return redactUrl(services.resolve(record.spec.service).url);
  } catch {
    return redactUrl(record.spec.service.url ?? record.spec.service.serviceName);
  }
}
