import { runStatsview } from '../statsview';
import { CommandSpec } from './command';
import { NameArgs, withName } from './task-command';

/** `bench visualize NAME`: (re)open the live page; CTRL+C closes it, never the task. */
export const visualizeCommand: CommandSpec<NameArgs> = {
  command: 'visualize <name>',
  describe: 'Open the live statsview page of a task',
  builder: withName,
  run: async (args, ctx) => {
    const conn = await ctx.connect();
    await runStatsview({ client: conn.client, region: conn.region, taskName: args.name, configPath: conn.configPath, out: ctx.out });
  },
};
