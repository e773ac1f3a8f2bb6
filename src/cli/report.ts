import { CommandSpec } from './command';
import { NameArgs, withName } from './task-command';

/** `bench report NAME`: the URL of the last round's report (409 ReportNotReady before Stopped). */
export const reportCommand: CommandSpec<NameArgs> = {
  command: 'report <name>',
  describe: 'Print the URL of the report of the last finished round',
  builder: withName,
  run: async (args, ctx) => {
    const conn = await ctx.connect();
    const res = await conn.client.getReport(conn.region, args.name);
    if (ctx.json) {
      ctx.out.json(res);
      return;
    }
    ctx.verboseRequestId(res.RequestId);
    ctx.out.ok(`Benchmark task ${args.name} report url: ${res.ReportUrl}`);
  },
};
