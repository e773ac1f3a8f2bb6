import { CommandSpec } from './command';
import { GlobalArgs } from './context';
import { FollowFlags, followStarted } from './follow';
import { withFollowFlags } from './follow-flags';
import { confirmOrCancel, withName } from './task-command';

interface StartArgs extends GlobalArgs, FollowFlags {
  name: string;
}

/** `bench start NAME`: a new round from the last updated config; then the same as create. */
export const startCommand: CommandSpec<StartArgs> = {
  command: 'start <name>',
  describe: 'Start a new round of a stopped task (from its last updated config)',
  builder: (y) => withFollowFlags(withName(y)),
  run: async (args, ctx) => {
    const conn = await ctx.connect();
    if (!(await confirmOrCancel(ctx, 'start', args.name, conn.region))) return;
    const res = await conn.client.startTask(conn.region, args.name);
    if (ctx.json) {
      if (!args.wait) ctx.out.json(res);
    } else {
      ctx.verboseRequestId(res.RequestId);
      ctx.out.ok(`Task [${args.name}] is starting`);
    }
    return followStarted(ctx, conn, args.name, args);
  },
};
