import { ControllerToAgent } from '../../src/contract';
import { AgentConnection } from './hub';
import { LaunchedAgent } from './launcher';

/** `launching`: started, not connected yet; `disconnected`: its socket closed, its process not yet gone. */
export type AgentState = 'launching' | 'connected' | 'ready' | 'done' | 'retiring' | 'disconnected';

/** One agent of the pool as the API shows it. */
export interface AgentInfo {
  readonly id: string;
  readonly index: number;
  readonly host?: string;
  /** Where its socket comes from, as the controller sees it. */
  readonly address?: string;
  readonly pid?: number;
  readonly state: AgentState;
}

/** One seat of the pool, as the round addresses its agent. */
export interface PoolSeat {
  readonly agentId: string;
  /** Its share of the round: kept while others come and go, so the data offsets of the rest hold. */
  readonly index: number;
  readonly host?: string;
  readonly pid?: number;
  /** The agent said `done`: it sent all it may, or it stopped. */
  readonly done: boolean;
  /** The most requests it said it sent, in its frames or its `done`. */
  readonly totalSent: number;
  /** Sends to the agent when it is connected; a no-op otherwise. */
  send(message: ControllerToAgent): void;
}

/** A seat of the pool: its agent's id, share index, launched process and socket, and what it said. */
export class Seat implements PoolSeat {
  connection?: AgentConnection;
  /** Its connection was seated at least once. */
  seated = false;
  ready = false;
  retiring = false;
  done = false;
  totalSent = 0;
  /** The request limit the controller last gave its agent (its assignment's, then each load's); null: none. */
  requestLimit: number | null = null;
  /** Why the controller closed its agent's socket, when it did. */
  refusal?: string;

  constructor(
    readonly agentId: string,
    readonly index: number,
    /** A launched seat's own secret: only its hello may take the seat. Absent for a seat taken with the task's token. */
    private readonly ownSecret?: string,
    public launched?: LaunchedAgent,
  ) {}

  /** The secret its agent presents: the seat's own, or the one its launcher gave all of the round's agents. */
  get secret(): string | undefined {
    return this.launched?.sharedSecret ?? this.ownSecret;
  }

  /** Whether the agent calling itself `agentId` takes this seat: its own id, or the name its launcher's engine gave it. */
  answersTo(agentId: string): boolean {
    return agentId === this.agentId || (!this.connection && !this.retiring && this.launched?.answersTo?.(agentId) === true);
  }

  get host(): string | undefined {
    return this.connection?.host;
  }

  get address(): string | undefined {
    return this.connection?.address;
  }

  get pid(): number | undefined {
    return this.connection?.pid ?? this.launched?.pid;
  }

  get state(): AgentState {
    if (this.retiring) return 'retiring';
    if (!this.connection) return this.seated ? 'disconnected' : 'launching';
    if (this.done) return 'done';
    return this.ready ? 'ready' : 'connected';
  }

  send(message: ControllerToAgent): void {
    if (message.type === 'assign') this.requestLimit = message.assignment.requestLimit;
    if (message.type === 'load' && message.requestLimit !== undefined) this.requestLimit = message.requestLimit;
    this.connection?.send(message);
  }

  /**
   * What its agent says it sent (a frame's or its `done`'s totalSent): the
   * most it said, but never past the limit it was given. An agent stops at
   * its limit, so a larger count is not true, and taken as it is it would
   * end the others' shares of requestCount (the round ends once the seats'
   * counts reach it): a hostile agent ends at most its own share.
   */
  noteSent(claimed: number): void {
    this.totalSent = Math.min(this.requestLimit ?? Number.POSITIVE_INFINITY, Math.max(this.totalSent, claimed));
  }
}
