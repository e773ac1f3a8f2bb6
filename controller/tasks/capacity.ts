import { BenchError, isFinalStatus, TaskSpec } from '../../src/contract';
import { taskMode } from '../modes';
import { runOptional } from './prepare';
import { TaskRecord } from './record';

export interface CapacityLimits {
  /** Most agents one task may run. */
  maxAgents: number;
  /** Most tasks not in a final status at once (create and start beyond it are refused). */
  maxRunningTasks: number;
  /** Most agents across those tasks: checked at create, start and update, and granted as auto/scan rounds grow. */
  maxAgentsTotal: number;
}

/** The controller-wide caps on running tasks and their agents. */
export class TaskCapacity {
  constructor(private readonly limits: CapacityLimits, private readonly records: () => Iterable<TaskRecord>) {}

  /** Refuses a task that asks for more agents than one task may run. */
  checkAgentCount(agentCount: number): void {
    if (agentCount > this.limits.maxAgents) {
      throw new BenchError('InvalidField', `optional.agentCount: must be <= ${this.limits.maxAgents} (the controller's --max-agents)`, { field: 'optional.agentCount' });
    }
  }

  /** The agents a task starts a round with: auto and scan begin with one and grow within --max-agents-total. */
  startingAgents(spec: TaskSpec): number {
    const optional = runOptional(spec);
    return taskMode(optional, spec.llm).startingAgents(this.limits.maxAgents);
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
