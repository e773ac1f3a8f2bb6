import { hostname } from 'node:os';
import WebSocket from 'ws';
import { CLOSE_PROTOCOL, CLOSE_UNAUTHORIZED, parsePoolControllerMessage, PoolAgentToController, PROTOCOL_VERSION, signPoolHello } from '../src/contract';
import { AgentLog } from './lifecycle';
import { PoolKey } from './pool-credentials';
import { SeatSession } from './seat';

/** The first wait before dialling again; doubled after each failure up to MAX_BACKOFF_MS. */
const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5000;
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Pings missed in a row before the agent takes its controller for gone. */
const HEARTBEAT_MISSES = 3;
/** The controller refused the hello itself: dialling again would only be refused again. */
const FATAL_CLOSE_CODES = new Set([CLOSE_PROTOCOL, CLOSE_UNAUTHORIZED]);

export interface PoolMemberOptions {
  controllerUrl: string;
  agentId: string;
  key: PoolKey;
  log: AgentLog;
  /** The controller refused the hello (bad key, bad clock): the process should end. */
  onRefused(reason: string): void;
}

/**
 * A pool agent's life: a waiting link to the controller, signed with an API
 * key; a seat at a time when the controller hands one out; word back when
 * the seat ends. When the link drops (the controller restarts, the network
 * fails) the seat is left and the link dialled again with backoff.
 */
export class PoolMember {
  private socket?: WebSocket;
  private seat?: { agentId: string; session: SeatSession };
  private backoffMs = MIN_BACKOFF_MS;
  private retry?: NodeJS.Timeout;
  private stopped = false;
  private seatEnded?: () => void;

  constructor(private readonly options: PoolMemberOptions) {}

  start(): void {
    this.dial();
  }

  /** Stops the seat's load gracefully (if any), closes the link and dials no more. */
  async stop(reason: string): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const seat = this.seat;
    if (seat) {
      const ended = new Promise<void>((resolve) => {
        this.seatEnded = resolve;
      });
      if (seat.session.working) seat.session.stop(reason);
      else seat.session.leave(reason);
      await ended;
    }
    this.socket?.close(1000, reason);
  }

  private dial(): void {
    const { controllerUrl, agentId, key, log } = this.options;
    const socket = new WebSocket(controllerUrl, { perMessageDeflate: false, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    this.socket = socket;
    let opened = false;
    socket.on('open', () => {
      opened = true;
      this.send(signPoolHello(key, { agentId, host: hostname(), pid: process.pid, version: PROTOCOL_VERSION }));
    });
    socket.on('message', (data, isBinary) => {
      const message = isBinary ? 'binary frame' : parsePoolControllerMessage(data.toString());
      if (typeof message === 'string') {
        log('warn', `ignored a controller message: ${message}`);
        return;
      }
      switch (message.type) {
        case 'welcome':
          this.backoffMs = MIN_BACKOFF_MS;
          log('info', `joined the pool of ${controllerUrl} as ${message.agentId}`);
          this.watchHeartbeat(socket, message.heartbeatMs);
          break;
        case 'seat':
          this.takeSeat(message.agentId, message.token, `${message.taskName} round ${message.roundId}`);
          break;
        case 'release':
          if (this.seat?.agentId !== message.agentId) break;
          if (this.seat.session.working) this.seat.session.stop(message.reason);
          else this.seat.session.leave(message.reason);
          break;
      }
    });
    let failure = '';
    // 'close' follows every 'error', also for a socket that never opened
    socket.on('error', (err) => {
      failure = err.message;
    });
    socket.on('close', (code, reasonBuffer) => {
      const reason = reasonBuffer.toString() || failure || (opened ? 'connection closed' : 'cannot connect');
      if (this.socket === socket) this.socket = undefined;
      // its seat belonged to this link: the controller counts it lost and seats another agent
      const seat = this.seat;
      this.seat = undefined;
      seat?.session.leave('pool link lost');
      if (this.stopped) return;
      if (FATAL_CLOSE_CODES.has(code)) {
        log('error', `refused by the controller (${code} ${reason})`);
        this.stopped = true;
        this.options.onRefused(reason);
        return;
      }
      const waitMs = Math.round(this.backoffMs * (0.8 + Math.random() * 0.4));
      log(opened ? 'warn' : 'info', `pool link to ${controllerUrl}: ${reason} (${code}); dialling again in ${waitMs} ms`);
      this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
      this.retry = setTimeout(() => this.dial(), waitMs);
    });
  }

  /** A controller that stops pinging is gone (its host died, the network broke): the link is dropped and dialled again. */
  private watchHeartbeat(socket: WebSocket, heartbeatMs: number): void {
    const limitMs = HEARTBEAT_MISSES * heartbeatMs;
    let watchdog: NodeJS.Timeout | undefined;
    const rearm = (): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        this.options.log('warn', `no ping from the controller in ${limitMs} ms`);
        socket.terminate();
      }, limitMs);
    };
    socket.on('ping', rearm);
    socket.once('close', () => clearTimeout(watchdog));
    rearm();
  }

  private takeSeat(agentId: string, token: string, what: string): void {
    if (this.seat) {
      this.options.log('warn', `offered seat ${agentId} while serving ${this.seat.agentId}; refused`);
      this.send({ type: 'seat-ended', agentId });
      return;
    }
    this.options.log('info', `serving ${what} as ${agentId}`);
    const session = new SeatSession({ controllerUrl: this.options.controllerUrl, token, agentId }, this.options.log, () => {
      if (this.seat?.session === session) this.seat = undefined;
      this.send({ type: 'seat-ended', agentId });
      this.seatEnded?.();
    });
    this.seat = { agentId, session };
  }

  private send(message: PoolAgentToController): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
}
