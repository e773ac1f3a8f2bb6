import { parsePercentileList, parseSteadyChoice } from '../contract';
import { llmSections } from '../output/summary';
import { CommandSpec } from './command';
import { NameArgs, withName } from './task-command';

interface RecomputeArgs extends NameArgs {
  steady?: string;
  percentiles?: string;
}

/**
 * `bench recompute NAME [--steady auto|none|FROM-TO] [--percentiles LIST]`:
 * the LLM tables of the task's current (or last) round computed again,
 * exactly, from its stored records, without sending any load (AISBench's
 * `--reuse`). The live and stored tables come from per-second histograms;
 * these come from every request.
 */
export const recomputeCommand: CommandSpec<RecomputeArgs> = {
  command: 'recompute <name>',
  describe: 'Recompute the LLM tables of a task from its stored records (exact percentiles; no load is sent)',
  builder: (y) =>
    withName(y)
      .option('steady', { type: 'string', requiresArg: true, describe: 'Steady stage: auto (AISBench rule, default), none, or FROM-TO seconds after the first send' })
      .option('percentiles', { type: 'string', requiresArg: true, describe: "Percentiles of the tables, e.g. 50,90,99.9 (default: the task's llm.percentiles)" })
      .check((argv) => {
        const steady = parseSteadyChoice(argv.steady ?? 'auto');
        if ('problem' in steady) return `--steady ${steady.problem}`;
        const percentiles = argv.percentiles === undefined ? [] : parsePercentileList(argv.percentiles);
        if (typeof percentiles === 'string') return `--percentiles ${percentiles}`;
        return true;
      }),
  run: async (args, ctx) => {
    const conn = await ctx.connect();
    const res = await conn.client.recomputeLlm(conn.region, args.name, { steady: args.steady, percentiles: args.percentiles });
    if (ctx.json) {
      ctx.out.json(res);
      return;
    }
    ctx.out.requestId(res.RequestId);
    ctx.out.stdout.write(`LLM tables of benchmark task ${res.TaskName}, round ${res.RoundId}, recomputed from ${res.Records} records:\n`);
    ctx.out.stdout.write(`${llmSections(res.LLM).join('\n')}\n`);
  },
};
