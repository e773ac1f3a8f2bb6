import * as fs from 'node:fs';
import { BenchError, InvalidFieldError, parseTaskJson, validateTask } from '../contract';
import { CommandSpec } from './command';
import { GlobalArgs } from './context';
import { FollowFlags, followStarted } from './follow';
import { withFollowFlags } from './follow-flags';

interface CreateArgs extends GlobalArgs, FollowFlags {
  file: string;
}

function readTaskFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new BenchError('InvalidParameter', `cannot read task file ${file}: ${reason}`, { resource: file });
  }
}

/** `bench create FILE`: validated locally first, so a bad file sends nothing. */
export const createCommand: CommandSpec<CreateArgs> = {
  command: 'create <file>',
  describe: 'Create a stress-testing task from a task JSON file and follow it until Running',
  builder: (y) => withFollowFlags(y.positional('file', { type: 'string', demandOption: true, describe: 'Task JSON file' })),
  run: async (args, ctx) => {
    const checked = validateTask(parseTaskJson(readTaskFile(args.file)));
    if (!checked.ok) throw new InvalidFieldError(checked.errors);
    const conn = await ctx.connect();
    const created = await conn.client.createTask(checked.task);
    if (ctx.json) {
      // With --wait the final task detail is printed instead, once.
      if (!args.wait) ctx.out.json(created);
    } else {
      ctx.out.requestId(created.RequestId);
      ctx.out.ok(`Task [${created.TaskName}] is creating`);
      if (created.Warning) ctx.out.warn(created.Warning);
    }
    return followStarted(ctx, conn, created.TaskName, args);
  },
};
