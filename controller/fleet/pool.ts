import { randomBytes } from 'node:crypto';
import { AgentStatsFrame, AgentToController, CLOSE_AGENT_CONNECTED, CLOSE_UNAUTHORIZED, Clock, DroppedRecords, sameSecret, systemClock } from '../../src/contract';
import { AgentConnection, AgentOwner } from './hub';
import { AgentLauncher } from './launcher';
import { AgentInfo, PoolSeat, Seat } from './seat';

/** A retired agent has this long to send its last frame and `done` before it is cut off. */
const RETIRE_WAIT_MS = 6000;
/** A lost agent is replaced after this breath, so a crash loop cannot spin (AgentPoolOptions.replaceDelayMs). */
export const REPLACE_DELAY_MS = 500;
/**
 * Agents of one round whose sockets the controller closed for breaking the
 * protocol that are replaced; after that a refused agent's seat stays empty,
 * so that an agent that keeps sending what is refused (a bug, or hostile)
 * costs a few events, never an endless replace loop.
 */
export const MAX_REFUSED_REPLACEMENTS = 3;
/** After its socket closed, a launched agent gets this long to exit before SIGKILL. */
const DISCONNECTED_KILL_GRACE_MS = 1000;

export type { AgentInfo, AgentState, PoolSeat } from './seat';

/** What the pool tells the round. */
export interface PoolEvents {
  /** An agent took its seat and waits for its assignment. */
  added(seat: PoolSeat): void;
  /** It loaded what it needs (tokenizer, connections opened ahead: `connections`) and can start. */
  ready(seat: PoolSeat, connections?: number): void;
  /**
   * `droppedRecords`: records of the frame that failed their checks and were
   * left out. Returns false when the round refused the frame: it then counts
   * nowhere, not even in the seat's `totalSent`.
   */
  stats(seat: PoolSeat, frame: AgentStatsFrame, droppedRecords?: DroppedRecords): boolean;
  /** A frame of the agent was refused (`closed`: and its socket closed, see AgentOwner.onRefused). */
  refused(seat: PoolSeat, reason: string, closed: boolean): void;
  done(seat: PoolSeat): void;
  log(seat: PoolSeat, level: 'info' | 'warn' | 'error', message: string): void;
  /** It was asked to stop because the round wants fewer agents. */
  retired(seat: PoolSeat, why: string): void;
  /**
   * A working agent went away; its replacement is launched the replace delay
   * later, then `refilled` follows. `replaced` is false when it is not
   * (MAX_REFUSED_REPLACEMENTS refused agents were replaced already).
   */
  lost(seat: PoolSeat, why: string, replaced: boolean): void;
  refilled(): void;
  /** After `stop`, the last agent said `done` or went away. */
  settled(): void;
  /** The launcher's engine refused to run the round's agents: the round cannot go on. */
  failed(message: string): void;
}

export interface AgentPoolOptions {
  launcher: AgentLauncher;
  controllerWsUrl: string;
  /** The task's agent token: an agent started by hand presents it to take a free seat. */
  agentToken: string;
  /** The round's task and number: launched agents are named `${taskName}-${roundId}-1`, `-2`, ... */
  taskName: string;
  roundId: number;
  /** How many agents the round wants now; asked whenever seats are filled or offered. */
  wanted(): number;
  events: PoolEvents;
  /** The clock of its timers and of the availability it notes (systemClock when absent). */
  clock?: Clock;
  /** How long after a loss its replacement is launched (REPLACE_DELAY_MS when absent). */
  replaceDelayMs?: number;
}

/**
 * The agents of one round: launches as many as the round wants, retires the
 * extra ones, replaces a lost one, seats agents started by hand with the
 * task's token, and remembers how many were available when. The round hears
 * of them through PoolEvents and speaks to them through their seats.
 */
export class AgentPool implements AgentOwner {
  private readonly seats = new Map<string, Seat>();
  private launchSerial = 0;
  /** Requests sent by agents no longer in the pool. */
  private sentByDropped = 0;
  /** The same, by the seat index they held. */
  private readonly sentByDroppedAt = new Map<number, number>();
  /** Stopping or stopped: no seat is filled or offered again. */
  private closing = false;
  /** Agents whose sockets were closed for breaking the protocol, and the seats left empty after them. */
  private refusedAgents = 0;
  private emptySeats = 0;
  /** Changes of the available count, oldest first, pruned as seconds are read. */
  private readonly availability: { atMs: number; count: number }[] = [];

  private readonly clock: Clock;

  constructor(private readonly options: AgentPoolOptions) {
    this.clock = options.clock ?? systemClock;
  }

  // -------------------------------------------------------------- size

  /** Launches agents up to what the round wants (within the launcher's capacity) and retires the extra ones. */
  reconcile(): void {
    if (this.closing) return;
    const desired = Math.max(0, this.options.wanted() - this.emptySeats);
    const active = this.activeSeats();
    const launchedActive = active.filter((s) => s.launched).length;
    const toLaunch = Math.min(desired - active.length, this.options.launcher.capacity - launchedActive);
    for (let n = 0; n < toLaunch; n++) this.launch();
    if (active.length > desired) {
      // retire the highest indices so the remaining agents keep their data offsets
      const extra = active.sort((a, b) => b.index - a.index).slice(0, active.length - desired);
      for (const seat of extra) this.retire(seat, 'the mode needs fewer agents');
    }
  }

  /** Asks every agent to stop; `settled` follows once all of them said done or went away. */
  stop(reason: string): void {
    this.closing = true;
    for (const seat of this.seats.values()) seat.send({ type: 'stop', reason });
  }

  /** True when no connected agent still owes its `done`. */
  isSettled(): boolean {
    return ![...this.seats.values()].some((s) => s.connection && !s.done);
  }

  /** Closes every socket and ends every launched agent, without waiting for them. */
  shutdown(): void {
    this.closing = true;
    for (const seat of this.seats.values()) {
      seat.connection?.close(1000, 'round finished');
      seat.launched?.kill();
    }
    this.options.launcher.release?.({ taskName: this.options.taskName, roundId: this.options.roundId });
  }

  private launch(): void {
    const { taskName, roundId } = this.options;
    const agentId = `${taskName}-${roundId}-${++this.launchSerial}`;
    const secret = randomBytes(24).toString('base64url');
    const seat = new Seat(agentId, this.freeIndex(), secret);
    this.seats.set(agentId, seat);
    seat.launched = this.options.launcher.launch({
      controllerWsUrl: this.options.controllerWsUrl,
      token: secret,
      agentId,
      taskName,
      roundId,
      onExit: (code, signal) => this.onAgentExit(seat, code, signal),
      onError: (message) => {
        if (!this.closing) this.options.events.failed(message);
      },
    });
  }

  private freeIndex(): number {
    const used = new Set(this.activeSeats().map((s) => s.index));
    let i = 0;
    while (used.has(i)) i++;
    return i;
  }

  private retire(seat: Seat, why: string): void {
    seat.retiring = true;
    this.noteAvailability();
    seat.send({ type: 'stop', reason: why });
    this.options.events.retired(seat, why);
    // its final frame and `done` arrive before the socket closes; it is cut off if it lingers
    this.clock.setTimeout(() => this.drop(seat), RETIRE_WAIT_MS).unref();
  }

  private drop(seat: Seat): void {
    if (!this.seats.has(seat.agentId)) return;
    this.seats.delete(seat.agentId);
    this.noteAvailability();
    this.sentByDropped += seat.totalSent;
    this.sentByDroppedAt.set(seat.index, (this.sentByDroppedAt.get(seat.index) ?? 0) + seat.totalSent);
    seat.launched?.kill();
    seat.connection?.close(1000, 'retired');
  }

  private onAgentExit(seat: Seat, code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.seats.has(seat.agentId)) return;
    if (seat.retiring || this.closing) {
      this.drop(seat);
      this.checkSettled();
      return;
    }
    this.lose(seat, signal ? `killed by ${signal}` : `exited with code ${code}`);
  }

  private lose(seat: Seat, why: string): void {
    this.drop(seat);
    if (seat.refusal !== undefined) {
      const replaced = ++this.refusedAgents <= MAX_REFUSED_REPLACEMENTS;
      this.options.events.lost(seat, `refused by the controller: ${seat.refusal}; ${why}`, replaced);
      if (!replaced) {
        this.emptySeats++;
        return;
      }
    } else {
      this.options.events.lost(seat, why, true);
    }
    this.clock.setTimeout(() => {
      this.reconcile();
      this.options.events.refilled();
    }, this.options.replaceDelayMs ?? REPLACE_DELAY_MS).unref();
  }

  private checkSettled(): void {
    if (this.closing && this.isSettled()) this.options.events.settled();
  }

  // ------------------------------------------------------- the hub's side

  /** Whether `token` is the secret of one of the launched seats (compared in constant time, over every seat). */
  holdsSecret(token: string): boolean {
    let found = false;
    for (const seat of this.seats.values()) if (seat.secret !== undefined && sameSecret(token, seat.secret)) found = true;
    return found;
  }

  /** The seat an agent calling itself `agentId` speaks for. */
  private seatFor(agentId: string): Seat | undefined {
    const seat = this.seats.get(agentId);
    if (seat) return seat;
    for (const candidate of this.seats.values()) if (candidate.connection?.agentId === agentId || candidate.answersTo(agentId)) return candidate;
    return undefined;
  }

  attach(connection: AgentConnection, token: string): void {
    let seat = this.seatFor(connection.agentId);
    // a seat is never taken over: the agent holding it stays, the newcomer goes
    if (seat?.connection) {
      connection.close(CLOSE_AGENT_CONNECTED, 'agent id already connected');
      return;
    }
    // a launched seat is its own agent's (its secret); the task's token takes only a free seat
    if (!sameSecret(token, seat?.secret ?? this.options.agentToken)) {
      connection.close(CLOSE_UNAUTHORIZED, 'wrong secret for this agent id');
      return;
    }
    if (!seat) {
      if (this.closing || this.activeSeats().length >= this.options.wanted()) {
        connection.close(1000, 'no agent needed');
        return;
      }
      seat = new Seat(connection.agentId, this.freeIndex());
      this.seats.set(seat.agentId, seat);
    }
    if (this.closing || seat.retiring) {
      connection.close(1000, 'round is ending');
      return;
    }
    seat.connection = connection;
    seat.seated = true;
    seat.ready = false;
    this.noteAvailability();
    this.options.events.added(seat);
  }

  onClose(connection: AgentConnection): void {
    const seat = this.seatFor(connection.agentId);
    if (!seat || seat.connection !== connection) return;
    seat.connection = undefined;
    this.noteAvailability();
    if (seat.retiring || this.closing) {
      this.drop(seat);
      this.checkSettled();
      return;
    }
    // an agent started by hand has nothing to restart; a launched one is replaced when it exits
    if (seat.launched) seat.launched.kill(DISCONNECTED_KILL_GRACE_MS);
    else this.lose(seat, 'connection closed');
  }

  onMessage(connection: AgentConnection, message: AgentToController): void {
    const seat = this.seatFor(connection.agentId);
    // only the socket seated in the seat speaks for it
    if (!seat || seat.connection !== connection) return;
    switch (message.type) {
      case 'ready':
        seat.ready = true;
        this.options.events.ready(seat, message.connections);
        break;
      case 'stats':
        if (this.options.events.stats(seat, message.frame, message.droppedRecords)) seat.noteSent(message.frame.totalSent);
        break;
      case 'done':
        seat.done = true;
        seat.noteSent(message.totalSent);
        if (seat.retiring) this.drop(seat);
        this.checkSettled();
        this.options.events.done(seat);
        break;
      case 'log':
        this.options.events.log(seat, message.level, message.message);
        break;
      default:
        break;
    }
  }

  onRefused(connection: AgentConnection, reason: string, closed: boolean): void {
    const seat = this.seatFor(connection.agentId);
    if (!seat || seat.connection !== connection) return;
    if (closed) seat.refusal = reason;
    this.options.events.refused(seat, reason, closed);
  }

  // ------------------------------------------------------------ counts

  /** Connected agents not retiring. */
  available(): number {
    return this.activeSeats().filter((s) => s.connection).length;
  }

  /** Seats launched but not run by any host yet (no pool agent was free): the round starts without them. */
  waitingForHost(): number {
    return this.activeSeats().filter((s) => !s.connection && s.launched?.waiting === true).length;
  }

  /** Connected agents not retiring that said `ready`. */
  readyCount(): number {
    return this.activeSeats().filter((s) => s.connection && s.ready).length;
  }

  /** Seats not retiring, by index: the agents that share the round's load. */
  live(): PoolSeat[] {
    return this.activeSeats().sort((a, b) => a.index - b.index);
  }

  /** Connected agents that still send frames. */
  reporting(): PoolSeat[] {
    return [...this.seats.values()].filter((s) => s.connection && !s.done);
  }

  /** Requests sent by agents that left the pool. */
  sentByGone(): number {
    return this.sentByDropped;
  }

  /** Requests sent by agents that left the pool from seat `index` (where a trace lane taken over stands). */
  sentByGoneAt(index: number): number {
    return this.sentByDroppedAt.get(index) ?? 0;
  }

  /** Requests sent by every agent the pool ever had. */
  sentByAll(): number {
    let sent = this.sentByDropped;
    for (const seat of this.seats.values()) sent += seat.totalSent;
    return sent;
  }

  agents(): AgentInfo[] {
    return [...this.seats.values()]
      .sort((a, b) => a.index - b.index)
      .map((s) => ({ id: s.agentId, index: s.index, host: s.host, address: s.address, pid: s.pid, state: s.state }));
  }

  private activeSeats(): Seat[] {
    return [...this.seats.values()].filter((s) => !s.retiring);
  }

  // ------------------------------------------------------- availability

  /** Records a change of the available agents, so each second shows the fewest it had, even for a gap shorter than a second. */
  private noteAvailability(): void {
    this.availability.push({ atMs: this.clock.nowMs(), count: this.available() });
  }

  /** The fewest agents available at any moment of `second` (Unix seconds); forgets changes older than it. */
  availableDuring(second: number): number {
    const startMs = second * 1000;
    const endMs = startMs + 1000;
    let atStart = this.availability.length ? this.availability[0].count : this.available();
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
}
