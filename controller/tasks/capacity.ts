import { BenchError, isFinalStatus, LlmSpec, ResolvedOptional } from '../../src/contract';
import { taskMode } from '../modes';
import { TaskRecord } from './record';

export interface CapacityLimits {
  /** Most agents one task may run. */
  maxAgents: number;
  /** Most tasks not in a final status at once (create and start beyond it are refused). */
  maxRunningTasks: number;
  /** Most agents across those tasks: checked at create, start and update, and granted as auto/scan rounds grow. */
  maxAgentsTotal: number;
  /** Most tasks one API key may create in any minute, whatever becomes of them (a failed task is kept for its retention too). */
  maxCreatesPerMinute: number;
}

const MINUTE_MS = 60_000;

/** The controller-wide caps on running tasks and their agents. */
export class TaskCapacity {
  /** Per key, when its creates of the last minute were made, oldest first. */
  private readonly creates = new Map<string, number[]>();

  constructor(private readonly limits: CapacityLimits, private readonly records: () => Iterable<TaskRecord>) {}

  /**
   * Refuses a create beyond the key's creates of the last minute. Only the
   * minute is remembered, so what this holds is bounded by the keys times the cap.
   */
  checkCreateRate(keyId: string, nowMs: number): void {
    const recent = this.recentCreates(keyId, nowMs);
    if (recent.length >= this.limits.maxCreatesPerMinute) {
      const waitS = Math.max(1, Math.ceil((recent[0] + MINUTE_MS - nowMs) / 1000));
      throw new BenchError('TooManyCreates', `this key created ${recent.length} tasks in the last minute, the most the controller allows (--max-creates-per-minute ${this.limits.maxCreatesPerMinute}); try again in ${waitS} s`);
    }
  }

  /** Counts a task the key created (after every check passed). */
  countCreate(keyId: string, nowMs: number): void {
    const recent = this.recentCreates(keyId, nowMs);
    recent.push(nowMs);
    this.creates.set(keyId, recent);
  }

  private recentCreates(keyId: string, nowMs: number): number[] {
    const recent = (this.creates.get(keyId) ?? []).filter((t) => t > nowMs - MINUTE_MS);
    if (recent.length === 0) this.creates.delete(keyId);
    else this.creates.set(keyId, recent);
    return recent;
  }

  /** Refuses a task that asks for more agents than one task may run. */
  checkAgentCount(agentCount: number): void {
    if (agentCount > this.limits.maxAgents) {
      throw new BenchError('InvalidField', `optional.agentCount: must be <= ${this.limits.maxAgents} (the controller's --max-agents)`, { field: 'optional.agentCount' });
    }
  }

  /** The agents a task starts a round with: auto and scan begin with one and grow within --max-agents-total. */
  startingAgents(options: ResolvedOptional, llm: LlmSpec | undefined): number {
    return taskMode(options, llm).startingAgents(this.limits.maxAgents);
  }

  /** Refuses a start (`record` undefined: a create) beyond the running tasks or the agents left. */
  checkStart(record: TaskRecord | undefined, agents: number): void {
    const running = this.activeTasks(record).length;
    if (running >= this.limits.maxRunningTasks) {
      throw new BenchError('TooManyTasks', `${running} tasks are running, the most the controller allows (--max-running-tasks ${this.limits.maxRunningTasks}); stop one or wait for one to end`);
    }
    this.checkAgents(record, agents);
  }

  checkAgents(record: TaskRecord | undefined, agents: number): void {
    const left = this.agentsLeft(record);
    if (agents > left) {
      throw new BenchError('TooManyAgents', `the task needs ${agents} agent${agents === 1 ? '' : 's'} and ${left} of the controller's ${this.limits.maxAgentsTotal} (--max-agents-total) are free`);
    }
  }

  /** What a round may run of the agents its mode wants; kept in desiredAgent at once, so two growing rounds cannot both take the last one. */
  grantAgents(record: TaskRecord, wanted: number): number {
    const granted = Math.min(wanted, this.agentsLeft(record));
    record.desiredAgent = granted;
    return granted;
  }

  private agentsLeft(record: TaskRecord | undefined): number {
    const used = this.activeTasks(record).reduce((sum, r) => sum + r.desiredAgent, 0);
    return Math.max(0, this.limits.maxAgentsTotal - used);
  }

  /** Tasks holding agents, or about to: every one not in a final status, `except` aside. */
  private activeTasks(except?: TaskRecord): TaskRecord[] {
    return [...this.records()].filter((r) => r !== except && !isFinalStatus(r.status));
  }
}
