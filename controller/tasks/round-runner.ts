import {
  AgentStatsFrame,
  Clock,
  ClockTimer,
  EndReason,
  LlmRequestRecord,
  LlmResult,
  LlmSpec,
  LlmWork,
  ParsedThreshold,
  RequestTemplate,
  ResolvedOptional,
  RoundResult,
  Step,
  systemClock,
  TaskEvent,
  TaskEventKind,
} from '../../src/contract';
import { AgentOwner } from '../fleet/hub';
import { AgentLauncher } from '../fleet/launcher';
import { AgentPool, MAX_REFUSED_REPLACEMENTS, PoolSeat } from '../fleet/pool';
import { StoredSecond } from '../metrics/aggregate';
import { describeThreshold } from '../metrics/thresholds';
import { ModeDriver } from '../modes/base';
import { createMode } from '../modes';
import type { ReplayPlan } from '../data/replay';
import { ShareWatch } from '../modes/shares';
import { AgentEventQuota } from './agent-event-quota';
import { LoadSplit } from './load-split';
import { newEvent } from './naming';
import { RoundSeconds } from './round-seconds';
import { RoundEndInfo, RoundPhase, RoundSnapshot } from './round-snapshot';
import { ROUND_TIMING, RoundTiming } from './round-timing';

export type { RoundEndInfo, RoundPhase, RoundSnapshot } from './round-snapshot';

export interface RoundHooks {
  /** The round's status line changed (agents connected, running, stopping). */
  onChange(): void;
  onSecond(stored: StoredSecond): void;
  /** LLM tasks: per-request records of a second being finalized (to persist them). */
  onLlmRecords?(records: LlmRequestRecord[]): void;
  onEvent(event: TaskEvent): void;
  /** Called once when the round has stopped its agents and finalized its data. */
  onFinished(info: RoundEndInfo): void;
}

export interface RoundDeps {
  taskName: string;
  taskId: string;
  roundId: number;
  agentToken: string;
  optional: ResolvedOptional;
  request: RequestTemplate;
  launcher: AgentLauncher;
  controllerWsUrl: string;
  connectTimeoutS: number;
  maxAgents: number;
  /** Most QPS of one agent's share (--max-agent-qps). */
  maxAgentQps: number;
  /** Of `wanted` agents, how many the controller-wide pool grants this round (all when absent). */
  grantAgents?: (wanted: number) => number;
  hooks: RoundHooks;
  /** An LLM task: its section and what the agents send; requestCount: a trace's records (PreparedRound). */
  llm?: { spec: LlmSpec; work: LlmWork; requestCount?: number };
  /** A replay task: its log laid out (prepare.ts). */
  replay?: ReplayPlan;
  /** The task's thresholds, judged after every finalized second. */
  thresholds?: readonly ParsedThreshold[];
  /** The round's clock: its timers, the agents' frames checked against it, the modes' now (systemClock when absent). */
  clock?: Clock;
  /** The times it waits, where a test sets them (ROUND_TIMING when absent). */
  timing?: Partial<RoundTiming>;
}

/** How often the runner finalizes due seconds and checks the duration's end. */
const TICK_MS = 250;

/**
 * Runs one round of a task: asks its agent pool for the agents the mode
 * wants, has them sent their loads (LoadSplit), hands their per-second
 * frames to the per-second pipeline (RoundSeconds), ends the round on
 * duration, requestCount, a threshold or stop, and tells the task through
 * its hooks. Every time it reads or waits is on its clock.
 */
export class RoundRunner {
  private readonly mode: ModeDriver;
  private readonly pool: AgentPool;
  private readonly events: TaskEvent[] = [];
  private readonly seconds: RoundSeconds;
  private readonly split: LoadSplit;
  private readonly quota: AgentEventQuota;
  private readonly clock: Clock;
  private readonly timing: RoundTiming;
  private phase: RoundPhase = 'starting';
  private message = 'Starting agents';
  private shownOutcome?: string;
  private runningSinceMs?: number;
  private stopRequestedMs?: number;
  /** Set when the round ends by its duration: the load ran exactly that long, whenever the stop comes. */
  private loadEndMs?: number;
  private optional: ResolvedOptional;
  private tick?: ClockTimer;
  private connectTimer?: ClockTimer;
  private endInfo?: RoundEndInfo;
  private stopWaiters: (() => void)[] = [];

  constructor(private readonly deps: RoundDeps) {
    this.optional = this.withPreparedCount(deps.optional);
    const clock = (this.clock = deps.clock ?? systemClock);
    this.timing = { ...ROUND_TIMING, ...deps.timing };
    this.quota = new AgentEventQuota(clock, (kind, message) => this.event(kind, message));
    const shares = new ShareWatch(deps.maxAgentQps, (message) => this.event('info', message));
    this.mode = createMode(
      deps.optional,
      {
        event: (kind, message, step) => this.event(kind, message, step),
        timeoutMs: deps.request.timeoutMs,
        maxAgents: deps.maxAgents,
        maxAgentQps: deps.maxAgentQps,
        nowS: () => clock.nowMs() / 1000,
        runningSinceMs: () => this.runningSinceMs,
        end: (reason, endReason = 'faultAction') => void this.stop(reason, endReason),
      },
      deps.llm?.spec,
      deps.replay,
    );
    this.pool = this.createPool();
    this.seconds = new RoundSeconds({
      clock,
      startMs: clock.nowMs(),
      finalizeGraceS: this.timing.finalizeGraceS,
      llm: deps.llm ? { spec: deps.llm.spec, driftMinRunS: this.timing.driftMinRunS } : undefined,
      thresholds: deps.thresholds ?? [],
      modeSections: () => this.mode.llmSections?.(),
      contextOf: (second) => {
        const startS = this.runningSinceMs !== undefined ? Math.floor(this.runningSinceMs / 1000) : second;
        return {
          elapsed: Math.max(0, second - startS),
          targetQps: this.mode.targetQpsDuring ? this.mode.targetQpsDuring(second) : this.mode.targetQps(),
          concurrency: this.mode.concurrency(),
          agentsDesired: this.desiredAgents(),
          agentsAvailable: this.pool.availableDuring(second),
        };
      },
      onRecords: deps.hooks.onLlmRecords && ((records) => deps.hooks.onLlmRecords?.(records)),
      onSecond: (stored, finalized) => {
        this.deps.hooks.onSecond(stored);
        if (this.phase === 'running' && this.mode.onSecond(finalized)) {
          this.pool.reconcile();
          this.split.sendLoads();
        }
        this.showOutcome();
      },
    });
    this.split = new LoadSplit({
      taskId: deps.taskId,
      roundId: deps.roundId,
      request: deps.request,
      llmWork: deps.llm?.work,
      maxAgents: deps.maxAgents,
      clock,
      mode: this.mode,
      pool: this.pool,
      shares,
      desiredAgents: () => this.desiredAgents(),
      optional: () => this.optional,
      starting: () => this.phase === 'starting',
      runningSinceMs: () => this.runningSinceMs,
    });
  }

  private createPool(): AgentPool {
    const { deps } = this;
    return new AgentPool({
      launcher: deps.launcher,
      controllerWsUrl: deps.controllerWsUrl,
      agentToken: deps.agentToken,
      taskName: deps.taskName,
      roundId: deps.roundId,
      clock: this.clock,
      replaceDelayMs: this.timing.replaceDelayMs,
      wanted: () => this.desiredAgents(),
      events: {
        added: (seat) => this.onAgentAdded(seat),
        ready: (seat, connections) => {
          if (connections !== undefined) this.event('info', `agent ${seat.index + 1} ready with ${connections} connection(s) opened ahead of the schedule`);
          // the round starts once every desired agent is ready, so their shares begin together; seats no
          // host can run yet (a pool with too few idle agents) are not waited for: they join when one comes
          const ready = this.pool.readyCount();
          if (this.phase === 'starting' && ready > 0 && ready >= this.desiredAgents() - this.pool.waitingForHost()) this.enterRunning();
        },
        stats: (seat, frame, dropped) => {
          if (dropped) this.quota.event(seat, 'error', `${dropped.count} LLM record(s) of second ${frame.second} left out: ${dropped.reason}`);
          return this.onFrame(seat, frame);
        },
        refused: (seat, reason, closed) =>
          this.quota.event(seat, 'error', closed ? `refused: ${reason}; socket closed` : `frame refused (its second is lost, the agent's others count): ${reason}`),
        done: () => {
          this.checkRequestCount();
          this.checkDurationEnd();
        },
        log: (seat, level, message) => {
          if (level !== 'info') this.quota.event(seat, level === 'error' ? 'error' : 'info', message);
        },
        retired: (seat, why) => this.event('info', `agent ${seat.index + 1} retired: ${why}`),
        lost: (seat, why, replaced) => {
          const seatLeft = replaced ? '' : `; its seat stays empty: ${MAX_REFUSED_REPLACEMENTS} refused agents of this round were replaced already`;
          this.event('agent-lost', `agent ${seat.index + 1} lost (${why})${seatLeft}; ${this.agentsLine()}`);
          this.deps.hooks.onChange();
        },
        refilled: () => this.split.sendLoads(),
        settled: () => this.checkAllStopped(),
        failed: (message) => {
          this.event('error', message);
          void this.stop(message, 'error', true);
        },
      },
    });
  }

  // ------------------------------------------------------------------ life

  start(): void {
    this.event('status', `round ${this.deps.roundId} starting: ${this.mode.describeTarget()}`);
    this.pool.reconcile();
    this.connectTimer = this.clock.setTimeout(() => {
      if (this.phase !== 'starting') return;
      if (this.availableAgents() > 0) this.enterRunning();
      else this.end({ reason: `no agent connected within ${this.deps.connectTimeoutS} s`, endReason: 'error', failed: true });
    }, this.deps.connectTimeoutS * 1000);
    this.tick = this.clock.setInterval(() => this.onTick(), TICK_MS);
  }

  desiredAgents(): number {
    const wanted = Math.min(this.mode.desiredAgents(), this.deps.maxAgents);
    return this.deps.grantAgents ? this.deps.grantAgents(wanted) : wanted;
  }

  availableAgents(): number {
    return this.pool.available();
  }

  /** The agent hub's way in: the pool seats this round's agents. */
  get agentOwner(): AgentOwner {
    return this.pool;
  }

  /** Whether `token` is the own secret of one of this round's launched agents. */
  holdsAgentSecret(token: string): boolean {
    return this.pool.holdsSecret(token);
  }

  /** Seconds the load has run (until the stop, once stopping): the divisor of the round's QPS. */
  loadDurationS(): number | undefined {
    if (this.runningSinceMs === undefined) return undefined;
    return ((this.loadEndMs ?? this.stopRequestedMs ?? this.clock.nowMs()) - this.runningSinceMs) / 1000;
  }

  elapsedS(): number {
    return this.runningSinceMs === undefined ? 0 : Math.max(0, (this.clock.nowMs() - this.runningSinceMs) / 1000);
  }

  snapshot(): RoundSnapshot {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getters below read the runner when asked
    const runner = this;
    return {
      roundId: this.deps.roundId,
      phase: this.phase,
      message: this.message,
      desiredAgents: this.desiredAgents(),
      availableAgents: this.availableAgents(),
      agents: this.pool.agents(),
      target: this.mode.describeTarget(),
      capacity: this.mode.capacity(),
      thresholds: this.seconds.thresholds,
      liveOutcome: this.mode.outcome?.(),
      outcome: this.mode.finalOutcome?.(),
      events: this.events,
      series: this.seconds.series,
      runningSinceMs: this.runningSinceMs,
      stopRequestedMs: this.stopRequestedMs,
      elapsedS: this.elapsedS(),
      loadDurationS: this.loadDurationS(),
      // computed when read: most readers want one or two fields, and these are not free
      get steps(): readonly Step[] {
        return runner.events.flatMap((e) => (e.Step ? [e.Step] : []));
      },
      get result(): RoundResult {
        const result = runner.seconds.result(runner.loadDurationS());
        const thresholds = runner.seconds.thresholds;
        return thresholds.length > 0 ? { ...result, Thresholds: thresholds } : result;
      },
      get llm(): LlmResult | undefined {
        return runner.llmResult();
      },
    };
  }

  /** A trace's records are the round's requestCount whatever the task says (the task has none: the trace gives them). */
  private withPreparedCount(optional: ResolvedOptional): ResolvedOptional {
    const count = this.deps.llm?.requestCount;
    return count !== undefined ? { ...optional, requestCount: count } : optional;
  }

  /** The LLM section of the round so far, with the run modes' sections. */
  llmResult(): LlmResult | undefined {
    return this.seconds.llmResult();
  }

  /** A live change of optional.*: the mode decides what it means. */
  update(optional: ResolvedOptional): void {
    const durationChanged = optional.durationS !== this.optional.durationS;
    this.optional = this.withPreparedCount(optional);
    const reload = this.mode.update(optional);
    this.pool.reconcile();
    if (reload || durationChanged) this.split.sendLoads(durationChanged);
    // new limits may have re-opened a held search: the Message no longer holds
    this.showOutcome();
    this.deps.hooks.onChange();
  }

  /** Stops the round (user stop, shutdown, or its own end). Resolves when its data is final. */
  stop(reason: string, endReason: EndReason, failed = false): Promise<void> {
    if (this.phase === 'finished') return Promise.resolve();
    const done = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    if (this.phase === 'stopping') return done;
    this.endInfo = { reason, endReason, failed };
    this.stopRequestedMs = this.clock.nowMs();
    this.phase = 'stopping';
    this.message = 'Benchmark task is stopping';
    this.event('status', `stopping: ${reason}`);
    this.pool.stop(reason);
    this.deps.hooks.onChange();
    this.clock.setTimeout(() => this.end(this.endInfo ?? { reason, endReason, failed }), this.timing.stopWaitMs).unref();
    this.checkAllStopped();
    return done;
  }

  /**
   * Every round ends here, once: after its agents stopped, at the stop
   * deadline, or when none connected in time. Finalizes the seconds still
   * pending, closes the agents' sockets and ends their processes.
   */
  private end(info: RoundEndInfo): void {
    if (this.phase === 'finished') return;
    this.phase = 'finished';
    this.endInfo = info;
    this.clock.clearInterval(this.tick);
    this.clock.clearTimeout(this.connectTimer);
    this.finalizeThrough(Number.MAX_SAFE_INTEGER);
    this.mode.roundEnded?.();
    this.quota.close();
    this.pool.shutdown();
    this.message = info.reason;
    this.deps.hooks.onFinished(info);
    for (const resolve of this.stopWaiters.splice(0)) resolve();
  }

  private checkAllStopped(): void {
    if (this.phase === 'stopping' && this.pool.isSettled()) this.end(this.endInfo ?? { reason: 'stopped', endReason: 'stopped', failed: false });
  }

  private enterRunning(): void {
    this.phase = 'running';
    this.runningSinceMs = this.clock.nowMs();
    for (const seat of this.pool.live()) seat.send({ type: 'start' });
    this.message = 'Benchmark task is running';
    this.event('status', `running with ${this.availableAgents()}/${this.desiredAgents()} agents: ${this.mode.describeTarget()}`);
    this.deps.hooks.onChange();
  }

  private checkRequestCount(): void {
    const total = this.optional.requestCount;
    if (total === null || this.phase !== 'running') return;
    const allDone = this.pool.live().every((s) => s.done);
    if (this.pool.sentByAll() >= total && allDone) void this.stop(`requestCount of ${total} reached`, 'requestCount');
  }

  /** At the duration the agents end their schedules by themselves: stop once all said `done`, or after a grace. */
  private checkDurationEnd(): void {
    if (this.phase !== 'running' || this.runningSinceMs === undefined) return;
    const elapsedS = this.elapsedS();
    if (elapsedS < this.optional.durationS) return;
    const allDone = this.pool.live().every((s) => s.done);
    if (!allDone && elapsedS < this.optional.durationS + this.timing.durationEndGraceS) return;
    this.loadEndMs = this.runningSinceMs + this.optional.durationS * 1000;
    void this.stop(`duration of ${this.optional.durationS} s reached`, 'duration');
  }

  // ---------------------------------------------------------------- agents

  private agentsLine(): string {
    return `${this.availableAgents()}/${this.desiredAgents()} agents available`;
  }

  private onAgentAdded(seat: PoolSeat): void {
    seat.send({ type: 'assign', assignment: this.split.assignmentFor(seat) });
    const wasRunning = this.phase === 'running';
    this.event(wasRunning ? 'agent-added' : 'info', `agent ${seat.index + 1} connected (pid ${seat.pid} on ${seat.host}); ${this.agentsLine()}`);
    this.split.sendLoads();
    if (this.phase === 'starting') this.message = `Agent ${this.availableAgents()}/${this.desiredAgents()} connected`;
    this.deps.hooks.onChange();
  }

  /** Tells the task when what the mode found so far changed (a rate is held, or the search re-opened): its Message says it. */
  private showOutcome(): void {
    const outcome = this.mode.outcome?.();
    if (outcome === this.shownOutcome) return;
    this.shownOutcome = outcome;
    this.deps.hooks.onChange();
  }

  // --------------------------------------------------------------- seconds

  /** Whether the frame was taken (false: refused, and said in an event). */
  private onFrame(seat: PoolSeat, frame: AgentStatsFrame): boolean {
    const refused = this.seconds.admit(seat, frame);
    if (refused) this.quota.event(seat, 'error', `frame of second ${frame.second} refused (its second is lost, the agent's others count): ${refused.message}`);
    return refused === undefined;
  }

  private onTick(): void {
    if (this.seconds.finalizeDue(this.pool.reporting())) this.judgeThresholds();
    this.checkDurationEnd();
  }

  private finalizeThrough(lastSecond: number): void {
    if (this.seconds.finalizeThrough(lastSecond)) this.judgeThresholds();
  }

  /** A failed abortOnFail threshold ends a running round once its delayAbortEvalS has passed. */
  private judgeThresholds(): void {
    const elapsedS = this.elapsedS();
    const broken = this.seconds.judgeThresholds(this.loadDurationS(), elapsedS);
    if (!broken || this.phase !== 'running') return;
    const why = `threshold ${describeThreshold(broken)} after ${Math.floor(elapsedS)} s (abortOnFail)`;
    this.event('status', why);
    void this.stop(why, 'threshold');
  }

  // ---------------------------------------------------------------- events

  /** An event of the round (the mode's, the fleet's, or the task's own while this round runs): kept, stored and announced through the hooks. */
  event(kind: TaskEventKind, message: string, step?: Step): void {
    const event = newEvent(kind, message, step, this.clock.nowMs());
    this.events.push(event);
    this.deps.hooks.onEvent(event);
  }
}
