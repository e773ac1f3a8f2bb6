import { randomBytes } from 'node:crypto';
import {
  AgentAssignment,
  AgentStatsFrame,
  AgentToController,
  CLOSE_AGENT_CONNECTED,
  CLOSE_UNAUTHORIZED,
  LlmRequestRecord,
  LlmResult,
  LlmSpec,
  LlmWork,
  LoadShape,
  RequestTemplate,
  ResolvedOptional,
  StatsPoint,
  Step,
  TaskEvent,
  TaskEventKind,
} from '../../src/contract';
import { AgentConnection, AgentOwner, sameSecret } from '../agents/hub';
import { AgentLauncher, LaunchedAgent } from '../agents/launcher';
import { RoundAccumulator, SecondAggregator, StoredSecond, toStoredSecond } from '../metrics/aggregate';
import { computeLlmResult, MAX_LLM_RECORDS } from '../metrics/llm';
import { ModeDriver } from '../modes/base';
import { createMode } from '../modes';
import { newEvent } from './naming';

/** A seat for one agent in a round: launched locally, or taken by a remote agent. */
interface AgentSlot {
  agentId: string;
  index: number;
  /** A launched slot's own secret: only its hello may take it (the task's token takes only a free seat). */
  secret?: string;
  launched?: LaunchedAgent;
  connection?: AgentConnection;
  assigned: boolean;
  /** Said `ready` (tokenizer loaded, client open): the round's start waits for this. */
  ready: boolean;
  /** Asked to stop because the mode wants fewer agents. */
  retiring: boolean;
  done: boolean;
  totalSent: number;
  lastSecond: number;
}

export type RoundPhase = 'starting' | 'running' | 'stopping' | 'finished';

export interface RoundEndInfo {
  reason: string;
  /** True when the round ended by a failure rather than by its own end or a user stop. */
  failed: boolean;
}

export interface RoundHooks {
  /** The round's status line changed (agents connected, running, stopping). */
  onChange(): void;
  onSecond(stored: StoredSecond): void;
  /** LLM tasks: per-request records as they arrive (to persist them). */
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
  /** Of `wanted` agents, how many the controller-wide pool grants this round (all when absent). */
  grantAgents?: (wanted: number) => number;
  hooks: RoundHooks;
  /** An LLM task: its section and what the agents send. */
  llm?: { spec: LlmSpec; work: LlmWork };
}

/** Seconds a second waits for late agents before it is finalized without them. */
const FINALIZE_GRACE_S = 2;
const STOP_WAIT_MS = 6000;
const REPLACE_DELAY_MS = 500;

/**
 * Runs one round of a task: keeps the agents the mode wants, sends them their
 * loads, merges their per-second frames, ends the round on duration,
 * requestCount or stop, and hands the finalized seconds to the task.
 */
export class RoundRunner implements AgentOwner {
  readonly mode: ModeDriver;
  readonly series: StatsPoint[] = [];
  readonly events: TaskEvent[] = [];
  readonly accumulator = new RoundAccumulator();
  /** LLM tasks: every request of the round (up to MAX_LLM_RECORDS). */
  readonly llmRecords: LlmRequestRecord[] = [];
  private llmCache?: { count: number; result: LlmResult };
  private llmCapWarned = false;
  phase: RoundPhase = 'starting';
  message = 'Starting agents';
  runningSinceMs?: number;
  /** When the agents were told to stop. */
  stopRequestedMs?: number;
  private optional: ResolvedOptional;
  private readonly slots = new Map<string, AgentSlot>();
  private readonly aggregator = new SecondAggregator();
  private lastFinalized = 0;
  private sentByGoneAgents = 0;
  private agentSerial = 0;
  private tick?: NodeJS.Timeout;
  private connectTimer?: NodeJS.Timeout;
  private endInfo?: RoundEndInfo;
  private stopWaiters: (() => void)[] = [];
  /** Changes of the available agent count, oldest first, pruned as seconds are finalized. */
  private availability: { atMs: number; count: number }[] = [];

  constructor(private readonly deps: RoundDeps) {
    this.optional = deps.optional;
    this.mode = createMode(deps.optional, { event: (kind, message, step) => this.event(kind, message, step), timeoutMs: deps.request.timeoutMs, maxAgents: deps.maxAgents, nowS: () => Date.now() / 1000 }, deps.llm?.spec);
  }

  // ------------------------------------------------------------------ life

  start(): void {
    this.event('status', `round ${this.deps.roundId} starting: ${this.mode.describeTarget()}`);
    this.reconcileAgents();
    this.connectTimer = setTimeout(() => {
      if (this.phase !== 'starting') return;
      if (this.availableAgents() > 0) this.enterRunning();
      else this.finish({ reason: `no agent connected within ${this.deps.connectTimeoutS} s`, failed: true });
    }, this.deps.connectTimeoutS * 1000);
    this.tick = setInterval(() => this.onTick(), 250);
  }

  desiredAgents(): number {
    const wanted = Math.min(this.mode.desiredAgents(), this.deps.maxAgents);
    return this.deps.grantAgents ? this.deps.grantAgents(wanted) : wanted;
  }

  private readyAgents(): number {
    return this.countConnected((slot) => slot.ready);
  }

  availableAgents(): number {
    return this.countConnected((slot) => slot.assigned);
  }

  /** Connected, not retiring agents that also pass `also`. */
  private countConnected(also: (slot: AgentSlot) => boolean): number {
    let n = 0;
    for (const slot of this.slots.values()) if (slot.connection && !slot.retiring && also(slot)) n++;
    return n;
  }

  /** Seconds the load has run (until the stop, once stopping): the divisor of the round's QPS. */
  loadDurationS(): number | undefined {
    if (this.runningSinceMs === undefined) return undefined;
    return ((this.stopRequestedMs ?? Date.now()) - this.runningSinceMs) / 1000;
  }

  elapsedS(): number {
    return this.runningSinceMs === undefined ? 0 : Math.max(0, (Date.now() - this.runningSinceMs) / 1000);
  }

  /** A live change of optional.*: the mode decides what it means. */
  update(optional: ResolvedOptional): void {
    this.optional = optional;
    const reload = this.mode.update(optional);
    this.reconcileAgents();
    if (reload) this.sendLoads();
    this.deps.hooks.onChange();
  }

  /** Stops the round (user stop, shutdown, or its own end). Resolves when its data is final. */
  stop(reason: string, failed = false): Promise<void> {
    if (this.phase === 'finished') return Promise.resolve();
    const done = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    if (this.phase === 'stopping') return done;
    this.endInfo = { reason, failed };
    this.stopRequestedMs = Date.now();
    this.phase = 'stopping';
    this.message = 'Benchmark task is stopping';
    this.event('status', `stopping: ${reason}`);
    for (const slot of this.slots.values()) slot.connection?.send({ type: 'stop', reason });
    this.deps.hooks.onChange();
    const deadline = setTimeout(() => this.finish(this.endInfo ?? { reason, failed }), STOP_WAIT_MS);
    deadline.unref();
    this.checkAllStopped();
    return done;
  }

  /** Ends at once without waiting for agents (controller shutting down hard). */
  private finish(info: RoundEndInfo): void {
    if (this.phase === 'finished') return;
    this.phase = 'finished';
    this.endInfo = info;
    clearInterval(this.tick);
    clearTimeout(this.connectTimer);
    this.finalizeThrough(Number.MAX_SAFE_INTEGER);
    for (const slot of this.slots.values()) {
      slot.connection?.close(1000, 'round finished');
      slot.launched?.kill();
    }
    this.message = info.reason;
    this.deps.hooks.onFinished(info);
    for (const resolve of this.stopWaiters.splice(0)) resolve();
  }

  // ---------------------------------------------------------------- agents

  private reconcileAgents(): void {
    if (this.phase === 'stopping' || this.phase === 'finished') return;
    const desired = this.desiredAgents();
    const active = [...this.slots.values()].filter((s) => !s.retiring);
    for (let n = active.length; n < desired; n++) this.launchAgent();
    if (active.length > desired) {
      // retire the highest indices so the remaining agents keep their data offsets
      const extra = active.sort((a, b) => b.index - a.index).slice(0, active.length - desired);
      for (const slot of extra) this.retire(slot, 'the mode needs fewer agents');
    }
  }

  private launchAgent(): void {
    const index = this.freeIndex();
    const agentId = `${this.deps.taskName}-${this.deps.roundId}-${++this.agentSerial}`;
    const secret = randomBytes(24).toString('base64url');
    const slot: AgentSlot = { agentId, index, secret, assigned: false, ready: false, retiring: false, done: false, totalSent: 0, lastSecond: 0 };
    this.slots.set(agentId, slot);
    slot.launched = this.deps.launcher.launch({
      controllerWsUrl: this.deps.controllerWsUrl,
      token: secret,
      agentId,
      onExit: (code, signal) => this.onAgentExit(slot, code, signal),
    });
  }

  private freeIndex(): number {
    const used = new Set([...this.slots.values()].filter((s) => !s.retiring).map((s) => s.index));
    let i = 0;
    while (used.has(i)) i++;
    return i;
  }

  private retire(slot: AgentSlot, why: string): void {
    slot.retiring = true;
    this.noteAvailability();
    slot.connection?.send({ type: 'stop', reason: why });
    this.event('info', `agent ${slot.index + 1} retired: ${why}`);
    // its final frame and `done` arrive before the socket closes; kill it if it lingers
    setTimeout(() => this.dropSlot(slot), STOP_WAIT_MS).unref();
  }

  private dropSlot(slot: AgentSlot): void {
    if (!this.slots.has(slot.agentId)) return;
    this.slots.delete(slot.agentId);
    this.noteAvailability();
    this.sentByGoneAgents += slot.totalSent;
    slot.launched?.kill();
    slot.connection?.close(1000, 'retired');
  }

  private onAgentExit(slot: AgentSlot, code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.slots.has(slot.agentId)) return;
    const expected = slot.retiring || this.phase !== 'starting' && this.phase !== 'running';
    if (expected) {
      this.dropSlot(slot);
      this.checkAllStopped();
      return;
    }
    this.loseAgent(slot, signal ? `killed by ${signal}` : `exited with code ${code}`);
  }

  private loseAgent(slot: AgentSlot, why: string): void {
    if (!this.slots.has(slot.agentId)) return;
    this.dropSlot(slot);
    this.event('agent-lost', `agent ${slot.index + 1} lost (${why}); ${this.availableAgents()}/${this.desiredAgents()} agents available`);
    this.deps.hooks.onChange();
    // replace it after a breath, so a crash loop cannot spin
    setTimeout(() => {
      this.reconcileAgents();
      this.sendLoads();
    }, REPLACE_DELAY_MS).unref();
  }

  /** Whether `token` is the secret of one of this round's launched slots (compared in constant time). */
  holdsAgentSecret(token: string): boolean {
    let found = false;
    for (const slot of this.slots.values()) if (slot.secret !== undefined && sameSecret(token, slot.secret)) found = true;
    return found;
  }

  attach(connection: AgentConnection, token: string): void {
    let slot = this.slots.get(connection.agentId);
    // a seat is never taken over: the agent holding it stays, the newcomer goes
    if (slot?.connection) {
      connection.close(CLOSE_AGENT_CONNECTED, 'agent id already connected');
      return;
    }
    // a launched slot is its own agent's (its secret); the task's token takes only a free seat
    if (!sameSecret(token, slot?.secret ?? this.deps.agentToken)) {
      connection.close(CLOSE_UNAUTHORIZED, 'wrong secret for this agent id');
      return;
    }
    if (!slot) {
      // a remote agent started by hand with this task's token
      const active = [...this.slots.values()].filter((s) => !s.retiring);
      if (this.phase === 'stopping' || this.phase === 'finished' || active.length >= this.desiredAgents()) {
        connection.close(1000, 'no agent needed');
        return;
      }
      slot = { agentId: connection.agentId, index: this.freeIndex(), assigned: false, ready: false, retiring: false, done: false, totalSent: 0, lastSecond: 0 };
      this.slots.set(slot.agentId, slot);
    }
    if (this.phase === 'stopping' || this.phase === 'finished' || slot.retiring) {
      connection.close(1000, 'round is ending');
      return;
    }
    slot.connection = connection;
    slot.ready = false;
    connection.send({ type: 'assign', assignment: this.assignmentFor(slot) });
    slot.assigned = true;
    this.noteAvailability();
    const wasRunning = this.phase === 'running';
    this.event(wasRunning ? 'agent-added' : 'info', `agent ${slot.index + 1} connected (pid ${connection.pid} on ${connection.host}); ${this.availableAgents()}/${this.desiredAgents()} agents available`);
    this.sendLoads();
    if (this.phase === 'starting') this.message = `Agent ${this.availableAgents()}/${this.desiredAgents()} connected`;
    this.deps.hooks.onChange();
  }

  onClose(connection: AgentConnection): void {
    const slot = this.slots.get(connection.agentId);
    if (!slot || slot.connection !== connection) return;
    slot.connection = undefined;
    this.noteAvailability();
    if (slot.retiring || this.phase === 'stopping' || this.phase === 'finished') {
      this.dropSlot(slot);
      this.checkAllStopped();
      return;
    }
    // a remote agent has nothing to restart; a local one is replaced when it exits
    if (!slot.launched) this.loseAgent(slot, 'connection closed');
    else slot.launched.kill(1000);
  }

  onMessage(connection: AgentConnection, message: AgentToController): void {
    const slot = this.slots.get(connection.agentId);
    // only the socket seated in the slot speaks for it
    if (!slot || slot.connection !== connection) return;
    switch (message.type) {
      case 'ready':
        slot.ready = true;
        // the round starts once every desired agent is ready, so their shares begin together
        if (this.phase === 'starting' && this.readyAgents() >= this.desiredAgents()) this.enterRunning();
        break;
      case 'stats':
        this.onFrame(slot, message.frame);
        break;
      case 'done':
        slot.done = true;
        slot.totalSent = Math.max(slot.totalSent, message.totalSent);
        if (slot.retiring) this.dropSlot(slot);
        this.checkAllStopped();
        this.checkRequestCount();
        break;
      case 'log':
        if (message.level !== 'info') this.event(message.level === 'error' ? 'error' : 'info', `agent ${slot.index + 1}: ${message.message}`);
        break;
      default:
        break;
    }
  }

  private assignmentFor(slot: AgentSlot): AgentAssignment {
    const count = Math.max(1, this.desiredAgents());
    const bodies = this.deps.request.bodies.length;
    return {
      taskId: this.deps.taskId,
      roundId: this.deps.roundId,
      agentIndex: slot.index,
      agentCount: count,
      startOffset: bodies > 0 ? Math.floor((slot.index * bodies) / count) % bodies : 0,
      request: this.deps.request,
      load: this.loadFor(slot),
      requestLimit: this.limitFor(slot),
      ...(this.deps.llm ? { llm: this.deps.llm.work } : {}),
      // while the round starts, agents wait for each other: see enterRunning
      waitForStart: this.phase === 'starting',
    };
  }

  private loadFor(slot: AgentSlot): LoadShape {
    const live = this.liveSlots();
    const count = Math.max(1, live.length);
    const rank = Math.max(0, live.indexOf(slot));
    return this.mode.loadFor(rank, count);
  }

  private liveSlots(): AgentSlot[] {
    return [...this.slots.values()].filter((s) => !s.retiring).sort((a, b) => a.index - b.index);
  }

  /** requestCount split over the live agents: what each may send in the whole round. */
  private limitFor(slot: AgentSlot): number | null {
    const total = this.optional.requestCount;
    if (total === null) return null;
    const live = this.liveSlots();
    const sentLive = live.reduce((sum, s) => sum + s.totalSent, 0);
    const remaining = Math.max(0, total - this.sentByGoneAgents - sentLive);
    const rank = Math.max(0, live.indexOf(slot));
    const base = Math.floor(remaining / live.length);
    const share = base + (rank < remaining - base * live.length ? 1 : 0);
    return slot.totalSent + share;
  }

  private sendLoads(): void {
    for (const slot of this.liveSlots()) {
      if (slot.connection && slot.assigned) slot.connection.send({ type: 'load', load: this.loadFor(slot), requestLimit: this.limitFor(slot) });
    }
  }

  private enterRunning(): void {
    this.phase = 'running';
    this.runningSinceMs = Date.now();
    for (const slot of this.liveSlots()) slot.connection?.send({ type: 'start' });
    this.message = 'Benchmark task is running';
    this.event('status', `running with ${this.availableAgents()}/${this.desiredAgents()} agents: ${this.mode.describeTarget()}`);
    this.deps.hooks.onChange();
  }

  private checkAllStopped(): void {
    if (this.phase !== 'stopping') return;
    const waiting = [...this.slots.values()].some((s) => s.connection && !s.done);
    if (!waiting) this.finish(this.endInfo ?? { reason: 'stopped', failed: false });
  }

  private checkRequestCount(): void {
    const total = this.optional.requestCount;
    if (total === null || this.phase !== 'running') return;
    const sent = this.sentByGoneAgents + [...this.slots.values()].reduce((sum, s) => sum + s.totalSent, 0);
    const allDone = this.liveSlots().every((s) => s.done);
    if (sent >= total && allDone) void this.stop(`requestCount of ${total} reached`);
  }

  // --------------------------------------------------------------- metrics

  private onFrame(slot: AgentSlot, frame: AgentStatsFrame): void {
    slot.totalSent = Math.max(slot.totalSent, frame.totalSent);
    // a frame for a second already finalized is folded into the next one: totals stay exact
    const second = frame.second <= this.lastFinalized ? this.lastFinalized + 1 : frame.second;
    slot.lastSecond = Math.max(slot.lastSecond, second);
    if (frame.llmRecords && frame.llmRecords.length > 0) this.addLlmRecords(frame.llmRecords);
    this.aggregator.add(slot.agentId, second === frame.second ? frame : { ...frame, second });
  }

  private addLlmRecords(records: LlmRequestRecord[]): void {
    const room = MAX_LLM_RECORDS - this.llmRecords.length;
    const kept = room >= records.length ? records : records.slice(0, Math.max(0, room));
    if (kept.length < records.length && !this.llmCapWarned) {
      this.llmCapWarned = true;
      this.event('info', `llm: more than ${MAX_LLM_RECORDS} requests; later ones are counted per second but not kept`);
    }
    if (kept.length === 0) return;
    this.llmRecords.push(...kept);
    this.deps.hooks.onLlmRecords?.(kept);
  }

  /** The LLM section of the round so far (computed again only when records arrived). */
  llmResult(): LlmResult | undefined {
    if (!this.deps.llm) return undefined;
    if (this.llmCache?.count !== this.llmRecords.length) {
      this.llmCache = { count: this.llmRecords.length, result: computeLlmResult(this.llmRecords, this.deps.llm.spec.slo) };
    }
    return this.llmCache.result;
  }

  private onTick(): void {
    const nowS = Math.floor(Date.now() / 1000);
    // a second is final once every live agent has reported past it, or its grace has passed
    const reporting = [...this.slots.values()].filter((s) => s.connection && s.assigned && !s.done);
    const allReported = reporting.length ? Math.min(...reporting.map((s) => s.lastSecond)) : nowS - 1;
    this.finalizeThrough(Math.max(allReported, nowS - 1 - FINALIZE_GRACE_S));
    if (this.phase === 'running' && this.elapsedS() >= this.optional.durationS) {
      void this.stop(`duration of ${this.optional.durationS} s reached`);
    }
  }

  private finalizeThrough(lastSecond: number): void {
    for (const second of this.aggregator.pendingSeconds().filter((s) => s <= lastSecond).sort((a, b) => a - b)) {
      const startS = this.runningSinceMs !== undefined ? Math.floor(this.runningSinceMs / 1000) : second;
      const finalized = this.aggregator.finalize(second, {
        elapsed: Math.max(0, second - startS),
        targetQps: this.mode.targetQps(),
        concurrency: this.mode.concurrency(),
        agentsDesired: this.desiredAgents(),
        agentsAvailable: this.availableDuring(second),
        llm: this.deps.llm !== undefined,
      });
      this.lastFinalized = Math.max(this.lastFinalized, second);
      const stored = toStoredSecond(finalized);
      this.series.push(stored.point);
      this.accumulator.addSecond(stored.point, stored.rt, stored.lag);
      this.deps.hooks.onSecond(stored);
      if (this.phase === 'running' && this.mode.onSecond(finalized)) {
        this.reconcileAgents();
        this.sendLoads();
      }
    }
  }

  /** Records a change of the available agents, so each second shows the fewest it had, even for a gap shorter than a second. */
  private noteAvailability(): void {
    this.availability.push({ atMs: Date.now(), count: this.availableAgents() });
  }

  /** The fewest agents available at any moment of `second`; forgets changes older than it. */
  private availableDuring(second: number): number {
    const startMs = second * 1000;
    const endMs = startMs + 1000;
    let atStart = this.availability.length ? this.availability[0].count : this.availableAgents();
    let fewest = Number.POSITIVE_INFINITY;
    let keepFrom = 0;
    this.availability.forEach((change, i) => {
      if (change.atMs <= startMs) {
        atStart = change.count;
        keepFrom = i;
      } else if (change.atMs < endMs) {
        fewest = Math.min(fewest, change.count);
      }
    });
    this.availability.splice(0, keepFrom);
    return Math.min(fewest, atStart);
  }

  // ---------------------------------------------------------------- events

  event(kind: TaskEventKind, message: string, step?: Step): void {
    const event = newEvent(kind, message, step);
    this.events.push(event);
    this.deps.hooks.onEvent(event);
  }
}
