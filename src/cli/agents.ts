import { tableCommand } from './table-command';

export const AGENTS_HEADERS = ['AgentId', 'Host', 'Address', 'State', 'Task'] as const;

/** `bench agents`: the pool (idle and busy) under `--agent-launcher pool`, else the agents of running rounds. */
export const agentsCommand = tableCommand({
  command: 'agents',
  describe: 'List the agents: the pool, or those of running tasks',
  headers: AGENTS_HEADERS,
  fetch: (client) => client.listAgents(),
  rows: (res) => res.Agents.map((a) => [a.AgentId, a.Host ?? '', a.Address ?? '', a.State, a.TaskName ? `${a.TaskName} (round ${a.RoundId ?? '?'})` : '']),
});
