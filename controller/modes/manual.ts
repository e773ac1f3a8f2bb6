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

  constructor(private optional: ResolvedOptional, private readonly ctx: ModeContext) {}

  desiredAgents(): number {
    return this.optional.agentCount;
  }

  loadFor(_index: number, count: number): LoadShape {
    const { concurrency, maxQPS } = this.optional;
    return { kind: 'closed', concurrency, maxQps: maxQPS === null ? null : splitRate(maxQPS, count) };
  }

  onSecond(): boolean {
    return false;
  }

  update(optional: ResolvedOptional): boolean {
    const before = this.optional;
    const changed = optional.agentCount !== before.agentCount || optional.concurrency !== before.concurrency || optional.maxQPS !== before.maxQPS;
    if (changed) {
      this.ctx.event('update', `manual: ${before.agentCount} x ${before.concurrency} -> ${optional.agentCount} agents x ${optional.concurrency} workers${optional.maxQPS !== null ? `, capped at ${optional.maxQPS} QPS` : ''}`);
    }
    this.optional = optional;
    return changed;
  }

  targetQps(): number | undefined {
    return this.optional.maxQPS ?? undefined;
  }

  concurrency(): number {
    return this.optional.agentCount * this.optional.concurrency;
  }

  describeTarget(): string {
    const { agentCount, concurrency, maxQPS } = this.optional;
    const cap = maxQPS !== null ? `, max ${maxQPS} QPS` : '';
    return `${agentCount} agent${agentCount === 1 ? '' : 's'} x ${concurrency} workers${cap}`;
  }

  capacity(): Capacity | undefined {
    return undefined;
  }
}
