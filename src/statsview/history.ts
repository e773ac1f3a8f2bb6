import { StatsPoint, StatsStreamFrame, TaskDetail } from '../contract';
import { historyFrame } from './protocol';

/**
 * The round as the statsview knows it: the per-second series and the latest
 * task detail, kept in memory so a browser opened late gets everything.
 * `apply` returns the frame to relay to the browsers: the frame itself, or a
 * full history when the browsers must start over (a new round).
 */
export class StatsHistory {
  private task?: TaskDetail;
  private series: StatsPoint[] = [];

  get latest(): TaskDetail | undefined {
    return this.task;
  }

  get points(): number {
    return this.series.length;
  }

  apply(frame: StatsStreamFrame): StatsStreamFrame {
    const newRound = this.task !== undefined && frame.Task.RoundId !== this.task.RoundId;
    this.task = frame.Task;
    switch (frame.Type) {
      case 'history':
        // Sent on every (re)connect: it replaces what we had, never adds to it.
        this.series = frame.Series.slice();
        return frame;
      case 'second':
        if (newRound) this.series = [];
        // A second already known (a reconnect raced with a push) is not added twice.
        if (this.series.length === 0 || frame.Point.Time > this.series[this.series.length - 1].Time) this.series.push(frame.Point);
        return newRound ? historyFrame(frame.Task, this.series) : frame;
      case 'task':
        if (newRound) {
          this.series = [];
          return historyFrame(frame.Task, this.series);
        }
        return frame;
    }
  }

  /** The history frame for a browser that just connected; undefined before the first frame. */
  snapshot(): StatsStreamFrame | undefined {
    return this.task ? historyFrame(this.task, this.series) : undefined;
  }
}
