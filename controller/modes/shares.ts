/* How a target rate is split over agents, none above the controller's --max-agent-qps (its default and why: config.ts). */
import { DEFAULT_MAX_AGENT_QPS } from '../config';

/** Agents needed so that no share is above the cap. */
export function agentsForRate(qps: number, maxAgentQps = DEFAULT_MAX_AGENT_QPS): number {
  return Math.max(1, Math.ceil(qps / Math.max(1, maxAgentQps)));
}

/**
 * Says once, when it starts, that the agents' shares are above the cap (the
 * controller's --max-agents is reached), and once when they are back under it.
 */
export class ShareWatch {
  private over = false;

  constructor(
    private readonly maxAgentQps: number,
    private readonly say: (message: string) => void,
  ) {}

  check(targetQps: number | undefined, agents: number, maxAgents: number): void {
    if (targetQps === undefined || agents <= 0) return;
    const share = targetQps / agents;
    const over = share > this.maxAgentQps;
    if (over === this.over) return;
    this.over = over;
    if (over) {
      this.say(
        `each of ${agents} agent(s) sends ${Math.round(share)} QPS, above --max-agent-qps ${this.maxAgentQps}` +
          `${agents >= maxAgents ? ` (--max-agents ${maxAgents} reached)` : ''}: the agents may fall behind their schedule; the generator-limited share says whether they did`,
      );
    } else {
      this.say(`agent shares are back under --max-agent-qps ${this.maxAgentQps} (${Math.round(share)} QPS each)`);
    }
  }
}
