import { Define, DefineValue, isFinalStatus, parseDefine, definesToUpdate } from '../contract';
import { CommandSpec } from './command';
import { isFailureStatus, taskStatusError } from './errors';
import { pollTask } from './poll';
import { NameArgs, withName } from './task-command';

interface UpdateArgs extends NameArgs {
  D: string[];
}

/** The update body's `optional` from the -D values, checked by the contract's parser. */
export function updateFromDefines(values: readonly string[]): Record<string, DefineValue> {
  const defines: Define[] = values.map(parseDefine);
  return definesToUpdate(defines);
}

/** `bench update NAME -Doptional.KEY=VALUE ...`: applied live to a running task; a finished one keeps it for its next start. */
export const updateCommand: CommandSpec<UpdateArgs> = {
  command: 'update <name>',
  describe: 'Change a running task live: -Doptional.KEY=VALUE (repeatable)',
  builder: (y) =>
    withName(y).option('D', {
      alias: 'define',
      type: 'string',
      array: true,
      requiresArg: true,
      demandOption: 'give at least one -Doptional.KEY=VALUE, e.g. -Doptional.concurrency=4',
      describe: 'optional.KEY=VALUE to change',
    }),
  run: async (args, ctx) => {
    const optional = updateFromDefines(args.D);
    const conn = await ctx.connect();
    const res = await conn.client.updateTask(conn.region, args.name, optional);
    if (ctx.json) ctx.out.json(res);
    else ctx.out.requestId(res.RequestId);
    if (isFinalStatus(res.Status)) {
      // no round runs: the controller only saved the config, so there is nothing to follow
      if (!ctx.json) ctx.out.ok(`Benchmark task ${args.name} is ${res.Status}: the update is saved and applies from the next start`);
      return;
    }
    if (!ctx.json) {
      // The reference's exact line (its spacing included).
      ctx.out.ok(
        `Running [TaskName: ${res.TaskName}, DesiredAgent:${res.DesiredAgent}, AvailableAgent: ${res.AvailableAgent}, Message: Benchmark task is Updating]`,
      );
    }
    const task = await pollTask(ctx, conn, args.name, {
      done: (t) => t.Status === 'Running' || isFinalStatus(t.Status),
      agentLines: false,
      goal: 'back to Running',
    });
    if (isFailureStatus(task.Status)) throw taskStatusError(task);
    if (ctx.json) return;
    if (task.Status === 'Running') ctx.out.ok(`Benchmark task ${args.name} was updated successfully`);
    else ctx.out.ok(`Benchmark task is ${task.Status}`);
  },
};
