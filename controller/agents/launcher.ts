import { ChildProcess, spawn } from 'node:child_process';
import { AGENT_TOKEN_ENV } from '../../src/contract';

/** Where agents run. Local child processes now; remote schedulers implement the same interface. */
export interface AgentLauncher {
  /** Starts one agent that will connect to `controllerWsUrl` as `agentId` with `token`, that slot's own secret. */
  launch(spec: AgentLaunchSpec): LaunchedAgent;
}

export interface AgentLaunchSpec {
  controllerWsUrl: string;
  token: string;
  agentId: string;
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface LaunchedAgent {
  readonly agentId: string;
  readonly pid?: number;
  /** Ends the agent (SIGTERM, then SIGKILL after graceMs). */
  kill(graceMs?: number): void;
}

/**
 * Starts agents as child processes of the controller. The stdin pipe is how
 * an agent learns that its controller died (EOF), so none outlives a kill -9.
 */
export class LocalAgentLauncher implements AgentLauncher {
  constructor(private readonly command: string[], private readonly logSink?: (agentId: string, line: string) => void) {}

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
    child.on('exit', (code, signal) => {
      exited = true;
      spec.onExit(code, signal);
    });
    child.on('error', () => {
      if (!exited) {
        exited = true;
        spec.onExit(null, null);
      }
    });
    return {
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
  }
}
