import { RoundResultResponse } from '../contract';
import { renderJunit } from '../output/junit';
import { CommandSpec } from './command';
import { NameArgs, withName } from './task-command';

const REPORT_FORMATS = ['html', 'json', 'junit'] as const;
type ReportFormat = (typeof REPORT_FORMATS)[number];

interface ReportArgs extends NameArgs {
  round?: number;
  format: ReportFormat;
}

/**
 * `bench report NAME [--round ID] [--format html|json|junit]`: the URL of
 * the round's HTML report (409 ReportNotReady before Stopped), or the round
 * whole for CI: JSON in the versioned `eas-bench/round-result/v1` schema, or
 * JUnit XML with one testcase per threshold and one for the outcome.
 */
export const reportCommand: CommandSpec<ReportArgs> = {
  command: 'report <name>',
  describe: 'Print the URL of the report of the last finished round, or the round as JSON or JUnit XML for CI',
  builder: (y) =>
    withName(y)
      .option('round', { type: 'number', requiresArg: true, describe: 'The round (default: the last one)' })
      .option('format', { choices: REPORT_FORMATS, default: 'html' as ReportFormat, describe: 'html: the report URL; json: the round result (schema eas-bench/round-result/v1); junit: JUnit XML' }),
  run: async (args, ctx) => {
    const conn = await ctx.connect();
    if (args.format !== 'html') {
      const { RequestId: _id, ...round }: RoundResultResponse = await conn.client.getRoundResult(conn.region, args.name, args.round);
      if (args.format === 'junit') ctx.io.stdout.write(renderJunit(round));
      else ctx.out.json(round);
      return;
    }
    const res = await conn.client.getReport(conn.region, args.name, args.round);
    if (ctx.json) {
      ctx.out.json(res);
      return;
    }
    ctx.verboseRequestId(res.RequestId);
    ctx.out.ok(`Benchmark task ${args.name} report url: ${res.ReportUrl}`);
  },
};
