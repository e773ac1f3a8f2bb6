import type { AgentAssignment, AgentToController, LoadShape } from '../../src/contract';
import { ClosedLoop } from './closed-loop';
import { DoneCallback, HttpSender } from './http-client';
import { LlmAgentRunner } from './llm/runner';
import type { LoadContext, LoadDriver } from './load-driver';
import { OpenLoop } from './open-loop';
import { StatsRecorder } from './stats-recorder';

/** On stop, requests in flight get at most this long (and never more than their timeout) to finish. */
const STOP_GRACE_MS = 2000;

type State =
  /** No assignment yet. */
  | 'idle'
  /** Assigned with `waitForStart`: ready, sending nothing until `start`. */
  | 'ready'
  | 'running'
  /** Request limit reached: waiting for the requests in flight before the final frame. */
  | 'finishing'
  /** Request limit reached and reported; waiting for `stop` or a higher limit. */
  | 'limited'
  | 'stopping'
  | 'stopped';

/** The HTTP loads; `llm` loads are run by LlmAgentRunner. */
type HttpLoad = Exclude<LoadShape, { kind: 'llm' }>;

function createDriver(load: HttpLoad, context: LoadContext): LoadDriver {
  return load.kind === 'closed' ? new ClosedLoop(context, load) : new OpenLoop(context, load);
}

/** Idle connections worth keeping: one per worker, or per request the in-flight cap allows. */
/** Beyond this many connections, open-loop requests wait for a free one (their latency still counts). */
const OPEN_LOOP_MAX_CONNECTIONS = 512;

function connectionsFor(load: HttpLoad): number {
  // open loop: enough connections for the in-flight cap, but not a connection per request under overload
  return load.kind === 'closed' ? load.concurrency : Math.min(load.maxInFlight, OPEN_LOOP_MAX_CONNECTIONS);
}

/**
 * One agent's round: runs the assigned load, enforces the request limit,
 * applies load updates in place and ends with a `done` message. It talks to
 * the controller only through `output`.
 */
export class AgentRunner implements LoadContext {
  private state: State = 'idle';
  private assignment: AgentAssignment | null = null;
  private sender: HttpSender | null = null;
  private recorder: StatsRecorder | null = null;
  private driver: LoadDriver | null = null;
  private requestLimit: number | null = null;
  private totalSent = 0;
  /** Set when the assignment is an LLM task: everything is delegated to it. */
  private llm: LlmAgentRunner | null = null;
  /** Bumped whenever a wait for in-flight requests is superseded (resume, stop, new assignment). */
  private epoch = 0;

  constructor(
    private readonly output: (message: AgentToController) => void,
    private readonly log: (level: 'info' | 'warn' | 'error', message: string) => void,
  ) {}

  get status(): State {
    if (this.llm) {
      const s = this.llm.status;
      return s === 'loading' ? 'running' : s;
    }
    return this.state;
  }

  assign(assignment: AgentAssignment): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    if (this.llm) {
      this.log('warn', `new assignment for round ${assignment.roundId} replaces the LLM round`);
      void this.llm.shutdown();
      this.llm = null;
    }
    if (assignment.llm && assignment.load.kind === 'llm') {
      void this.teardown();
      this.state = 'running';
      this.llm = new LlmAgentRunner({ ...assignment, llm: assignment.llm }, this.output, this.log);
      void this.llm.prepare(assignment.waitForStart !== true);
      return;
    }
    if (assignment.load.kind === 'llm') {
      this.log('error', 'an llm load without llm work: ignored');
      return;
    }
    if (this.assignment) {
      // A new assignment replaces the old one at once: what was in flight is not reported.
      this.log('warn', `new assignment for round ${assignment.roundId} replaces round ${this.assignment.roundId}`);
      void this.teardown();
    }
    this.assignment = assignment;
    this.totalSent = 0;
    this.requestLimit = assignment.requestLimit;
    const recorder = new StatsRecorder(
      { inFlight: () => this.inFlight, totalSent: () => this.totalSent },
      (frame) => this.output({ type: 'stats', frame }),
    );
    this.recorder = recorder;
    this.sender = new HttpSender(assignment.request, assignment.startOffset, recorder);
    this.sender.setMaxIdleConnections(connectionsFor(assignment.load));
    this.output({ type: 'ready' });
    if (assignment.waitForStart) this.state = 'ready';
    else this.run(assignment.load);
  }

  /** The controller's `start`: every agent of the round begins now. */
  start(): void {
    if (this.llm) {
      this.llm.begin();
      return;
    }
    if (this.state !== 'ready' || !this.assignment || this.assignment.load.kind === 'llm') return;
    this.run(this.assignment.load);
  }

  /** A `load` message: new shape now; `requestLimit` only when given (null = unlimited). */
  applyLoad(load: LoadShape, requestLimit?: number | null): void {
    if (this.llm) {
      if (load.kind === 'llm') this.llm.applyLoad(load, requestLimit);
      return;
    }
    if (load.kind === 'llm') return;
    if (!this.assignment || this.state === 'stopping' || this.state === 'stopped') return;
    this.assignment = { ...this.assignment, load };
    if (requestLimit !== undefined) this.requestLimit = requestLimit;
    this.sender?.setMaxIdleConnections(connectionsFor(load));
    // not started yet: `start` runs the load as it is by then
    if (this.state === 'ready') return;
    if (this.limitReached()) {
      // Already over the (new) limit: stop sending and report, or stay done if already reported.
      if (this.state === 'running') this.reachLimit();
      return;
    }
    if (this.state === 'finishing' || this.state === 'limited') {
      this.run(load);
      return;
    }
    if (this.driver && this.driver.kind === load.kind) {
      this.driver.update(load);
      return;
    }
    this.driver?.stop();
    this.driver = createDriver(load, this);
    this.driver.start();
  }

  /**
   * Stops sending, gives the requests in flight a short grace, cancels the
   * rest without recording them, sends the frame of the partial second and
   * `done`. Every stop is answered by one `done`, so the controller can wait for it.
   */
  async stop(reason: string): Promise<void> {
    if (this.llm) {
      await this.llm.stop(reason);
      this.state = 'stopped';
      return;
    }
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.log('info', `stopping: ${reason}`);
    this.epoch++;
    this.state = 'stopping';
    this.driver?.stop();
    this.driver = null;
    const sender = this.sender;
    if (sender && this.assignment) {
      const left = await sender.waitIdle(Math.min(this.assignment.request.timeoutMs, STOP_GRACE_MS));
      if (left > 0) this.log('info', `cancelled ${left} request(s) still in flight at stop`);
      sender.cancelAll();
    }
    this.recorder?.flush();
    this.output({ type: 'done', reason: 'stopped', totalSent: this.totalSent });
    this.state = 'stopped';
    await sender?.close();
  }

  /** Ends everything at once, reporting nothing (the controller is gone). */
  async shutdown(): Promise<void> {
    this.state = 'stopped';
    await this.llm?.shutdown();
    await this.teardown();
  }

  // --- LoadContext: called by the drivers ----------------------------------------------------

  get inFlight(): number {
    return this.sender?.inFlight ?? 0;
  }

  trySend(originMs: number, nowMs: number, done: DoneCallback | null): boolean {
    if (this.state !== 'running' || !this.sender) return false;
    if (this.limitReached()) {
      this.reachLimit();
      return false;
    }
    this.totalSent++;
    this.sender.send(originMs, nowMs, done);
    // Finish as soon as the last allowed request is out rather than on the next attempt.
    if (this.limitReached()) this.reachLimit();
    return true;
  }

  dropped(nowMs: number): void {
    this.recorder?.dropped(nowMs);
  }

  sendLag(nowMs: number, lagUs: number): void {
    this.recorder?.sendLag(nowMs, lagUs);
  }

  // --- internals -----------------------------------------------------------------------------

  private limitReached(): boolean {
    return this.requestLimit !== null && this.totalSent >= this.requestLimit;
  }

  /** Starts (or resumes, after a raised limit) sending with `load`. */
  private run(load: HttpLoad): void {
    this.epoch++;
    this.state = 'running';
    this.recorder?.start();
    this.driver?.stop();
    this.driver = createDriver(load, this);
    if (this.limitReached()) {
      this.reachLimit();
      return;
    }
    this.driver.start();
  }

  /** The limit is reached: stop sending, let the last requests end (or time out), then report. */
  private reachLimit(): void {
    if (this.state !== 'running') return;
    this.state = 'finishing';
    const epoch = ++this.epoch;
    // The driver may be the caller (inside trySend): stop it once its current call has unwound.
    queueMicrotask(() => {
      if (this.epoch === epoch) this.driver?.stop();
    });
    const sender = this.sender;
    if (!sender || !this.assignment) return;
    // Requests in flight end by themselves within their timeout; the margin only guards against a lost callback.
    void sender.waitIdle(this.assignment.request.timeoutMs + 1000).then(() => {
      if (this.epoch !== epoch || this.state !== 'finishing') return;
      sender.cancelAll();
      this.recorder?.flush();
      this.state = 'limited';
      this.output({ type: 'done', reason: 'limit', totalSent: this.totalSent });
    });
  }

  private async teardown(): Promise<void> {
    this.epoch++;
    this.driver?.stop();
    this.driver = null;
    this.recorder?.stop();
    this.recorder = null;
    const sender = this.sender;
    this.sender = null;
    this.assignment = null;
    await sender?.close();
  }
}
