import { Capacity, LoadShape, rampCountBy, rampRateAt, ResolvedOptional, ResolvedStages, stagePoints, type RampPoint } from '../../src/contract';
import { ModeContext, ModeDriver, splitInteger, splitRate, TaskMode } from './base';
import { agentsForRate } from './shares';
import { openLoopInFlightCap } from './stepped';

export function stagesTaskMode(optional: ResolvedOptional, stages: ResolvedStages): TaskMode {
  const open = stages.kind === 'open';
  return {
    displayName: 'stages',
    // a ramped rate gets its agents from the peak, as scan does; ramped workers run on the task's agents, as manual does
    agentsFromTask: !open,
    startingAgents: (maxAgents) => Math.min(open ? 1 : optional.agentCount, maxAgents),
    create: (ctx) => new StagesMode(optional, stages, ctx),
  };
}

/**
 * stages (docs/modes.md): the target moves linearly from stage to stage.
 * A rate is followed by the agents themselves: each is sent the whole ramp
 * once and takes its lane of the round's schedule (agent/schedule.ts), so the
 * round sends the ramp's integral exactly, with latency from each request's
 * scheduled time. Workers are whole: the controller sets them second by
 * second, rounded, as the ramp passes.
 */
export class StagesMode implements ModeDriver {
  readonly mode = 'stages' as const;
  private readonly points: RampPoint[];
  private readonly peak: number;
  private readonly agents: number;
  private workers: number;
  /** The schedule ends here (optional.duration, or the stages' total): no request is due after it. */
  private durationMs: number;

  constructor(
    optional: ResolvedOptional,
    private readonly stages: ResolvedStages,
    private readonly ctx: ModeContext,
  ) {
    this.points = stagePoints(stages);
    this.peak = Math.max(...this.points.map((p) => p.qps));
    // the agents are fixed for the round: a new agent would re-split the lanes mid-ramp
    this.agents = stages.kind === 'open' ? agentsForRate(this.peak, ctx.maxAgentQps) : optional.agentCount;
    this.workers = this.workersNow();
    this.durationMs = optional.durationS * 1000;
  }

  desiredAgents(): number {
    return this.agents;
  }

  loadFor(index: number, count: number): LoadShape {
    if (this.stages.kind === 'closed') return { kind: 'closed', concurrency: splitInteger(this.workers, index, count), maxQps: null };
    const share = splitRate(this.peak, count);
    return {
      kind: 'open',
      qps: share,
      maxInFlight: openLoopInFlightCap(share, this.ctx.timeoutMs),
      ramp: { points: this.points, atMs: this.elapsedMs() ?? 0, lane: index, lanes: count },
    };
  }

  onSecond(): boolean {
    if (this.stages.kind === 'open') return false;
    const workers = this.workersNow();
    if (workers === this.workers) return false;
    this.workers = workers;
    return true;
  }

  /** The stages are the plan the agents follow from the start; a duration change is the round's (the agents get their new end from it). */
  update(optional: ResolvedOptional): boolean {
    this.durationMs = optional.durationS * 1000;
    return false;
  }

  targetQps(): number | undefined {
    return this.stages.kind === 'open' ? rampRateAt(this.points, this.elapsedMs() ?? 0) : undefined;
  }

  /**
   * What the schedule holds in wall second `second`: the ramp's integral over
   * it, so the series follows the ramp, and a partial first or last second
   * (the round starts and ends mid-second) its part.
   */
  targetQpsDuring(second: number): number | undefined {
    const sinceMs = this.ctx.runningSinceMs?.();
    if (this.stages.kind !== 'open' || sinceMs === undefined) return this.targetQps();
    const fromMs = second * 1000 - sinceMs;
    const count = (atMs: number): number => rampCountBy(this.points, Math.min(atMs, this.durationMs));
    return count(fromMs + 1000) - count(fromMs);
  }

  concurrency(): number | undefined {
    return this.stages.kind === 'closed' ? this.workers : undefined;
  }

  describeTarget(): string {
    const targets = this.points.map((p) => String(p.qps)).join(' -> ');
    const totalS = this.points[this.points.length - 1].atMs / 1000;
    if (this.stages.kind === 'open') return `stages ${targets} QPS over ${totalS} s`;
    return `stages ${targets} workers over ${totalS} s on ${this.agents} agent${this.agents === 1 ? '' : 's'}`;
  }

  capacity(): Capacity | undefined {
    return undefined;
  }

  private elapsedMs(): number | undefined {
    const sinceMs = this.ctx.runningSinceMs?.();
    return sinceMs === undefined ? undefined : Math.max(0, this.ctx.nowS() * 1000 - sinceMs);
  }

  private workersNow(): number {
    return Math.round(rampRateAt(this.points, this.elapsedMs() ?? 0));
  }
}
