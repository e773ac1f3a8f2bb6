import { BenchError, ErrorCode, EXIT_CODES, TaskStatus } from '../contract';

/**
 * Errors the CLI raises itself whose printed label is not an API error code:
 * a task that ended in a failure status prints `[ERROR] CreateFailed: ...`,
 * a wait that ran out prints `[ERROR] Timeout: ...`. The underlying `code`
 * stays a contract code so BenchError handling elsewhere keeps working.
 */
export class CliError extends BenchError {
  constructor(
    /** What the CLI prints before the colon. */
    readonly label: string,
    code: ErrorCode,
    message: string,
    readonly exitCode = 1,
    resource?: string,
  ) {
    super(code, message, { resource });
    this.name = 'CliError';
  }
}

/** Statuses that mean the command's goal can no longer be reached. */
export const FAILURE_STATUSES: readonly TaskStatus[] = ['CreateFailed', 'UpdateFailed', 'Terminated', 'Error'];

export function isFailureStatus(status: TaskStatus): boolean {
  return FAILURE_STATUSES.includes(status);
}

/**
 * `[ERROR] CreateFailed: <the controller's Message>`. `judged`: the command
 * exits by the verdict (`--wait`), where a task that failed to start has no
 * result (98).
 */
export function taskStatusError(task: { TaskName: string; Status: TaskStatus; Message: string }, judged = false): CliError {
  const exitCode = judged && task.Status === 'CreateFailed' ? EXIT_CODES.noResult : EXIT_CODES.usageOrApi;
  return new CliError(task.Status, 'TaskConflict', task.Message || `benchmark task ${task.TaskName} is ${task.Status}`, exitCode, task.TaskName);
}

export function waitTimeoutError(message: string, taskName: string): CliError {
  return new CliError('Timeout', 'TaskConflict', message, 1, taskName);
}

/** CTRL+C while following a task: it keeps running, and the line says how to follow or stop it; 130 is the shell's code for SIGINT. */
export function interruptedError(taskName: string): CliError {
  return new CliError(
    'Interrupted',
    'Cancelled',
    `stopped following; benchmark task ${taskName} keeps running. Follow it with: eascmd bench visualize ${taskName} (or eascmd bench desc ${taskName}); stop it with: eascmd bench stop ${taskName}`,
    130,
    taskName,
  );
}
