import { TaskStatus, TaskSummary } from '../contract';
import { isFailureStatus } from './errors';

/**
 * The agent progress line of create, start and stop, in the reference's own
 * words: `[Agnet: 0/1]: Succeed to start benchmark master`, `[Agnet: 1/1]:
 * Benchmark task is Running`, `[Agnet: 0/1]: Benchmark task is Stopped`.
 *
 * "Agnet" is the reference's spelling (eascmd's sample outputs, every one of
 * them), kept on purpose: scripts written against eascmd match on it.
 *
 * The phrase follows the task's status, not its free-text Message, because
 * the reference prints a fixed phrase per state; the Message (which agent
 * connected, why a round ended) stays in `bench desc`. A failure's phrase
 * is its reason, used to notice the change; it is never printed as an
 * `[OK]` line (poll.ts): the command ends on its `[ERROR]` line instead.
 */

/** Statuses during which the round still sends: the reference says Running until its agents have stopped. */
const STILL_RUNNING: readonly TaskStatus[] = ['Running', 'Updating', 'Stopping'];

export function agentPhrase(status: TaskStatus, message: string): string {
  // the controller accepted the round (the reference's "master"); its agents are coming up
  if (status === 'Creating') return 'Succeed to start benchmark master';
  if (STILL_RUNNING.includes(status)) return 'Benchmark task is Running';
  if (isFailureStatus(status)) return message;
  return `Benchmark task is ${status}`;
}

/** `[Agnet: available/desired]: <phrase>` (the Lines writer adds `[OK] `). */
export function agentLine(task: Pick<TaskSummary, 'Status' | 'Message' | 'AvailableAgent' | 'DesiredAgent'>): string {
  return `[Agnet: ${task.AvailableAgent}/${task.DesiredAgent}]: ${agentPhrase(task.Status, task.Message)}`;
}
