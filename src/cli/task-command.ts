import { Argv } from 'yargs';
import type { Connection } from '../api/connect';
import type { SimpleTaskResponse } from '../contract';
import { CliContext, GlobalArgs } from './context';

/** Helpers of the commands that address one task by name. */

export interface NameArgs extends GlobalArgs {
  name: string;
}

export function withName<T extends GlobalArgs>(y: Argv<T>): Argv<T & { name: string }> {
  return y.positional('name', { type: 'string', demandOption: true, describe: 'Task name' });
}

/**
 * `Are you sure to <verb> the benchmark task [N] in [REGION]? [Y/n]`.
 * A "no" is not a failure: prints `Cancelled.` and the command exits 0.
 */
export async function confirmOrCancel(ctx: CliContext, verb: string, taskName: string, region: string): Promise<boolean> {
  const ok = await ctx.confirm(`Are you sure to ${verb} the benchmark task [${taskName}] in [${region}]?`);
  if (!ok) {
    if (ctx.json) ctx.out.note('Cancelled.');
    else ctx.out.print('Cancelled.');
  }
  return ok;
}

/**
 * What stop, start and delete do first: connect, ask (a "no" ends the
 * command: undefined), send `call`, and print the controller's answer: its
 * JSON under --json (unless `answerJson` is false: the command prints the
 * task's final JSON instead), else the request id (--verbose) and `accepted`.
 * The connection, for what the command then waits on.
 */
export async function confirmAndSend(
  ctx: CliContext,
  verb: string,
  taskName: string,
  call: (conn: Connection) => Promise<SimpleTaskResponse>,
  accepted: string,
  answerJson = true,
): Promise<Connection | undefined> {
  const conn = await ctx.connect();
  if (!(await confirmOrCancel(ctx, verb, taskName, conn.region))) return undefined;
  const res = await call(conn);
  if (ctx.json) {
    if (answerJson) ctx.out.json(res);
  } else {
    ctx.verboseRequestId(res.RequestId);
    ctx.out.ok(accepted);
  }
  return conn;
}
