import { Capacity, LoadShape, ResolvedOptional } from '../../src/contract';
import { ModeContext, ModeDriver, splitRate, TaskMode } from './base';

export function manualTaskMode(optional: ResolvedOptional): TaskMode {
  return {
    displayName: 'manual',
    agentsFromTask: true,
    startingAgents: (maxAgents) => Math.min(optional.agentCount, maxAgents),
    create: (ctx) => new ManualMode(optional, ctx),
  };
}

/** manual: agentCount agents x concurrency closed-loop workers, changed only by `bench update`. */
export class ManualMode implements ModeDriver {
  readonly mode = 'manual' as const;
  private agentCount: number;
  private workers: number;
  private maxQps: number | null;

  constructor(optional: ResolvedOptional, private readonly ctx: ModeContext) {
    this.agentCount = optional.agentCount;
    this.workers = optional.concurrency;
    this.maxQps = optional.maxQps;
  }

  desiredAgents(): number {
    return this.agentCount;
  }

  loadFor(_index: number, count: number): LoadShape {
    return { kind: 'closed', concurrency: this.workers, maxQps: this.maxQps === null ? null : splitRate(this.maxQps, count) };
  }

  onSecond(): boolean {
    return false;
  }

  update(optional: ResolvedOptional): boolean {
    const changed = optional.agentCount !== this.agentCount || optional.concurrency !== this.workers || optional.maxQps !== this.maxQps;
    if (changed) {
      this.ctx.event('update', `manual: ${this.agentCount} x ${this.workers} -> ${optional.agentCount} agents x ${optional.concurrency} workers${optional.maxQps !== null ? `, capped at ${optional.maxQps} QPS` : ''}`);
    }
    this.agentCount = optional.agentCount;
    this.workers = optional.concurrency;
    this.maxQps = optional.maxQps;
    return changed;
  }

  targetQps(): number | undefined {
    return this.maxQps ?? undefined;
  }

  concurrency(): number {
    return this.agentCount * this.workers;
  }

  describeTarget(): string {
    const cap = this.maxQps !== null ? `, max ${this.maxQps} QPS` : '';
    return `${this.agentCount} agent${this.agentCount === 1 ? '' : 's'} x ${this.workers} workers${cap}`;
  }

  capacity(): Capacity | undefined {
    return undefined;
  }
}
