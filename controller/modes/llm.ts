import { Capacity, DEFAULTS, LLM_MODE_DEFAULTS, LlmLoad, LlmSpec, LoadShape, ResolvedOptional, TRACE_DEFAULTS } from '../../src/contract';
import { ModeContext, ModeDriver, splitInteger, splitRate, TaskMode } from './base';
import { LlmSweepMode } from './llm-sweep';

/** An llm task sets its agents (optional.agentCount) and is named by its run mode, or its test mode for the standard one. */
export function llmTaskMode(llm: LlmSpec, optional: ResolvedOptional): TaskMode {
  return {
    displayName: `llm-${llm.mode && llm.mode !== 'standard' ? llm.mode : llm.testMode}`,
    agentsFromTask: true,
    startingAgents: (maxAgents) => Math.min(optional.agentCount, maxAgents),
    create: (ctx) => (llm.testMode === 'sweep' ? new LlmSweepMode(llm, optional, ctx) : new LlmMode(llm, optional, ctx)),
  };
}

/** The test modes of one load for the whole round (sweep steps its own). */
type FixedLoadTestMode = Exclude<LlmSpec['testMode'], 'sweep'>;

/**
 * LLM tasks (SPEC 6): a fixed load for the whole round, in one of three test
 * modes. The agents (optional.agentCount, 1 by default) share it: streams and
 * rate are split, each agent's arrival generator gets its own seed derived
 * from the task's, so one agent with a given seed always sends the same schedule.
 */
export class LlmMode implements ModeDriver {
  readonly mode = 'llm' as const;
  private agentCount: number;
  private readonly llm: LlmSpec & { testMode: FixedLoadTestMode };

  constructor(llm: LlmSpec, optional: ResolvedOptional, private readonly ctx: ModeContext) {
    if (llm.testMode === 'sweep') throw new Error('llm.testMode sweep runs in LlmSweepMode');
    this.llm = { ...llm, testMode: llm.testMode };
    this.agentCount = Math.max(1, Math.min(optional.agentCount, ctx.maxAgents));
  }

  desiredAgents(): number {
    return this.agentCount;
  }

  private startConcurrency(): number {
    return Math.min(this.llm.startConcurrency ?? LLM_MODE_DEFAULTS.startConcurrency, this.totalStreams());
  }

  private totalStreams(): number {
    if (this.llm.testMode === 'throughput') return this.llm.requestCount ?? this.llm.maxConcurrency ?? DEFAULTS.llmThroughputStreams;
    return this.llm.concurrency ?? DEFAULTS.llmConcurrency;
  }

  loadFor(index: number, count: number): LoadShape {
    const load: LlmLoad = {
      kind: 'llm',
      testMode: this.llm.testMode,
      concurrency: Math.max(1, splitInteger(this.totalStreams(), index, count)),
      ratePerS: splitRate(this.llm.requestRate ?? 0, count),
      maxInFlight: this.llm.maxConcurrency !== undefined ? Math.max(1, splitInteger(this.llm.maxConcurrency, index, count)) : null,
      burstiness: this.llm.burstiness ?? DEFAULTS.llmBurstiness,
      seed: ((this.llm.seed ?? DEFAULTS.llmSeed) + index) >>> 0,
    };
    if (this.llm.testMode === 'pressure') {
      // every agent ramps its share over the same time, so the fleet's streams ramp together
      load.startConcurrency = Math.max(1, splitInteger(this.startConcurrency(), index, count));
      load.rampMs = (this.llm.rampTime ?? LLM_MODE_DEFAULTS.rampTimeS) * 1000;
    }
    return load;
  }

  onSecond(): boolean {
    return false;
  }

  update(optional: ResolvedOptional): boolean {
    const next = Math.max(1, Math.min(optional.agentCount, this.ctx.maxAgents));
    if (next === this.agentCount) return false;
    this.ctx.event('update', `llm: ${this.agentCount} -> ${next} agents`);
    this.agentCount = next;
    return true;
  }

  targetQps(): number | undefined {
    return this.llm.testMode === 'rate' ? this.llm.requestRate : undefined;
  }

  concurrency(): number | undefined {
    if (this.llm.testMode === 'rate') return this.llm.maxConcurrency;
    return this.totalStreams();
  }

  describeTarget(): string {
    switch (this.llm.testMode) {
      case 'concurrency':
        return `llm: ${this.totalStreams()} concurrent streams`;
      case 'rate':
        if (this.llm.dataset?.type === 'trace') return `llm: trace replayed at speed ${this.llm.dataset.speed ?? TRACE_DEFAULTS.speed}${this.llm.maxConcurrency !== undefined ? `, max ${this.llm.maxConcurrency} in flight` : ''}`;
        if (this.llm.mode === 'sessions') return `llm: ${this.llm.requestRate} sessions/s, burstiness ${this.llm.burstiness ?? DEFAULTS.llmBurstiness}`;
        return `llm: ${this.llm.requestRate} req/s, burstiness ${this.llm.burstiness ?? DEFAULTS.llmBurstiness}${this.llm.maxConcurrency !== undefined ? `, max ${this.llm.maxConcurrency} in flight` : ''}`;
      case 'throughput':
        return `llm: ${this.totalStreams()} requests at once`;
      case 'pressure':
        return `llm: ${this.startConcurrency()} -> ${this.totalStreams()} concurrent streams over ${this.llm.rampTime ?? LLM_MODE_DEFAULTS.rampTimeS} s, then held`;
    }
  }

  capacity(): Capacity | undefined {
    return undefined;
  }
}
