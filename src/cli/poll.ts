import { Connection } from '../api/connect';
import { ApiError } from '../api/errors';
import { BenchError, GetTaskResponse } from '../contract';
import { agentLine, agentPhrase } from './agent-line';
import { CliContext } from './context';
import { isFailureStatus, waitTimeoutError } from './errors';

/**
 * Polling GET task towards a goal: shared by create/start (to Running),
 * update (back to Running), stop (to Stopped) and delete (to 404).
 */

export interface PollOptions {
  /** The goal: polling ends when this holds. */
  done: (task: GetTaskResponse) => boolean;
  /** Print `[OK] [Agnet: a/d]: <phrase>` whenever the phrase (the task's state) changes. */
  agentLines: boolean;
  /** For the timeout message: "did not get <goal>", e.g. "to Running". */
  goal: string;
  /** Ends the polling when it rejects (CTRL+C: see interrupt.ts). */
  interrupt?: Promise<never>;
}

/**
 * GET with a grace period for a controller that briefly does not answer
 * (restarting, overloaded): a long --wait should not die on one blip.
 */
export async function getTaskPatiently(ctx: CliContext, conn: Connection, taskName: string): Promise<GetTaskResponse> {
  const giveUpAt = Date.now() + ctx.timing.unreachableGraceMs;
  for (;;) {
    try {
      return await conn.client.getTask(conn.region, taskName);
    } catch (err) {
      if (!(err instanceof BenchError && err.code === 'ControllerUnreachable') || Date.now() >= giveUpAt) throw err;
      await ctx.sleep(ctx.timing.pollIntervalMs);
    }
  }
}

/**
 * Polls GET task every pollIntervalMs until `done`. Times out only when the
 * task shows no change (status, agents, message) for statusTimeoutMs, so a
 * slow but progressing start (data download, many agents) is not cut short.
 */
export async function pollTask(ctx: CliContext, conn: Connection, taskName: string, options: PollOptions): Promise<GetTaskResponse> {
  let lastPhrase = '';
  let lastState = '';
  let deadline = Date.now() + ctx.timing.statusTimeoutMs;
  for (;;) {
    const reading = getTaskPatiently(ctx, conn, taskName);
    const task = await (options.interrupt ? Promise.race([reading, options.interrupt]) : reading);
    // One line per state, as the reference prints them; agents coming up
    // one by one show in `bench desc` (and the timeout message below). A
    // failure is never an [OK] line: the command ends on it with its
    // `[ERROR] <Status>: <reason>` line instead.
    const phrase = agentPhrase(task.Status, task.Message);
    if (options.agentLines && phrase !== lastPhrase && !isFailureStatus(task.Status)) ctx.out.ok(agentLine(task));
    lastPhrase = phrase;
    const state = `${task.Status}|${task.AvailableAgent}/${task.DesiredAgent}|${task.Message}`;
    if (state !== lastState) deadline = Date.now() + ctx.timing.statusTimeoutMs;
    lastState = state;
    if (options.done(task)) return task;
    if (Date.now() >= deadline) {
      throw waitTimeoutError(
        `benchmark task ${taskName} did not get ${options.goal} (still ${task.Status}: ${task.Message}, no change for ${Math.round(ctx.timing.statusTimeoutMs / 1000)} s); ` +
          `it may still get there, see: eascmd bench desc ${taskName}`,
        taskName,
      );
    }
    await (options.interrupt ? Promise.race([ctx.sleep(ctx.timing.pollIntervalMs), options.interrupt]) : ctx.sleep(ctx.timing.pollIntervalMs));
  }
}

/** Polls until GET answers 404: the task and its reports are gone. */
export async function waitDeleted(ctx: CliContext, conn: Connection, taskName: string): Promise<void> {
  const deadline = Date.now() + ctx.timing.statusTimeoutMs;
  for (;;) {
    try {
      const task = await getTaskPatiently(ctx, conn, taskName);
      if (Date.now() >= deadline) {
        throw waitTimeoutError(`benchmark task ${taskName} is still ${task.Status} after ${Math.round(ctx.timing.statusTimeoutMs / 1000)} s`, taskName);
      }
    } catch (err) {
      if (err instanceof ApiError && err.responseStatus === 404) return;
      throw err;
    }
    await ctx.sleep(ctx.timing.pollIntervalMs);
  }
}
