import { ControllerClient } from '../api/client';
import { Cell, renderTable } from '../output/table';
import { CommandSpec } from './command';
import { GlobalArgs } from './context';

/** What a listing command says: its syntax, the one API call it makes, and the table it prints. */
export interface TableCommandSpec<R extends { RequestId?: string }> {
  command: string | readonly string[];
  describe: string;
  headers: readonly string[];
  fetch: (client: ControllerClient) => Promise<R>;
  rows: (res: R) => readonly (readonly Cell[])[];
}

/**
 * A command without arguments that lists what the controller answers: with
 * --json the response as it came, else `[RequestId]: …` and a table.
 */
export function tableCommand<R extends { RequestId?: string }>(spec: TableCommandSpec<R>): CommandSpec<GlobalArgs> {
  return {
    command: spec.command,
    describe: spec.describe,
    builder: (y) => y,
    run: async (_args, ctx) => {
      const conn = await ctx.connect();
      const res = await spec.fetch(conn.client);
      if (ctx.json) {
        ctx.out.json(res);
        return;
      }
      ctx.out.requestId(res.RequestId);
      ctx.out.print(renderTable(spec.headers, spec.rows(res)));
    },
  };
}
