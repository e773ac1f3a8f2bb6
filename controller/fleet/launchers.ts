import { BenchError } from '../../src/contract';
import { ControllerOptions, isAgentLauncherKind } from '../config';
import type { LoadedCredentials } from '../credentials';
import { createKubernetesLauncher } from './kubernetes';
import { AgentLauncher, LocalAgentLauncher } from './launcher';
import { PoolAgentLauncher } from './pool-launcher';

/** What a launcher may be built from, beside the controller's options. */
export interface LauncherContext {
  /** The controller's log (already redacted). */
  log: (line: string) => void;
  /** The API keys: pool agents sign their hello with one of them. */
  credentials: LoadedCredentials;
}

/**
 * The one place that turns `--agent-launcher` into an AgentLauncher. The rest
 * of the controller only sees the interface, whichever kind runs the agents.
 */
export function createAgentLauncher(options: ControllerOptions, context: LauncherContext): AgentLauncher {
  const kind: unknown = options.agentLauncher;
  if (!isAgentLauncherKind(kind)) {
    throw new BenchError('InvalidParameter', `--agent-launcher must be local, pool or kubernetes, not ${JSON.stringify(kind)}`, { field: 'agentLauncher' });
  }
  switch (kind) {
    case 'local':
      return new LocalAgentLauncher(options.agentCommand, (agentId, line) => context.log(`[agent ${agentId}] ${line}`), options.maxAgentsTotal);
    case 'pool':
      return new PoolAgentLauncher(context.credentials.keys, context.log, { maxNonces: options.maxNonces, heartbeatMs: options.poolHeartbeatS * 1000 });
    case 'kubernetes':
      return createKubernetesLauncher(options, context);
  }
}
