import { AgentView, errorClassLines, formatErrorClassLine, NamedFigures, TaskDetail, ThresholdResult } from '../contract';
import { formatCapacity, formatMs, formatNumber, formatRate } from '../output/format';
import { renderDescConfig } from '../output/desc-config';
import { renderKeyValueTable } from '../output/table';
import { CommandSpec } from './command';
import { NameArgs, withName } from './task-command';

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
    ['Config', renderDescConfig(task.Config)],
  ];
  // Live figures exist while running and after a round.
  if (task.CurrentQPS !== undefined) rows.push(['CurrentQPS', formatNumber(task.CurrentQPS)]);
  if (task.TP99 !== undefined) rows.push(['TP99', formatMs(task.TP99)]);
  if (task.ErrorRate !== undefined) rows.push(['ErrorRate', formatRate(task.ErrorRate)]);
  // why requests failed (SPEC 7): `599 connection refused: 96,704 (100.00%)`, one line a class
  const causes = errorClassLines(task.Result?.ErrorClasses, task.Result?.TotalRequests ?? 0);
  if (causes.length > 0) rows.push(['ErrorCauses', causes.map(formatErrorClassLine).join('\n')]);
  // a task's named requests, one line each (docs/data.md)
  if (task.Result?.ByName?.length) rows.push(['Requests', task.Result.ByName.map(namedLine).join('\n')]);
  if (task.Capacity) rows.push(['Capacity', formatCapacity(task.Capacity)]);
  const thresholds = task.Verdict?.Thresholds ?? [];
  if (thresholds.length > 0) rows.push(['Thresholds', thresholds.map(thresholdLine).join('\n')]);
  // the verdict itself is the Message once the round ended
  // which host runs each agent: under the pool launcher they are other machines
  if (task.Agents?.length) rows.push(['Agents', task.Agents.map(agentLine).join('\n')]);
  return rows;
}

/** `search: 3000 requests, 0.00% errors, 100 QPS, TP50 1.2 ms, TP90 ..., TP99.9 4.1 ms`. */
function namedLine(n: NamedFigures): string {
  const tps = ([['TP50', n.TP50], ['TP90', n.TP90], ['TP99', n.TP99], ['TP99.9', n.TP999]] as const).map(([k, v]) => `${k} ${formatMs(v)}`).join(', ');
  return `${n.Name}: ${formatNumber(n.Requests)} requests, ${formatRate(n.ErrorRate)} errors, ${formatNumber(n.QPS)} QPS, ${tps}`;
}

/** `TP99 < 200: 12.3 held`. */
function thresholdLine(t: ThresholdResult): string {
  return `${t.Metric} ${t.Expr}: ${t.Value === null ? 'nothing measured' : formatNumber(t.Value, 4)} ${t.Passed ? 'held' : 'FAILED'}`;
}

/** `benchmark-x-10001-1 ready on host-a (10.0.0.7)`. */
export function agentLine(agent: AgentView): string {
  const where = agent.Host ? ` on ${agent.Host}${agent.Address && agent.Address !== agent.Host ? ` (${agent.Address})` : ''}` : '';
  return `${agent.AgentId} ${agent.State}${where}`;
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
    // --json has the task's data.content whole; the table cuts it itself
    const task = await conn.client.getTask(conn.region, args.name, { wholeConfig: ctx.json });
    if (ctx.json) {
      ctx.out.json(task);
      return;
    }
    ctx.verboseRequestId(task.RequestId);
    ctx.out.print(renderDesc(task));
  },
};
