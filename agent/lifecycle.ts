import type { AgentToController, LoadShape } from '../src/contract';
import type { DoneCallback, LoadContext, LoadDriver, Sender, Workload } from './load-driver';
import { StatsRecorder } from './stats-recorder';

/** On stop, requests in flight get at most this long (and never more than their timeout) to finish. */
const STOP_GRACE_MS = 2000;
/** After the limit, requests in flight end by themselves within their timeout; this margin only guards against a lost callback. */
const LIMIT_WAIT_MARGIN_MS = 1000;

export type LifecycleState =
  /** The sender is getting ready (LLM: loading the tokenizer); `ready` is not reported yet. */
  | 'preparing'
  /** `ready` reported; waiting for the controller's `start`. */
  | 'ready'
  | 'running'
  /** Request limit reached: waiting for the requests in flight before the final frame. */
  | 'finishing'
  /** Request limit reached and reported; waiting for `stop` or a higher limit. */
  | 'limited'
  | 'stopping'
  | 'stopped';

/** The parts of an assignment the lifecycle needs, with its load already known to be of the workload's kind. */
export interface RoundSettings<Load extends LoadShape> {
  load: Load;
  /** Requests this agent may send in the whole round; null = unlimited. */
  requestLimit: number | null;
  timeoutMs: number;
  waitForStart: boolean;
  /** Where the schedule ends, ms after the start (null: no end); see AgentAssignment.scheduleEndMs. */
  scheduleEndMs?: number | null;
}

export type AgentLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/**
 * One agent's round, whatever it sends: prepare, report `ready`, wait for
 * `start` when asked to, run the load, apply load updates in place, enforce
 * the request limit, and end with one `done` (limit or stop). What differs
 * between HTTP and LLM loads is the workload's: its sender and drivers.
 * It talks to the controller only through `output`.
 */
export class AgentLifecycle<Load extends LoadShape> implements LoadContext {
  private current: LifecycleState = 'preparing';
  private load: Load;
  private requestLimit: number | null;
  private sentCount = 0;
  private startRequested: boolean;
  private driver: LoadDriver<Load> | null = null;
  private readonly timeoutMs: number;
  private readonly recorder: StatsRecorder;
  private readonly workload: Workload<Load>;
  private readonly sender: Sender;
  private idleWaiters: (() => void)[] = [];
  /** Bumped whenever a wait for in-flight requests is superseded (resume, stop, shutdown). */
  private epoch = 0;
  /**
   * performance.now() time at which the schedule ends: nothing scheduled at or
   * after it is sent. Before the start it is kept as a length (`pendingEndMs`),
   * counted from the start.
   */
  private endAtMs = Number.POSITIVE_INFINITY;
  private pendingEndMs: number | null;
  private endTimer: NodeJS.Timeout | null = null;

  constructor(
    round: RoundSettings<Load>,
    createWorkload: (recorder: StatsRecorder) => Workload<Load>,
    private readonly output: (message: AgentToController) => void,
    private readonly log: AgentLog,
  ) {
    this.load = round.load;
    this.requestLimit = round.requestLimit;
    this.timeoutMs = round.timeoutMs;
    this.startRequested = !round.waitForStart;
    this.pendingEndMs = round.scheduleEndMs ?? null;
    this.recorder = new StatsRecorder(
      { inFlight: () => this.inFlight, totalSent: () => this.sentCount, takeConnectionWaitMaxMs: () => this.sender.takeConnectionWaitMaxMs?.() ?? 0 },
      (frame) => this.output({ type: 'stats', frame }),
    );
    this.workload = createWorkload(this.recorder);
    this.sender = this.workload.sender;
    this.sender.onIdle = () => this.notifyIdle();
    this.workload.fit(round.load);
  }

  get state(): LifecycleState {
    return this.current;
  }

  /** Readies the sender and reports `ready`; sends at once, or at `start` when the round waits for it. */
  async prepare(): Promise<void> {
    await this.sender.prepare();
    if (this.current !== 'preparing') return;
    this.current = 'ready';
    const connections = this.sender.openConnections;
    this.output(connections !== undefined ? { type: 'ready', connections } : { type: 'ready' });
    if (this.startRequested) this.run();
  }

  /** The controller's `start`: every agent of the round begins now (or once prepared). */
  start(): void {
    this.startRequested = true;
    if (this.current === 'ready') this.run();
  }

  /**
   * A `load` message: new shape now; `requestLimit` only when given (null =
   * unlimited); `scheduleEndMs` only when given, counted from now (from the
   * start if not started yet).
   */
  applyLoad(load: LoadShape, requestLimit?: number | null, scheduleEndMs?: number | null): void {
    if (!this.workload.accepts(load)) return;
    if (this.current === 'stopping' || this.current === 'stopped') return;
    this.load = load;
    if (requestLimit !== undefined) this.requestLimit = requestLimit;
    if (scheduleEndMs !== undefined) this.setScheduleEnd(scheduleEndMs);
    this.workload.fit(load);
    // not started yet: the load runs as it is by then
    if (this.current === 'preparing' || this.current === 'ready') return;
    if (this.limitReached()) {
      // Already over the (new) limit: stop sending and report, or stay done if already reported.
      if (this.current === 'running') this.reachLimit();
      return;
    }
    if (this.current !== 'running') {
      this.run();
      return;
    }
    if (this.driver?.update(load)) return;
    this.driver?.stop();
    this.driver = this.workload.createDriver(load, this);
    this.driver.start();
  }

  /**
   * Stops sending, gives the requests in flight a short grace, cancels the
   * rest without recording them, sends the frame of the partial second and
   * `done`. Every stop is answered by one `done`, so the controller can wait for it.
   */
  async stop(reason: string): Promise<void> {
    if (this.current === 'stopping' || this.current === 'stopped') return;
    this.log('info', `stopping: ${reason}`);
    this.epoch++;
    this.current = 'stopping';
    this.stopDriver();
    const left = await this.waitIdle(Math.min(this.timeoutMs, STOP_GRACE_MS));
    if (left > 0) this.log('info', `cancelled ${left} request(s) still in flight at stop`);
    this.sender.cancelAll();
    this.recorder.flush();
    this.output({ type: 'done', reason: 'stopped', totalSent: this.sentCount });
    this.current = 'stopped';
    await this.sender.close();
  }

  /** Ends everything at once, reporting nothing (the round was replaced, or the controller is gone). */
  async shutdown(): Promise<void> {
    this.epoch++;
    this.current = 'stopped';
    this.stopDriver();
    this.recorder.stop();
    await this.sender.close();
  }

  // --- LoadContext: called by the drivers ----------------------------------------------------

  get inFlight(): number {
    return this.sender.inFlight;
  }

  trySend(originMs: number, nowMs: number, done: DoneCallback | null, pick = -1): boolean {
    if (this.current !== 'running') return false;
    // the schedule's end is judged on the request's origin (its scheduled time in open loop), so R×D requests go out exactly
    if (this.requestLimitReached() || originMs >= this.endAtMs) {
      this.reachLimit();
      return false;
    }
    this.sentCount++;
    this.sender.send(originMs, nowMs, done, pick);
    // Finish as soon as the last allowed request is out rather than on the next attempt (the
    // schedule's end is not checked here: a late turn may still owe requests scheduled before it).
    if (this.requestLimitReached()) this.reachLimit();
    return true;
  }

  dropped(nowMs: number): void {
    this.recorder.dropped(nowMs);
  }

  sendLag(nowMs: number, lagUs: number): void {
    this.recorder.sendLag(nowMs, lagUs);
  }

  // --- internals -----------------------------------------------------------------------------

  /** The request limit is reached, or the schedule has ended. */
  private limitReached(): boolean {
    return this.requestLimitReached() || performance.now() >= this.endAtMs;
  }

  private requestLimitReached(): boolean {
    return this.requestLimit !== null && this.sentCount >= this.requestLimit;
  }

  /** Where the schedule ends, `lengthMs` from now (from the start when not started yet); null = no end. */
  private setScheduleEnd(lengthMs: number | null): void {
    if (this.current === 'preparing' || this.current === 'ready') {
      this.pendingEndMs = lengthMs;
      return;
    }
    this.armEnd(lengthMs === null ? Number.POSITIVE_INFINITY : performance.now() + lengthMs);
  }

  /** A timer ends the round at its end even when nothing is due then (a low rate, closed-loop workers waiting). */
  private armEnd(endAtMs: number): void {
    this.endAtMs = endAtMs;
    if (this.endTimer) clearTimeout(this.endTimer);
    this.endTimer = null;
    if (!Number.isFinite(endAtMs)) return;
    this.endTimer = setTimeout(() => {
      this.endTimer = null;
      if (this.current !== 'running') return;
      // what was due before the end still goes out; the driver is refused at the first request past it
      this.driver?.sendDue?.();
      if (this.current === 'running') this.reachLimit();
    }, Math.max(0, endAtMs - performance.now()) + 1);
  }

  /** Starts (or resumes, after a raised limit) sending with the current load; what is in flight carries on. */
  private run(): void {
    this.epoch++;
    const first = this.current === 'ready';
    this.current = 'running';
    if (first && this.pendingEndMs !== null) this.armEnd(performance.now() + this.pendingEndMs);
    this.recorder.start();
    this.stopDriver();
    if (this.limitReached()) {
      this.reachLimit();
      return;
    }
    this.driver = this.workload.createDriver(this.load, this);
    this.driver.start();
  }

  /** The limit is reached: stop sending, let the last requests end (or time out), then report. */
  private reachLimit(): void {
    if (this.current !== 'running') return;
    this.current = 'finishing';
    const epoch = ++this.epoch;
    // The driver may be the caller (inside trySend): stop it once its current call has unwound.
    queueMicrotask(() => {
      if (this.epoch === epoch) this.stopDriver();
    });
    void this.waitIdle(this.timeoutMs + LIMIT_WAIT_MARGIN_MS).then(() => {
      if (this.epoch !== epoch || this.current !== 'finishing') return;
      this.sender.cancelAll();
      this.recorder.flush();
      this.current = 'limited';
      this.output({ type: 'done', reason: 'limit', totalSent: this.sentCount });
    });
  }

  private stopDriver(): void {
    this.driver?.stop();
    this.driver = null;
    if (this.current === 'stopping' || this.current === 'stopped') this.clearEnd();
  }

  private clearEnd(): void {
    if (this.endTimer) clearTimeout(this.endTimer);
    this.endTimer = null;
  }

  /** Resolves when nothing is in flight, or after `graceMs`; returns how many were still in flight. */
  private waitIdle(graceMs: number): Promise<number> {
    if (this.sender.inFlight === 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== onIdle);
        resolve(this.sender.inFlight);
      }, graceMs);
      const onIdle = (): void => {
        clearTimeout(timer);
        resolve(0);
      };
      this.idleWaiters.push(onIdle);
    });
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
