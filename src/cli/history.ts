import { HistoryRound } from '../contract';
import { formatNumber, formatRate } from '../output/format';
import { Cell, renderTable } from '../output/table';
import { CommandSpec } from './command';
import { GlobalArgs } from './context';

interface HistoryArgs extends GlobalArgs {
  service: string;
}

function historyTable(rounds: readonly HistoryRound[]): string {
  return renderTable(
    ['End', 'Round', 'Mode', 'Capacity QPS', 'QPS', 'TP99 (ms)', 'Error rate', 'Outcome'],
    rounds.map((r): Cell[] => [r.EndTime, `${r.TaskName}:${r.RoundId}`, r.Mode, r.CapacityQPS === undefined ? '-' : formatNumber(r.CapacityQPS), formatNumber(r.QPS), formatNumber(r.TP99, 3), formatRate(r.ErrorRate), r.Outcome]),
    { align: [undefined, undefined, undefined, 'right', 'right', 'right', 'right', undefined] },
  );
}

/** `bench history SERVICE`: the finished rounds against one service the controller still keeps, newest first. */
export const historyCommand: CommandSpec<HistoryArgs> = {
  command: 'history <service>',
  describe: 'List the finished rounds run against a service, newest first (capacity or QPS, TP99, error rate, outcome)',
  builder: (y) => y.positional('service', { type: 'string', demandOption: true, describe: 'The service name' }),
  run: async (args, ctx) => {
    const conn = await ctx.connect();
    const res = await conn.client.getHistory(args.service);
    if (ctx.json) {
      ctx.out.json(res);
      return;
    }
    ctx.verboseRequestId(res.RequestId);
    if (res.Rounds.length === 0) {
      ctx.out.print(`No finished round against service ${res.ServiceName}.`);
      return;
    }
    ctx.out.print(historyTable(res.Rounds));
  },
};
