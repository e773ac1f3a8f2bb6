import {
  AgentAssignment,
  AgentStatsFrame,
  Capacity,
  EndReason,
  LlmRequestRecord,
  LlmResult,
  LlmSpec,
  LlmWork,
  LoadShape,
  ParsedThreshold,
  RequestTemplate,
  ResolvedOptional,
  RoundResult,
  StatsPoint,
  Step,
  TaskEvent,
  TaskEventKind,
  ThresholdResult,
} from '../../src/contract';
import { AgentOwner } from '../fleet/hub';
import { AgentLauncher } from '../fleet/launcher';
import { AgentInfo, AgentPool, MAX_REFUSED_REPLACEMENTS, PoolSeat } from '../fleet/pool';
import { RoundAccumulator, SecondAggregator, StoredSecond, toStoredSecond } from '../metrics/aggregate';
import { percentilesOf } from '../metrics/llm/result';
import { LlmRoundFigures } from '../metrics/llm/round';
import { stageHeldAt } from '../metrics/llm/stage';
import { describeThreshold, evaluateThresholds, ServiceSeconds } from '../metrics/thresholds';
import { ModeDriver } from '../modes/base';
import { createMode } from '../modes';
import { applyGeneratorGate } from '../modes/generator-gate';
import { ShareWatch } from '../modes/shares';
import { newEvent } from './naming';
import { llmModeAccumulator } from './llm-run-work';
import { FrameGate } from './frame-gate';
import { FrameRefused } from '../metrics/frame-histograms';
import { LlmModeAccumulator } from '../metrics/llm/modes';

export type RoundPhase = 'starting' | 'running' | 'stopping' | 'finished';

export interface RoundEndInfo {
  reason: string;
  /** Why, as one of the verdict's end reasons. */
  endReason: EndReason;
  /** True when the round ended by a failure rather than by its own end or a user stop. */
  failed: boolean;
}

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
  /** An LLM task: its section and what the agents send. */
  llm?: { spec: LlmSpec; work: LlmWork };
  /** The task's thresholds, judged after every finalized second. */
  thresholds?: readonly ParsedThreshold[];
  /** The clock the agents' frames are checked against (Date.now when absent). */
  nowMs?: () => number;
}

/** What a round shows of itself: read-only, taken at one moment. */
export interface RoundSnapshot {
  readonly roundId: number;
  readonly phase: RoundPhase;
  /** The round's status line: "Agent 1/2 connected", "Benchmark task is running", or why it ended. */
  readonly message: string;
  /** scan and auto while running: what they found so far (`holding 500 QPS: ...`), for the task's Message. */
  readonly liveOutcome?: string;
  /** scan and auto: the capacity found, or why there is none, for the Message of the finished round. */
  readonly outcome?: string;
  readonly desiredAgents: number;
  readonly availableAgents: number;
  readonly agents: readonly AgentInfo[];
  /** The mode's target in one line: "2 agents x 8 workers", "1450 QPS". */
  readonly target: string;
  /** What scan or auto found the service can take, once it is known. */
  readonly capacity?: Capacity;
  /** The task's thresholds as judged after the last finalized second (empty without thresholds). */
  readonly thresholds: readonly ThresholdResult[];
  /** The steps scan or auto judged so far. */
  readonly steps: readonly Step[];
  readonly events: readonly TaskEvent[];
  /** The finalized seconds, oldest first. */
  readonly series: readonly StatsPoint[];
  readonly result: RoundResult;
  readonly llm?: LlmResult;
  readonly runningSinceMs?: number;
  /** When the agents were told to stop. */
  readonly stopRequestedMs?: number;
  readonly elapsedS: number;
  /** Seconds the load has run (until the stop, once stopping): the divisor of the round's QPS. */
  readonly loadDurationS?: number;
}

/** Seconds a second waits for late agents before it is finalized without them. */
const FINALIZE_GRACE_S = 2;
/** After a stop, agents get this long to send their last frame and `done`. */
const STOP_WAIT_MS = 6000;
/**
 * Agents end their schedule at the round's duration by themselves and say
 * `done`; the round stops once all have, or this long after the duration
 * (agents that do not end by themselves are then stopped as before).
 */
const DURATION_END_GRACE_S = 2;
/**
 * Events about one agent's refused frames or its log lines: at most this
 * many a window, then one line saying how many more there were, so an agent
 * that sends refused frames or logs by the thousand cannot grow the task's
 * events without bound.
 */
const AGENT_EVENTS_PER_WINDOW = 5;
const AGENT_EVENT_WINDOW_MS = 10_000;

/**
 * Runs one round of a task: asks its agent pool for the agents the mode
 * wants, sends them their loads, merges their per-second frames, ends the
 * round on duration, requestCount or stop, and hands the finalized seconds to
 * the task.
 */
export class RoundRunner {
  private readonly mode: ModeDriver;
  private readonly pool: AgentPool;
  private readonly series: StatsPoint[] = [];
  private readonly events: TaskEvent[] = [];
  private readonly accumulator = new RoundAccumulator();
  /** The seconds that passed the validity gate: what latency thresholds are judged on. */
  private readonly serviceSeconds = new ServiceSeconds();
  private thresholdResults: ThresholdResult[] = [];
  /** LLM tasks: the round's LLM figures, from its finalized seconds (the records go to disk, not here). */
  private readonly llmFigures?: LlmRoundFigures;
  /** The run modes' sections (drift, retries, token-sweep, ...), fed every record as its second is finalized. */
  private readonly llmModes: LlmModeAccumulator | null;
  private phase: RoundPhase = 'starting';
  private message = 'Starting agents';
  private shownOutcome?: string;
  private runningSinceMs?: number;
  private stopRequestedMs?: number;
  /** Set when the round ends by its duration: the load ran exactly that long, whenever the stop comes. */
  private loadEndMs?: number;
  private optional: ResolvedOptional;
  private readonly aggregator: SecondAggregator;
  private lastFinalized = 0;
  /** The last second each agent reported, by agent id. */
  private readonly lastSecondOf = new Map<string, number>();
  private tick?: NodeJS.Timeout;
  private connectTimer?: NodeJS.Timeout;
  private endInfo?: RoundEndInfo;
  private stopWaiters: (() => void)[] = [];
  private readonly shares: ShareWatch;
  private readonly nowMs: () => number;
  private readonly gate: FrameGate;
  /** Per agent id: its events of the current window, and those left out. */
  private readonly agentEvents = new Map<string, { windowStartMs: number; shown: number; leftOut: number }>();

  constructor(private readonly deps: RoundDeps) {
    this.optional = deps.optional;
    this.nowMs = deps.nowMs ?? Date.now;
    this.gate = new FrameGate(this.nowMs, this.nowMs());
    this.llmModes = deps.llm ? llmModeAccumulator(deps.llm.spec) : null;
    this.aggregator = new SecondAggregator(deps.llm?.spec.slo);
    if (deps.llm) this.llmFigures = new LlmRoundFigures(percentilesOf(deps.llm.spec), deps.llm.spec.slo, stageHeldAt(deps.llm.spec));
    this.shares = new ShareWatch(deps.maxAgentQps, (message) => this.event('info', message));
    this.mode = createMode(
      deps.optional,
      {
        event: (kind, message, step) => this.event(kind, message, step),
        timeoutMs: deps.request.timeoutMs,
        maxAgents: deps.maxAgents,
        maxAgentQps: deps.maxAgentQps,
        nowS: () => Date.now() / 1000,
        runningSinceMs: () => this.runningSinceMs,
        end: (reason) => void this.stop(reason, 'faultAction'),
      },
      deps.llm?.spec,
    );
    this.pool = new AgentPool({
      launcher: deps.launcher,
      controllerWsUrl: deps.controllerWsUrl,
      agentToken: deps.agentToken,
      taskName: deps.taskName,
      roundId: deps.roundId,
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
          if (dropped) this.agentEvent(seat, 'error', `${dropped.count} LLM record(s) of second ${frame.second} left out: ${dropped.reason}`);
          return this.onFrame(seat, frame);
        },
        refused: (seat, reason, closed) =>
          this.agentEvent(seat, 'error', closed ? `refused: ${reason}; socket closed` : `frame refused (its second is lost, the agent's others count): ${reason}`),
        done: () => {
          this.checkRequestCount();
          this.checkDurationEnd();
        },
        log: (seat, level, message) => {
          if (level !== 'info') this.agentEvent(seat, level === 'error' ? 'error' : 'info', message);
        },
        retired: (seat, why) => this.event('info', `agent ${seat.index + 1} retired: ${why}`),
        lost: (seat, why, replaced) => {
          const seatLeft = replaced ? '' : `; its seat stays empty: ${MAX_REFUSED_REPLACEMENTS} refused agents of this round were replaced already`;
          this.event('agent-lost', `agent ${seat.index + 1} lost (${why})${seatLeft}; ${this.agentsLine()}`);
          this.deps.hooks.onChange();
        },
        refilled: () => this.sendLoads(),
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
    this.connectTimer = setTimeout(() => {
      if (this.phase !== 'starting') return;
      if (this.availableAgents() > 0) this.enterRunning();
      else this.end({ reason: `no agent connected within ${this.deps.connectTimeoutS} s`, endReason: 'error', failed: true });
    }, this.deps.connectTimeoutS * 1000);
    this.tick = setInterval(() => this.onTick(), 250);
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
    return ((this.loadEndMs ?? this.stopRequestedMs ?? Date.now()) - this.runningSinceMs) / 1000;
  }

  elapsedS(): number {
    return this.runningSinceMs === undefined ? 0 : Math.max(0, (Date.now() - this.runningSinceMs) / 1000);
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
      thresholds: this.thresholdResults,
      liveOutcome: this.mode.outcome?.(),
      outcome: this.mode.finalOutcome?.(),
      events: this.events,
      series: this.series,
      runningSinceMs: this.runningSinceMs,
      stopRequestedMs: this.stopRequestedMs,
      elapsedS: this.elapsedS(),
      loadDurationS: this.loadDurationS(),
      // computed when read: most readers want one or two fields, and these are not free
      get steps(): readonly Step[] {
        return runner.events.flatMap((e) => (e.Step ? [e.Step] : []));
      },
      get result(): RoundResult {
        const result = runner.accumulator.result(runner.loadDurationS());
        return runner.thresholdResults.length > 0 ? { ...result, Thresholds: runner.thresholdResults } : result;
      },
      get llm(): LlmResult | undefined {
        return runner.llmResult();
      },
    };
  }

  /** A live change of optional.*: the mode decides what it means. */
  update(optional: ResolvedOptional): void {
    const durationChanged = optional.durationS !== this.optional.durationS;
    this.optional = optional;
    const reload = this.mode.update(optional);
    this.pool.reconcile();
    if (reload || durationChanged) this.sendLoads(durationChanged);
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
    this.stopRequestedMs = Date.now();
    this.phase = 'stopping';
    this.message = 'Benchmark task is stopping';
    this.event('status', `stopping: ${reason}`);
    this.pool.stop(reason);
    this.deps.hooks.onChange();
    const deadline = setTimeout(() => this.end(this.endInfo ?? { reason, endReason, failed }), STOP_WAIT_MS);
    deadline.unref();
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
    clearInterval(this.tick);
    clearTimeout(this.connectTimer);
    this.finalizeThrough(Number.MAX_SAFE_INTEGER);
    // what the agents' quotas left out is counted before the round's events close
    for (const [agentId, quota] of this.agentEvents) if (quota.leftOut > 0) this.event('info', `agent ${agentId}: ${quota.leftOut} more event(s) like the above not shown`);
    this.pool.shutdown();
    this.message = info.reason;
    this.deps.hooks.onFinished(info);
    for (const resolve of this.stopWaiters.splice(0)) resolve();
  }

  private checkAllStopped(): void {
    if (this.phase === 'stopping' && this.pool.isSettled()) this.end(this.endInfo ?? { reason: 'stopped', endReason: 'stopped', failed: false });
  }

  // ---------------------------------------------------------------- agents

  private agentsLine(): string {
    return `${this.availableAgents()}/${this.desiredAgents()} agents available`;
  }

  private onAgentAdded(seat: PoolSeat): void {
    seat.send({ type: 'assign', assignment: this.assignmentFor(seat) });
    const wasRunning = this.phase === 'running';
    this.event(wasRunning ? 'agent-added' : 'info', `agent ${seat.index + 1} connected (pid ${seat.pid} on ${seat.host}); ${this.agentsLine()}`);
    this.sendLoads();
    if (this.phase === 'starting') this.message = `Agent ${this.availableAgents()}/${this.desiredAgents()} connected`;
    this.deps.hooks.onChange();
  }

  private assignmentFor(seat: PoolSeat): AgentAssignment {
    const count = Math.max(1, this.desiredAgents());
    const bodies = this.deps.request.bodies.length;
    const live = this.pool.live();
    return {
      taskId: this.deps.taskId,
      roundId: this.deps.roundId,
      agentIndex: seat.index,
      agentCount: count,
      startOffset: bodies > 0 ? Math.floor((seat.index * bodies) / count) % bodies : 0,
      request: this.deps.request,
      load: this.loadFor(seat, live),
      requestLimit: this.limitFor(seat, live),
      ...(this.deps.llm ? { llm: this.deps.llm.work } : {}),
      // while the round starts, agents wait for each other: see enterRunning
      waitForStart: this.phase === 'starting',
      scheduleEndMs: this.scheduleEndMs(),
    };
  }

  private loadFor(seat: PoolSeat, live: PoolSeat[]): LoadShape {
    return this.mode.loadFor(Math.max(0, live.indexOf(seat)), Math.max(1, live.length));
  }

  /** requestCount split over the live agents: what each may send in the whole round. */
  private limitFor(seat: PoolSeat, live: PoolSeat[]): number | null {
    const total = this.optional.requestCount;
    if (total === null) return null;
    const sentLive = live.reduce((sum, s) => sum + s.totalSent, 0);
    const remaining = Math.max(0, total - this.pool.sentByGone() - sentLive);
    const rank = Math.max(0, live.indexOf(seat));
    const base = Math.floor(remaining / live.length);
    const share = base + (rank < remaining - base * live.length ? 1 : 0);
    return seat.totalSent + share;
  }

  /** `withEnd`: the duration changed; otherwise the end the agents have stands (re-sending it would shift it by the message's transit). */
  private sendLoads(withEnd = false): void {
    const live = this.pool.live();
    const end = withEnd ? { scheduleEndMs: this.scheduleEndMs() } : {};
    this.shares.check(this.mode.targetQps(), live.length, this.deps.maxAgents);
    for (const seat of live) seat.send({ type: 'load', load: this.loadFor(seat, live), requestLimit: this.limitFor(seat, live), ...end });
  }

  /** Where the agents' schedule ends, ms from now (from the start while the round starts): the duration's end. */
  private scheduleEndMs(): number {
    const durationMs = this.optional.durationS * 1000;
    if (this.runningSinceMs === undefined) return durationMs;
    return Math.max(0, durationMs - (Date.now() - this.runningSinceMs));
  }

  /** Tells the task when what the mode found so far changed (a rate is held, or the search re-opened): its Message says it. */
  private showOutcome(): void {
    const outcome = this.mode.outcome?.();
    if (outcome === this.shownOutcome) return;
    this.shownOutcome = outcome;
    this.deps.hooks.onChange();
  }

  private enterRunning(): void {
    this.phase = 'running';
    this.runningSinceMs = Date.now();
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

  // --------------------------------------------------------------- metrics

  /** Whether the frame was taken (false: refused, and said in an event). */
  private onFrame(seat: PoolSeat, frame: AgentStatsFrame): boolean {
    // a frame for a second already finalized is folded into the next one: totals stay exact
    const second = frame.second <= this.lastFinalized ? this.lastFinalized + 1 : frame.second;
    let decoded;
    try {
      decoded = this.gate.admit(seat.agentId, frame, second);
    } catch (err) {
      if (!(err instanceof FrameRefused)) throw err;
      this.agentEvent(seat, 'error', `frame of second ${frame.second} refused (its second is lost, the agent's others count): ${err.message}`);
      return false;
    }
    this.lastSecondOf.set(seat.agentId, Math.max(this.lastSecondOf.get(seat.agentId) ?? 0, second));
    this.aggregator.add(seat.agentId, second === frame.second ? frame : { ...frame, second }, decoded);
    return true;
  }

  /** The LLM section of the round so far (computed again only after a new second), with the run modes' sections. */
  llmResult(): LlmResult | undefined {
    const figures = this.llmFigures?.result();
    return figures && this.llmModes ? { ...figures, ...this.llmModes.result() } : figures;
  }

  private onTick(): void {
    const nowS = Math.floor(Date.now() / 1000);
    // a second is final once every live agent has reported past it, or its grace has passed
    const reporting = this.pool.reporting();
    const allReported = reporting.length ? Math.min(...reporting.map((s) => this.lastSecondOf.get(s.agentId) ?? 0)) : nowS - 1;
    this.finalizeThrough(Math.max(allReported, nowS - 1 - FINALIZE_GRACE_S));
    this.checkDurationEnd();
  }

  /** At the duration the agents end their schedules by themselves: stop once all said `done`, or after a grace. */
  private checkDurationEnd(): void {
    if (this.phase !== 'running' || this.runningSinceMs === undefined) return;
    const elapsedS = this.elapsedS();
    if (elapsedS < this.optional.durationS) return;
    const allDone = this.pool.live().every((s) => s.done);
    if (!allDone && elapsedS < this.optional.durationS + DURATION_END_GRACE_S) return;
    this.loadEndMs = this.runningSinceMs + this.optional.durationS * 1000;
    void this.stop(`duration of ${this.optional.durationS} s reached`, 'duration');
  }

  private finalizeThrough(lastSecond: number): void {
    let finalizedAny = false;
    for (const second of this.aggregator.pendingSeconds().filter((s) => s <= lastSecond).sort((a, b) => a - b)) {
      const startS = this.runningSinceMs !== undefined ? Math.floor(this.runningSinceMs / 1000) : second;
      const finalized = this.aggregator.finalize(second, {
        elapsed: Math.max(0, second - startS),
        targetQps: this.mode.targetQpsDuring ? this.mode.targetQpsDuring(second) : this.mode.targetQps(),
        concurrency: this.mode.concurrency(),
        agentsDesired: this.desiredAgents(),
        agentsAvailable: this.pool.availableDuring(second),
        llm: this.deps.llm !== undefined,
      });
      this.lastFinalized = Math.max(this.lastFinalized, second);
      this.gate.finalized(second);
      applyGeneratorGate(finalized);
      // a second's records go to disk with it, so the records file and the stored figures agree
      // (a crash leaves both at the same second); the round keeps neither
      if (finalized.llmRecords) {
        for (const r of finalized.llmRecords) this.llmModes?.add(r);
        this.deps.hooks.onLlmRecords?.(finalized.llmRecords);
      }
      const stored = toStoredSecond(finalized);
      this.series.push(stored.point);
      this.accumulator.addStored(stored);
      this.serviceSeconds.add(stored.point, stored.rt, stored.lag);
      finalizedAny = true;
      if (stored.llm) this.llmFigures?.addSecond(stored.llm, finalized.llmRecords ?? []);
      this.deps.hooks.onSecond(stored);
      if (this.phase === 'running' && this.mode.onSecond(finalized)) {
        this.pool.reconcile();
        this.sendLoads();
      }
      this.showOutcome();
    }
    if (finalizedAny) this.judgeThresholds();
  }

  /**
   * The thresholds judged on the round so far (docs/metrics.md); a failed
   * abortOnFail threshold ends a running round once its delayAbortEvalS has
   * passed. A metric with nothing measured yet ends nothing.
   */
  private judgeThresholds(): void {
    const thresholds = this.deps.thresholds ?? [];
    if (thresholds.length === 0) return;
    this.thresholdResults = evaluateThresholds(thresholds, {
      result: this.accumulator.result(this.loadDurationS()),
      service: this.serviceSeconds.result(),
      llm: this.llmResult(),
    });
    if (this.phase !== 'running') return;
    const elapsedS = this.elapsedS();
    const broken = this.thresholdResults.find((r, i) => r.AbortOnFail && !r.Passed && r.Value !== null && elapsedS >= thresholds[i].delayAbortEvalS);
    if (!broken) return;
    const why = `threshold ${describeThreshold(broken)} after ${Math.floor(elapsedS)} s (abortOnFail)`;
    this.event('status', why);
    void this.stop(why, 'threshold');
  }

  // ---------------------------------------------------------------- events

  /** An event about one agent (`agent 2 (id): ...`), within its quota (AGENT_EVENTS_PER_WINDOW). */
  private agentEvent(seat: PoolSeat, kind: TaskEventKind, message: string): void {
    const nowMs = this.nowMs();
    let quota = this.agentEvents.get(seat.agentId);
    if (!quota || nowMs - quota.windowStartMs >= AGENT_EVENT_WINDOW_MS) {
      const leftOut = quota?.leftOut ?? 0;
      quota = { windowStartMs: nowMs, shown: 0, leftOut: 0 };
      this.agentEvents.set(seat.agentId, quota);
      if (leftOut > 0) this.event(kind, `agent ${seat.index + 1} (${seat.agentId}): ${leftOut} more event(s) like the above not shown`);
    }
    if (quota.shown >= AGENT_EVENTS_PER_WINDOW) {
      quota.leftOut++;
      return;
    }
    quota.shown++;
    this.event(kind, `agent ${seat.index + 1} (${seat.agentId}): ${message}`);
  }

  /** An event of the round (the mode's, the fleet's, or the task's own while this round runs): kept, stored and announced through the hooks. */
  event(kind: TaskEventKind, message: string, step?: Step): void {
    const event = newEvent(kind, message, step);
    this.events.push(event);
    this.deps.hooks.onEvent(event);
  }
}
