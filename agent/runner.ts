import type { AgentAssignment, AgentToController, LoadShape } from '../src/contract';
import { HttpWorkload } from './http-workload';
import { AgentLifecycle, AgentLog, LifecycleState } from './lifecycle';
import { LlmWorkload } from './llm/workload';

/**
 * The agent's rounds, one at a time: each assignment gets its own lifecycle
 * with the workload of its kind; a new assignment replaces the current one
 * at once, and after `stop` nothing more is taken.
 */
export class AgentRunner {
  private round: AgentLifecycle<LoadShape> | null = null;
  private roundId = 0;
  private stopped = false;

  constructor(
    private readonly output: (message: AgentToController) => void,
    private readonly log: AgentLog,
  ) {}

  get status(): 'idle' | LifecycleState {
    return this.round?.state ?? (this.stopped ? 'stopped' : 'idle');
  }

  assign(assignment: AgentAssignment): void {
    if (this.stopped) return;
    const round = this.createRound(assignment);
    if (!round) return;
    if (this.round) {
      // A new assignment replaces the old one at once: what was in flight is not reported.
      this.log('warn', `new assignment for round ${assignment.roundId} replaces round ${this.roundId}`);
      void this.round.shutdown();
    }
    this.round = round;
    this.roundId = assignment.roundId;
    void round.prepare();
  }

  /** The controller's `start`: every agent of the round begins now. */
  start(): void {
    this.round?.start();
  }

  /** A `load` message: new shape now; `requestLimit` only when given (null = unlimited). */
  applyLoad(load: LoadShape, requestLimit?: number | null, scheduleEndMs?: number | null): void {
    this.round?.applyLoad(load, requestLimit, scheduleEndMs);
  }

  /** Ends the round with one `done`, even when there is none, so the controller can wait for it. */
  async stop(reason: string): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.round) {
      await this.round.stop(reason);
      return;
    }
    this.log('info', `stopping: ${reason}`);
    this.output({ type: 'done', reason: 'stopped', totalSent: 0 });
  }

  /** Ends everything at once, reporting nothing (the controller is gone). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    await this.round?.shutdown();
  }

  /** The one place that tells the kinds of load apart. */
  private createRound(assignment: AgentAssignment): AgentLifecycle<LoadShape> | null {
    const settings = { requestLimit: assignment.requestLimit, timeoutMs: assignment.request.timeoutMs, waitForStart: assignment.waitForStart === true, scheduleEndMs: assignment.scheduleEndMs ?? null };
    const { load, llm } = assignment;
    if (load.kind !== 'llm') {
      return new AgentLifecycle({ ...settings, load }, (recorder) => new HttpWorkload(assignment.request, assignment.startOffset, recorder, this.log), this.output, this.log);
    }
    if (llm) return new AgentLifecycle({ ...settings, load }, (recorder) => new LlmWorkload(assignment, llm, recorder, this.log), this.output, this.log);
    this.log('error', 'an llm load without llm work: ignored');
    return null;
  }
}
