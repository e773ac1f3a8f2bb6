import { ChildProcess, spawn } from 'node:child_process';
import { AGENT_TOKEN_ENV } from '../../src/contract';

/**
 * Where agents run: local child processes now; agents on other hosts and
 * Kubernetes Jobs implement the same interface. A launched agent dials out to
 * the controller and proves its seat with its own secret; the controller never
 * branches on which launcher started it.
 */
export interface AgentLauncher {
  /** Most agents it can have running at once (Infinity when only the host's resources bound it). */
  readonly capacity: number;
  /** Starts one agent that will connect to `controllerWsUrl` as `agentId` with `token`, that slot's own secret. */
  launch(spec: AgentLaunchSpec): LaunchedAgent;
  /** Ends every agent it started that still runs; resolves once they are gone. */
  shutdown(): Promise<void>;
  /**
   * The round ended: none of its agents will be asked for again. Launchers
   * that start a round's agents together (a Kubernetes Job) clean up here;
   * agents started one by one need nothing.
   */
  release?(round: AgentRound): void;
}

/** The round an agent serves: launchers that start a round's agents together group them by it. */
export interface AgentRound {
  readonly taskName: string;
  readonly roundId: number;
}

export interface AgentLaunchSpec {
  controllerWsUrl: string;
  token: string;
  agentId: string;
  /** The task and round the agent will serve: what a launcher names or labels its agents by. */
  taskName: string;
  roundId: number;
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void;
  /**
   * The engine refused to run it (forbidden, quota, an image it cannot pull):
   * the round fails with this one line instead of replacing the agent forever.
   */
  onError?: (message: string) => void;
}

export interface LaunchedAgent {
  readonly agentId: string;
  readonly pid?: number;
  /** True while nothing runs it yet because no host is free (a pool launch waiting for an idle agent). */
  readonly waiting?: boolean;
  /**
   * Launchers whose engine names the agent (a Job's pod) and hands one secret
   * to all of a round's agents (the round's Secret): the secret it gave, in
   * place of the seat's own, and whether an agent calling itself `agentId` is
   * this one. Absent: the agent uses the seat's id and secret.
   */
  readonly sharedSecret?: string;
  answersTo?(agentId: string): boolean;
  /** Ends the agent (SIGTERM, then SIGKILL after graceMs). */
  kill(graceMs?: number): void;
}

/** At shutdown an agent gets this long after SIGTERM before SIGKILL. */
const SHUTDOWN_GRACE_MS = 3000;

/**
 * Starts agents as child processes of the controller. The stdin pipe is how
 * an agent learns that its controller died (EOF), so none outlives a kill -9.
 */
export class LocalAgentLauncher implements AgentLauncher {
  /** Children started and not yet exited, with how to wait for their exit. */
  private readonly running = new Map<LaunchedAgent, Promise<void>>();

  constructor(
    private readonly command: string[],
    private readonly logSink?: (agentId: string, line: string) => void,
    readonly capacity = Number.POSITIVE_INFINITY,
  ) {}

  async shutdown(): Promise<void> {
    for (const agent of this.running.keys()) agent.kill(SHUTDOWN_GRACE_MS);
    await Promise.all(this.running.values());
  }

  launch(spec: AgentLaunchSpec): LaunchedAgent {
    const [file, ...baseArgs] = this.command;
    const child: ChildProcess = spawn(
      file,
      [...baseArgs, '--controller', spec.controllerWsUrl, '--agent-id', spec.agentId, '--exit-on-stdin-eof'],
      // the secret goes by environment: any local user can read a command line, only we can read our child's environment
      { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, [AGENT_TOKEN_ENV]: spec.token } },
    );
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) this.logSink?.(spec.agentId, line);
    });
    // The pipe is only an EOF signal; never block on it.
    child.stdin?.on('error', () => undefined);
    let exited = false;
    let markExited = (): void => undefined;
    const exit = new Promise<void>((resolve) => {
      markExited = resolve;
    });
    const onGone = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (exited) return;
      exited = true;
      this.running.delete(agent);
      markExited();
      spec.onExit(code, signal);
    };
    child.on('exit', onGone);
    // a spawn that failed (no such file) emits only 'error'
    child.on('error', () => onGone(null, null));
    const agent: LaunchedAgent = {
      agentId: spec.agentId,
      pid: child.pid,
      kill(graceMs = 3000): void {
        if (exited) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          if (!exited) child.kill('SIGKILL');
        }, graceMs);
        timer.unref();
      },
    };
    this.running.set(agent, exit);
    return agent;
  }
}
