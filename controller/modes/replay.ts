import { Capacity, LoadShape, replayCountBy, ResolvedOptional } from '../../src/contract';
import type { ReplayPlan } from '../data/replay';
import { ModeContext, ModeDriver, splitRate, TaskMode } from './base';
import { agentsForRate } from './shares';
import { openLoopInFlightCap } from './stepped';

export function replayTaskMode(optional: ResolvedOptional, plan: ReplayPlan | undefined): TaskMode {
  return {
    displayName: 'replay',
    agentsFromTask: false,
    // the log's peak is known once it is read: the round asks for its agents then
    startingAgents: () => 1,
    create: (ctx) => {
      // a round is prepared (its log read) before its mode is made
      if (!plan) throw new Error('a replay round without its log');
      return new ReplayMode(optional, plan, ctx);
    },
  };
}

/**
 * replay (docs/modes.md): a recorded log sent at its offsets divided by
 * speed. Every agent is given the whole log once and takes its lane of the
 * records (agent/schedule.ts, `ReplaySchedule`): record k goes to agent
 * k mod N, so the agents together send the log exactly, with latency from
 * each record's scheduled time. The agents are chosen for the log's busiest
 * second and kept for the round: another agent would re-split the lanes.
 */
export class ReplayMode implements ModeDriver {
  readonly mode = 'replay' as const;
  private readonly peak: number;
  private readonly agents: number;
  private durationMs: number;
  private said = false;

  constructor(
    optional: ResolvedOptional,
    private readonly plan: ReplayPlan,
    private readonly ctx: ModeContext,
  ) {
    this.peak = busiestSecond(plan);
    this.agents = agentsForRate(this.peak, ctx.maxAgentQps);
    this.durationMs = optional.durationS * 1000;
  }

  desiredAgents(): number {
    return this.agents;
  }

  loadFor(index: number, count: number): LoadShape {
    this.sayMalformed();
    const share = splitRate(this.peak, count);
    return {
      kind: 'open',
      qps: share,
      maxInFlight: openLoopInFlightCap(share, this.ctx.timeoutMs),
      replay: { atMs: this.elapsedMs() ?? 0, lane: index, lanes: count, periodMs: this.plan.periodMs, loop: this.plan.loop },
    };
  }

  onSecond(): boolean {
    return false;
  }

  /** The log is the plan the agents follow from the start; a duration change is the round's. */
  update(optional: ResolvedOptional): boolean {
    this.durationMs = optional.durationS * 1000;
    return false;
  }

  targetQps(): number | undefined {
    return this.countDuring(this.elapsedMs() ?? 0);
  }

  /** What the log holds in wall second `second`: its records scheduled then, so the series is the log's per-second count. */
  targetQpsDuring(second: number): number | undefined {
    const sinceMs = this.ctx.runningSinceMs?.();
    if (sinceMs === undefined) return this.targetQps();
    return this.countDuring(second * 1000 - sinceMs);
  }

  concurrency(): number | undefined {
    return undefined;
  }

  describeTarget(): string {
    const { requests, periodMs, loop } = this.plan;
    const spanS = Math.round(periodMs) / 1000;
    return `replay of ${requests.times.length} records over ${spanS} s${loop ? ', looped' : ''} (busiest second ${this.peak})`;
  }

  capacity(): Capacity | undefined {
    return undefined;
  }

  private countDuring(fromMs: number): number {
    const { times } = this.plan.requests;
    const count = (atMs: number): number => replayCountBy(times, this.plan.periodMs, this.plan.loop, Math.min(atMs, this.durationMs));
    return count(fromMs + 1000) - count(fromMs);
  }

  /** Lines of the log that were no record are said once, with the first one's reason. */
  private sayMalformed(): void {
    if (this.said || this.plan.malformed === 0) return;
    this.said = true;
    const { malformed, firstProblem, source, requests } = this.plan;
    this.ctx.event('info', `replay ${source}: ${malformed} malformed line(s) left out, ${requests.times.length} records sent (first: ${firstProblem ?? 'unknown'})`);
  }

  private elapsedMs(): number | undefined {
    const sinceMs = this.ctx.runningSinceMs?.();
    return sinceMs === undefined ? undefined : Math.max(0, this.ctx.nowS() * 1000 - sinceMs);
  }
}

/** Most records scheduled in one second of a pass (what the agents are sized for). */
function busiestSecond(plan: ReplayPlan): number {
  const counts = new Map<number, number>();
  for (const t of plan.requests.times) {
    const s = Math.floor(t / 1000);
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return Math.max(1, ...counts.values());
}
