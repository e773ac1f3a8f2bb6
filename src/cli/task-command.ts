import { Argv } from 'yargs';
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
