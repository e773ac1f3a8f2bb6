import { ChildProcess, spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import type { AgentStatsFrame, AgentToController, ControllerToAgent } from '../../src/contract';
import { ROOT } from './processes';

/**
 * This test playing the controller on the agents websocket, for real agent
 * processes (`dist/agent/main.js`, built by jest's global setup):
 * every message an agent sends is kept, in order, with the time it came.
 */

export const AGENT_MAIN = path.join(ROOT, 'dist', 'agent', 'main.js');

/** One agent as the fake controller sees it. */
export class AgentSession {
  readonly messages: AgentToController[] = [];
  /** The raw text of each message and Date.now() when it came, in order. */
  readonly received: { text: string; atMs: number }[] = [];
  private waiters: (() => void)[] = [];

  constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = data.toString();
      this.received.push({ text, atMs: Date.now() });
      this.messages.push(JSON.parse(text) as AgentToController);
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    });
  }

  send(message: ControllerToAgent): void {
    this.socket.send(JSON.stringify(message));
  }

  close(): void {
    this.socket.close(1000, 'test');
  }

  get frames(): AgentStatsFrame[] {
    return this.messages.flatMap((m) => (m.type === 'stats' ? [m.frame] : []));
  }

  done(): Extract<AgentToController, { type: 'done' }>[] {
    return this.messages.flatMap((m) => (m.type === 'done' ? [m] : []));
  }

  /** Resolves when `predicate` holds over the messages so far. */
  waitFor(predicate: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = (): void => {
        if (predicate()) {
          clearTimeout(timer);
          resolve();
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  waitForType(type: AgentToController['type'], count = 1, timeoutMs?: number): Promise<void> {
    return this.waitFor(() => this.messages.filter((m) => m.type === type).length >= count, `${count} ${type} message(s)`, timeoutMs);
  }
}

export interface FakeController {
  controllerUrl: string;
  nextAgent(): Promise<AgentSession>;
  spawnAgent(extraArgs?: string[]): ChildProcess;
  exitCode(child: ChildProcess, timeoutMs?: number): Promise<number | null>;
  close(): Promise<void>;
}

export async function startFakeController(): Promise<FakeController> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/agents' });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const sessions: AgentSession[] = [];
  const sessionWaiters: ((s: AgentSession) => void)[] = [];
  wss.on('connection', (socket) => {
    const session = new AgentSession(socket);
    const waiter = sessionWaiters.shift();
    if (waiter) waiter(session);
    else sessions.push(session);
  });
  const children: ChildProcess[] = [];
  const controllerUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/agents`;
  return {
    controllerUrl,
    nextAgent: () =>
      new Promise((resolve, reject) => {
        const ready = sessions.shift();
        if (ready) return resolve(ready);
        const timer = setTimeout(() => reject(new Error('no agent connected')), 8000);
        sessionWaiters.push((s) => {
          clearTimeout(timer);
          resolve(s);
        });
      }),
    spawnAgent: (extraArgs = []) => {
      const child = spawn(process.execPath, [AGENT_MAIN, '--controller', controllerUrl, '--token', 'secret-token', '--agent-id', 'a1', ...extraArgs], {
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      child.stderr?.resume();
      children.push(child);
      return child;
    },
    exitCode: (child, timeoutMs = 8000) =>
      new Promise((resolve, reject) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        const timer = setTimeout(() => reject(new Error('agent did not exit')), timeoutMs);
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      }),
    close: async () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
