import { SingleBar } from 'cli-progress';
import { TaskDetail } from '../contract';
import { formatElapsed, formatMs, formatNumber, formatRate } from './format';

/**
 * What `--wait` shows while a round runs. On a terminal: one redrawn bar
 * (elapsed/duration, current QPS, TP99, error rate). Elsewhere (CI logs,
 * pipes) a redrawn bar is noise, so a plain status line every few seconds.
 */

export type ProgressFields = Pick<TaskDetail, 'Status' | 'ElapsedS' | 'DurationS' | 'CurrentQPS' | 'TP99' | 'ErrorRate'>;

export interface ProgressView {
  update(task: ProgressFields): void;
  /** Leaves the terminal clean for the lines that follow (summary, errors). */
  stop(): void;
}

function fields(task: ProgressFields): { clock: string; state: string; qps: string; tp99: string; errors: string } {
  return {
    clock: formatElapsed(task.ElapsedS ?? 0, task.DurationS ?? 0),
    state: task.Status,
    qps: task.CurrentQPS === undefined ? '-' : formatNumber(task.CurrentQPS, 1),
    tp99: task.TP99 === undefined ? '-' : formatMs(task.TP99),
    errors: task.ErrorRate === undefined ? '-' : formatRate(task.ErrorRate),
  };
}

/** `Running 75s/600s, QPS 1450.2, TP99 182.37 ms, error rate 0.02%`. */
export function progressLine(task: ProgressFields): string {
  const f = fields(task);
  return `${f.state} ${f.clock}, QPS ${f.qps}, TP99 ${f.tp99}, error rate ${f.errors}`;
}

class BarProgress implements ProgressView {
  private readonly bar: SingleBar;
  private started = false;

  constructor(stream: NodeJS.WritableStream) {
    this.bar = new SingleBar({
      stream,
      format: '{bar} {clock} | QPS {qps} | TP99 {tp99} | errors {errors} | {state}',
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
      // Redraw on our updates (once per poll), not on cli-progress's own timer.
      fps: 2,
    });
  }

  update(task: ProgressFields): void {
    const total = Math.max(1, Math.floor(task.DurationS ?? 0));
    const value = Math.min(total, Math.floor(task.ElapsedS ?? 0));
    if (!this.started) {
      this.bar.start(total, value, fields(task));
      this.started = true;
    } else {
      this.bar.setTotal(total);
      this.bar.update(value, fields(task));
    }
  }

  stop(): void {
    if (this.started) this.bar.stop();
    this.started = false;
  }
}

class LineProgress implements ProgressView {
  private lastPrintMs = -Infinity;

  constructor(
    private readonly print: (line: string) => void,
    private readonly everyMs: number,
    private readonly now: () => number,
  ) {}

  update(task: ProgressFields): void {
    const t = this.now();
    if (t - this.lastPrintMs < this.everyMs) return;
    this.lastPrintMs = t;
    this.print(progressLine(task));
  }

  stop(): void {
    /* nothing is drawn that needs clearing */
  }
}

export interface ProgressOptions {
  /** Draw a bar (stdout is a terminal) or print plain lines. */
  tty: boolean;
  stream: NodeJS.WritableStream;
  print: (line: string) => void;
  plainEveryMs: number;
  now?: () => number;
}

export function createProgress(options: ProgressOptions): ProgressView {
  if (options.tty) return new BarProgress(options.stream);
  return new LineProgress(options.print, options.plainEveryMs, options.now ?? Date.now);
}
