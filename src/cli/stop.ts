import { isFinalStatus } from '../contract';
import { CommandSpec } from './command';
import { taskStatusError } from './errors';
import { pollTask } from './poll';
import { NameArgs, confirmAndSend, withName } from './task-command';

/** `bench stop NAME`: the round ends, its report is written; the task stays (Stopped). */
export const stopCommand: CommandSpec<NameArgs> = {
  command: 'stop <name>',
  describe: 'Stop a running task (its report is written)',
  builder: withName,
  run: async (args, ctx) => {
    const conn = await confirmAndSend(ctx, 'stop', args.name, (c) => c.client.stopTask(c.region, args.name), `Task [${args.name}] is stopping`);
    if (!conn) return;
    const task = await pollTask(ctx, conn, args.name, { done: (t) => isFinalStatus(t.Status), agentLines: !ctx.json, goal: 'to Stopped' });
    if (task.Status !== 'Stopped') throw taskStatusError(task);
    if (!ctx.json) ctx.out.ok('Benchmark task is stopped');
  },
};
