import { renderTable } from '../output/table';
import { CommandSpec } from './command';
import { GlobalArgs } from './context';

export const AGENTS_HEADERS = ['AgentId', 'Host', 'Address', 'State', 'Task'] as const;

/** `bench agents`: the pool (idle and busy) under `--agent-launcher pool`, else the agents of running rounds. */
export const agentsCommand: CommandSpec<GlobalArgs> = {
  command: 'agents',
  describe: 'List the agents: the pool, or those of running tasks',
  builder: (y) => y,
  run: async (_args, ctx) => {
    const conn = await ctx.connect();
    const res = await conn.client.listAgents();
    if (ctx.json) {
      ctx.out.json(res);
      return;
    }
    ctx.out.requestId(res.RequestId);
    const rows = res.Agents.map((a) => [a.AgentId, a.Host ?? '', a.Address ?? '', a.State, a.TaskName ? `${a.TaskName} (round ${a.RoundId ?? '?'})` : '']);
    ctx.out.print(renderTable(AGENTS_HEADERS, rows));
  },
};
