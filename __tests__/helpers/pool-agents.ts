import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, waitFor } from './processes';

/**
 * Real `eascmd-agent --pool-credentials` processes. `wrap` runs the agent
 * under another command (`ip netns exec NS`), so one can run in a network
 * namespace the test made. Every agent started here is killed by `stopAll`.
 */
export interface PoolAgentProcess {
  readonly agentId: string;
  readonly proc: ChildProcess;
  /** Everything it wrote to stderr so far (its log). */
  output(): string;
  /** Resolves once it has said `joined the pool` `times` times in all (a rejoin after a restart is the second). */
  joined(times?: number, timeoutMs?: number): Promise<void>;
  /** Its exit code, once it has exited. */
  exited(): Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Writes the key a pool agent signs with, mode 0600 (it is a secret). */
export function writePoolKey(dir: string, id: string, secret: string, name = 'pool-key.json'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify({ id, secret }), { mode: 0o600 });
  return file;
}

export function startPoolAgent(options: { controllerWsUrl: string; keyFile: string; agentId: string; wrap?: string[] }): PoolAgentProcess {
  const argv = [process.execPath, BIN.agent, '--controller', options.controllerWsUrl, '--pool-credentials', options.keyFile, '--agent-id', options.agentId];
  const [file, ...args] = [...(options.wrap ?? []), ...argv];
  const proc = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(proc);
  let log = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => (log += chunk));
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => {
    running.delete(proc);
    resolve(code);
  }));
  return {
    agentId: options.agentId,
    proc,
    output: () => log,
    joined: async (times = 1, timeoutMs = 20000) => {
      await waitFor(`${options.agentId} to join the pool (${times})`, () => (log.match(/joined the pool/g) ?? []).length >= times || undefined, timeoutMs, 50);
    },
    exited: () => exit,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** Kills every pool agent still running (SIGKILL) and waits for them to be gone. */
export async function stopAllPoolAgents(): Promise<void> {
  const exits = [...running].map((proc) => new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  }));
  await Promise.all(exits);
  running.clear();
}
