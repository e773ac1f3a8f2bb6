import { CLOSE_AGENT_CONNECTED, CLOSE_PROTOCOL, CLOSE_UNAUTHORIZED } from '../src/contract';
import { ControllerConnection } from './connection';
import { AgentLog } from './lifecycle';
import { AgentRunner } from './runner';

/** Close codes by which the controller refuses an agent: the agent exits 1 on these. */
const REFUSED_CLOSE_CODES = new Set([CLOSE_PROTOCOL, CLOSE_UNAUTHORIZED, CLOSE_AGENT_CONNECTED]);

export interface SeatOptions {
  controllerUrl: string;
  /** The seat's own secret, or the task's agent token. */
  token: string;
  agentId: string;
}

/**
 * One seat in one task's round: the agent connection, says hello with the
 * seat's secret, runs what it is assigned and ends when the socket closes.
 * `onEnd` hears 0 for a normal end, 1 when the controller refused the seat or
 * could not be reached. A started-by-hand or local agent runs one seat and
 * exits; a pool agent runs one after another.
 */
export class SeatSession {
  private readonly runner: AgentRunner;
  private readonly connection: ControllerConnection;

  constructor(options: SeatOptions, private readonly log: AgentLog, onEnd: (code: number) => void) {
    this.runner = new AgentRunner((message) => this.connection.send(message), (level, message) => {
      log(level, message);
      this.connection.send({ type: 'log', level, message });
    });
    this.connection = new ControllerConnection(
      { url: options.controllerUrl, token: options.token, agentId: options.agentId },
      {
        onMessage: (message) => {
          switch (message.type) {
            case 'assign':
              this.runner.assign(message.assignment);
              break;
            case 'load':
              this.runner.applyLoad(message.load, message.requestLimit, message.scheduleEndMs);
              break;
            case 'start':
              this.runner.start();
              break;
            case 'stop':
              this.stop(message.reason);
              break;
          }
        },
        onInvalid: (reason) => {
          log('warn', `ignored a controller message: ${reason}`);
          this.connection.send({ type: 'log', level: 'warn', message: `ignored a controller message: ${reason}` });
        },
        onClose: (code, reason, opened) => {
          if (!opened) log('error', `cannot reach the controller at ${options.controllerUrl}: ${reason}`);
          else if (REFUSED_CLOSE_CODES.has(code)) log('error', `refused by the controller (${code} ${reason})`);
          const refused = !opened || REFUSED_CLOSE_CODES.has(code);
          // whatever still runs is dropped: nobody is left to report to
          void this.runner.shutdown().finally(() => onEnd(refused ? 1 : 0));
        },
      },
    );
  }

  /** Whether load was assigned and not stopped yet: a signal then stops it gracefully. */
  get working(): boolean {
    return this.runner.status !== 'idle' && this.runner.status !== 'stopped';
  }

  /** Stops the load (one last frame and `done`), then leaves the seat. */
  stop(reason: string): void {
    void this.runner.stop(reason).then(() => this.connection.close(1000, 'done'));
  }

  /** Leaves the seat now, reporting nothing more. */
  leave(reason: string): void {
    this.connection.close(1000, reason);
  }

  /** Ends everything at once (the process is leaving). */
  shutdown(): Promise<void> {
    return this.runner.shutdown();
  }
}
