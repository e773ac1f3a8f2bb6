import { CommandSpec } from './command';
import { waitDeleted } from './poll';
import { NameArgs, confirmOrCancel, withName } from './task-command';

/** `bench delete NAME`: the task and its reports are removed. */
export const deleteCommand: CommandSpec<NameArgs> = {
  command: 'delete <name>',
  describe: 'Delete a task and its reports',
  builder: withName,
  run: async (args, ctx) => {
    const conn = await ctx.connect();
    if (!(await confirmOrCancel(ctx, 'delete', args.name, conn.region))) return;
    const res = await conn.client.deleteTask(conn.region, args.name);
    if (ctx.json) ctx.out.json(res);
    else {
      ctx.verboseRequestId(res.RequestId);
      ctx.out.ok(`Benchmark task ${args.name} is Deleting`);
    }
    await waitDeleted(ctx, conn, args.name);
    if (!ctx.json) ctx.out.ok('Benchmark task was deleted successfully');
  },
};
