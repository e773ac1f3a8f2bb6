import { exitCodeForVerdict } from '../contract';
import { thresholdsTable } from '../output/summary';
import { CommandSpec } from './command';
import { NameArgs, withName } from './task-command';

interface CheckArgs extends NameArgs {
  round?: number;
}

/**
 * `bench check NAME [--round ID]`: a finished round judged again, for CI
 * after the fact. Prints its thresholds and its verdict (last) and exits by
 * it: 0 passed (or no capacity), 99 a threshold failed, 98 no result.
 */
export const checkCommand: CommandSpec<CheckArgs> = {
  command: 'check <name>',
  describe: "Judge a finished round again: print its thresholds and verdict, exit by it (0 passed, 99 a threshold failed, 98 no result)",
  builder: (y) => withName(y).option('round', { type: 'number', requiresArg: true, describe: 'The round to judge (default: the last one)' }),
  run: async (args, ctx) => {
    const conn = await ctx.connect();
    const res = await conn.client.getVerdict(conn.region, args.name, args.round);
    if (ctx.json) {
      ctx.out.json(res);
      return exitCodeForVerdict(res.Verdict);
    }
    ctx.verboseRequestId(res.RequestId);
    const table = thresholdsTable(res.Verdict.Thresholds);
    ctx.out.print(`Benchmark task ${res.TaskName}, round ${res.RoundId} (${res.Status}):`);
    if (table) ctx.out.print(table);
    ctx.out.print(res.Verdict.Text);
    return exitCodeForVerdict(res.Verdict);
  },
};
