import { Router } from 'express';
import { AGENTS_API_PATH, AgentView, ListAgentsResponse } from '../../src/contract';
import { PoolAgentLauncher, PoolMemberInfo } from '../fleet/pool-launcher';
import type { AgentLauncherKind } from '../config';
import { TaskManager } from '../tasks/manager';
import { requestId } from './errors';
import { roundAgentView } from './views';

/**
 * `GET /api/v2/benchmark-agents`: under the pool launcher, every agent that
 * joined (idle ones too); under the others, the agents of the running rounds,
 * since those exist only while a round runs.
 */
export function agentRoutes(manager: TaskManager, kind: AgentLauncherKind, pool: PoolAgentLauncher | undefined): Router {
  const router = Router();
  router.get(AGENTS_API_PATH, (_req, res) => {
    const body: ListAgentsResponse = { RequestId: requestId(res), Launcher: kind, Agents: pool ? pool.list().map(poolAgentView) : roundAgents(manager) };
    res.json(body);
  });
  return router;
}

function poolAgentView(member: PoolMemberInfo): AgentView {
  return {
    AgentId: member.agentId,
    Host: member.host,
    Address: member.address,
    Pid: member.pid,
    State: member.state,
    ...(member.seat ? { TaskName: member.seat.taskName, RoundId: member.seat.roundId, Seat: member.seat.agentId } : {}),
  };
}

function roundAgents(manager: TaskManager): AgentView[] {
  return manager.entries().flatMap((entry) => {
    const live = entry.live();
    return live ? live.agents.map((agent) => roundAgentView(agent, entry.taskName, live.roundId)) : [];
  });
}
