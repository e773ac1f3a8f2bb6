import { TaskDetail } from '../contract';
import { formatCapacity, formatMs, formatNumber, formatRate } from '../output/format';
import { renderKeyValueTable } from '../output/table';
import { CommandSpec } from './command';
import { NameArgs, withName } from './task-command';

/** Strings longer than this are shortened in the Config cell (base64 bodies can be megabytes). */
const MAX_CONFIG_STRING = 120;

function shorten(value: unknown): unknown {
  if (typeof value === 'string' && value.length > MAX_CONFIG_STRING) {
    return `${value.slice(0, 48)}...(${value.length} chars)`;
  }
  if (Array.isArray(value)) return value.map(shorten);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shorten(v)]));
  }
  return value;
}

/** The rows of `bench desc`, in the order of SPEC 2.2. */
export function descRows(task: TaskDetail): [string, string][] {
  const rows: [string, string][] = [
    ['TaskName', task.TaskName],
    ['TaskId', task.TaskId],
    ['ServiceName', task.ServiceName],
    ['Region', task.Region],
    ['DesiredAgent', String(task.DesiredAgent)],
    ['AvailableAgent', String(task.AvailableAgent)],
    ['Status', task.Status],
    ['Message', task.Message],
    ['CreateTime', task.CreateTime],
    ['UpdateTime', task.UpdateTime],
    ['Config', JSON.stringify(shorten(task.Config), null, 2)],
  ];
  // Live figures exist while running and after a round.
  if (task.CurrentQPS !== undefined) rows.push(['CurrentQPS', formatNumber(task.CurrentQPS)]);
  if (task.TP99 !== undefined) rows.push(['TP99', formatMs(task.TP99)]);
  if (task.ErrorRate !== undefined) rows.push(['ErrorRate', formatRate(task.ErrorRate)]);
  if (task.Capacity) rows.push(['Capacity', formatCapacity(task.Capacity)]);
  return rows;
}

export function renderDesc(task: TaskDetail): string {
  return renderKeyValueTable(descRows(task));
}

/** `bench desc NAME`. */
export const descCommand: CommandSpec<NameArgs> = {
  command: 'desc <name>',
  describe: 'Describe a stress-testing task',
  builder: withName,
  run: async (args, ctx) => {
    const conn = await ctx.connect();
    const task = await conn.client.getTask(conn.region, args.name);
    if (ctx.json) {
      ctx.out.json(task);
      return;
    }
    ctx.verboseRequestId(task.RequestId);
    ctx.out.print(renderDesc(task));
  },
};
