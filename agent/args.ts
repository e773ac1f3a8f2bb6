import { hostname } from 'node:os';
import { AGENT_TOKEN_ENV } from '../src/contract';

interface CommonArgs {
  controllerUrl: string;
  agentId: string;
  /** Exit when stdin reaches EOF: a local controller holds our stdin pipe, so we never outlive it. */
  exitOnStdinEof: boolean;
}

/** One seat of one task: the task's agent token, or a launched seat's own secret. */
export interface SeatArgs extends CommonArgs {
  token: string;
}

/** A pool agent: joins with a signed hello and serves the seats the controller hands it. */
export interface PoolArgs extends CommonArgs {
  /** File holding the API key it signs with: {"id","secret"}, or a controller credentials file (its first key). */
  poolCredentials: string;
}

export type AgentArgs = SeatArgs | PoolArgs;

export function isPoolArgs(args: AgentArgs): args is PoolArgs {
  return 'poolCredentials' in args;
}

export const USAGE = `usage: ${AGENT_TOKEN_ENV}=TOKEN eascmd-agent --controller ws://HOST:PORT/agents [--agent-id ID] [--exit-on-stdin-eof]
       eascmd-agent --controller ws://HOST:PORT/agents --pool-credentials FILE [--agent-id ID]

  --controller URL         the controller's agents websocket
  --token TOKEN            the task's agent token; prefer $${AGENT_TOKEN_ENV}, since any local user can read a command line (ps)
  --pool-credentials FILE  join the controller's agent pool (--agent-launcher pool) and serve task after task;
                           FILE holds {"id","secret"} of one of its API keys (or is its credentials file)
  --agent-id ID            name shown by the controller (default <hostname>-<pid>)
  --exit-on-stdin-eof      exit when stdin closes (set by a controller that spawns the agent with a stdin pipe)`;

export class UsageError extends Error {}

/** The token comes from --token or, preferably, from `env` (see AGENT_TOKEN_ENV). */
export function parseAgentArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): AgentArgs | 'help' {
  let controllerUrl: string | undefined;
  let token: string | undefined;
  let poolCredentials: string | undefined;
  let agentId: string | undefined;
  let exitOnStdinEof = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      const v = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '--controller':
        controllerUrl = value();
        break;
      case '--token':
        token = value();
        break;
      case '--pool-credentials':
        poolCredentials = value();
        break;
      case '--agent-id':
        agentId = value();
        break;
      case '--exit-on-stdin-eof':
        exitOnStdinEof = true;
        break;
      case '-h':
      case '--help':
        return 'help';
      default:
        throw new UsageError(`unknown argument ${arg}`);
    }
  }
  if (!controllerUrl) throw new UsageError('--controller is required');
  if (!/^wss?:\/\//.test(controllerUrl)) throw new UsageError('--controller must be a ws:// or wss:// URL');
  const common = { controllerUrl, agentId: agentId ?? `${hostname()}-${process.pid}`, exitOnStdinEof };
  if (poolCredentials !== undefined) {
    if (token !== undefined) throw new UsageError('--token and --pool-credentials exclude each other: a pool agent gets its seats from the controller');
    return { ...common, poolCredentials };
  }
  token ??= env[AGENT_TOKEN_ENV] || undefined;
  if (!token) throw new UsageError(`$${AGENT_TOKEN_ENV} (or --token, or --pool-credentials) is required`);
  return { ...common, token };
}
