import { CommandSpec } from './command';
import { GlobalArgs } from './context';
import { FollowFlags, followStarted } from './follow';
import { withFollowFlags } from './follow-flags';
import { confirmAndSend, withName } from './task-command';

interface StartArgs extends GlobalArgs, FollowFlags {
  name: string;
}

/** `bench start NAME`: a new round from the last updated config; then the same as create. */
export const startCommand: CommandSpec<StartArgs> = {
  command: 'start <name>',
  describe: 'Start a new round of a stopped task (from its last updated config)',
  builder: (y) => withFollowFlags(withName(y)),
  run: async (args, ctx) => {
    // with --wait, --json prints the finished task, not this answer
    const conn = await confirmAndSend(ctx, 'start', args.name, (c) => c.client.startTask(c.region, args.name), `Task [${args.name}] is starting`, !args.wait);
    if (!conn) return;
    return followStarted(ctx, conn, args.name, args);
  },
};
