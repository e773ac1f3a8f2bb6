import type { AgentAssignment, Clock, LlmWork, LoadShape, RequestTemplate, ResolvedOptional } from '../../src/contract';
import type { AgentPool, PoolSeat } from '../fleet/pool';
import type { ModeDriver } from '../modes/base';
import type { ShareWatch } from '../modes/shares';

/** What the split reads of its round, at the moment it splits. */
export interface LoadSplitDeps {
  taskId: string;
  roundId: number;
  request: RequestTemplate;
  llmWork?: LlmWork;
  maxAgents: number;
  clock: Pick<Clock, 'nowMs'>;
  mode: ModeDriver;
  pool: AgentPool;
  shares: ShareWatch;
  desiredAgents(): number;
  /** The round's options as they stand (a live update changes them). */
  optional(): ResolvedOptional;
  /** The round is starting: its agents wait for each other's readiness. */
  starting(): boolean;
  /** When the load started; undefined before. */
  runningSinceMs(): number | undefined;
}

/**
 * A round's load split over its live agents: each agent's assignment, its
 * share of the mode's load and of requestCount, and where its schedule ends.
 */
export class LoadSplit {
  constructor(private readonly deps: LoadSplitDeps) {}

  assignmentFor(seat: PoolSeat): AgentAssignment {
    const { deps } = this;
    const count = Math.max(1, deps.desiredAgents());
    const bodies = deps.request.bodies.length;
    const live = deps.pool.live();
    return {
      taskId: deps.taskId,
      roundId: deps.roundId,
      agentIndex: seat.index,
      agentCount: count,
      startOffset: bodies > 0 ? Math.floor((seat.index * bodies) / count) % bodies : 0,
      request: deps.request,
      load: this.loadFor(seat, live),
      requestLimit: this.limitFor(seat, live),
      ...(deps.llmWork ? { llm: deps.llmWork } : {}),
      // while the round starts, agents wait for each other: see RoundRunner.enterRunning
      waitForStart: deps.starting(),
      scheduleEndMs: this.scheduleEndMs(),
    };
  }

  /** `withEnd`: the duration changed; otherwise the end the agents have stands (re-sending it would shift it by the message's transit). */
  sendLoads(withEnd = false): void {
    const live = this.deps.pool.live();
    const end = withEnd ? { scheduleEndMs: this.scheduleEndMs() } : {};
    this.deps.shares.check(this.deps.mode.targetQps(), live.length, this.deps.maxAgents);
    for (const seat of live) seat.send({ type: 'load', load: this.loadFor(seat, live), requestLimit: this.limitFor(seat, live), ...end });
  }

  private loadFor(seat: PoolSeat, live: PoolSeat[]): LoadShape {
    const load = this.deps.mode.loadFor(Math.max(0, live.indexOf(seat)), Math.max(1, live.length));
    const sinceMs = this.deps.runningSinceMs();
    if (load.kind !== 'llm' || this.traceRecords() === undefined || sinceMs === undefined) return load;
    // a trace lane is the seat's: an agent that takes it over goes on where the round and the seat's earlier agents stand
    return { ...load, trace: { atMs: Math.max(0, this.deps.clock.nowMs() - sinceMs), sent: this.deps.pool.sentByGoneAt(seat.index) } };
  }

  /** An LLM trace's record count, when the round replays one. */
  private traceRecords(): number | undefined {
    const source = this.deps.llmWork?.source;
    return source?.kind === 'trace' ? source.records.length : undefined;
  }

  /**
   * requestCount split over the live agents: what each may send in the
   * whole round. A trace's lanes are the seats': what is left of the seat's
   * lane (records index, index + n, ...) after its earlier agents.
   */
  private limitFor(seat: PoolSeat, live: PoolSeat[]): number | null {
    const records = this.traceRecords();
    if (records !== undefined) {
      const lanes = Math.max(1, this.deps.desiredAgents());
      const lane = seat.index < records ? Math.floor((records - 1 - seat.index) / lanes) + 1 : 0;
      return Math.max(0, lane - this.deps.pool.sentByGoneAt(seat.index));
    }
    const total = this.deps.optional().requestCount;
    if (total === null) return null;
    const sentLive = live.reduce((sum, s) => sum + s.totalSent, 0);
    const remaining = Math.max(0, total - this.deps.pool.sentByGone() - sentLive);
    const rank = Math.max(0, live.indexOf(seat));
    const base = Math.floor(remaining / live.length);
    const share = base + (rank < remaining - base * live.length ? 1 : 0);
    return seat.totalSent + share;
  }

  /** Where the agents' schedule ends, ms from now (from the start while the round starts): the duration's end. */
  private scheduleEndMs(): number {
    const durationMs = this.deps.optional().durationS * 1000;
    const sinceMs = this.deps.runningSinceMs();
    if (sinceMs === undefined) return durationMs;
    return Math.max(0, durationMs - (this.deps.clock.nowMs() - sinceMs));
  }
}
