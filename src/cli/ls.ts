import { tableCommand } from './table-command';

export const LS_HEADERS = ['TaskName', 'TaskId', 'Region', 'AvailableAgent', 'Status', 'CreateTime'] as const;

/** `bench ls` (alias `list`). */
export const lsCommand = tableCommand({
  command: ['ls', 'list'],
  describe: 'List stress-testing tasks',
  headers: LS_HEADERS,
  fetch: (client) => client.listTasks(),
  rows: (res) => res.Tasks.map((t) => [t.TaskName, t.TaskId, t.Region, t.AvailableAgent, t.Status, t.CreateTime]),
});
