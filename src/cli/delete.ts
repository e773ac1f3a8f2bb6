import { CommandSpec } from './command';
import { waitDeleted } from './poll';
import { NameArgs, confirmAndSend, withName } from './task-command';

/** `bench delete NAME`: the task and its reports are removed. */
export const deleteCommand: CommandSpec<NameArgs> = {
  command: 'delete <name>',
  describe: 'Delete a task and its reports',
  builder: withName,
  run: async (args, ctx) => {
    const conn = await confirmAndSend(ctx, 'delete', args.name, (c) => c.client.deleteTask(c.region, args.name), `Benchmark task ${args.name} is Deleting`);
    if (!conn) return;
    await waitDeleted(ctx, conn, args.name);
    if (!ctx.json) ctx.out.ok('Benchmark task was deleted successfully');
  },
};
