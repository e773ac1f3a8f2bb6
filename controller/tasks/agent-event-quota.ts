import type { Clock, TaskEventKind } from '../../src/contract';
import type { PoolSeat } from '../fleet/pool';

/**
 * Events about one agent's refused frames or its log lines: at most this
 * many a window, then one line saying how many more there were, so an agent
 * that sends refused frames or logs by the thousand cannot grow the task's
 * events without bound.
 */
export const AGENT_EVENTS_PER_WINDOW = 5;
export const AGENT_EVENT_WINDOW_MS = 10_000;

/** The per-agent quota of a round's events (AGENT_EVENTS_PER_WINDOW a window). */
export class AgentEventQuota {
  /** Per agent id: its events of the current window, and those left out. */
  private readonly quotas = new Map<string, { windowStartMs: number; shown: number; leftOut: number }>();

  constructor(
    private readonly clock: Pick<Clock, 'nowMs'>,
    /** How an event reaches the round. */
    private readonly emit: (kind: TaskEventKind, message: string) => void,
  ) {}

  /** An event about one agent (`agent 2 (id): ...`), within its quota. */
  event(seat: PoolSeat, kind: TaskEventKind, message: string): void {
    const nowMs = this.clock.nowMs();
    let quota = this.quotas.get(seat.agentId);
    if (!quota || nowMs - quota.windowStartMs >= AGENT_EVENT_WINDOW_MS) {
      const leftOut = quota?.leftOut ?? 0;
      quota = { windowStartMs: nowMs, shown: 0, leftOut: 0 };
      this.quotas.set(seat.agentId, quota);
      if (leftOut > 0) this.emit(kind, `agent ${seat.index + 1} (${seat.agentId}): ${leftOut} more event(s) like the above not shown`);
    }
    if (quota.shown >= AGENT_EVENTS_PER_WINDOW) {
      quota.leftOut++;
      return;
    }
    quota.shown++;
    this.emit(kind, `agent ${seat.index + 1} (${seat.agentId}): ${message}`);
  }

  /** The round ends: what the quotas left out is counted before its events close. */
  close(): void {
    for (const [agentId, quota] of this.quotas) if (quota.leftOut > 0) this.emit('info', `agent ${agentId}: ${quota.leftOut} more event(s) like the above not shown`);
  }
}
