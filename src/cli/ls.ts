import { renderTable } from '../output/table';
import { CommandSpec } from './command';
import { GlobalArgs } from './context';

export const LS_HEADERS = ['TaskName', 'TaskId', 'Region', 'AvailableAgent', 'Status', 'CreateTime'] as const;

/** `bench ls` (alias `list`). */
export const lsCommand: CommandSpec<GlobalArgs> = {
  command: ['ls', 'list'],
  describe: 'List stress-testing tasks',
  builder: (y) => y,
  run: async (_args, ctx) => {
    const conn = await ctx.connect();
    const res = await conn.client.listTasks();
    if (ctx.json) {
      ctx.out.json(res);
      return;
    }
    ctx.out.requestId(res.RequestId);
    ctx.out.print(renderTable(LS_HEADERS, res.Tasks.map((t) => [t.TaskName, t.TaskId, t.Region, t.AvailableAgent, t.Status, t.CreateTime])));
  },
};
