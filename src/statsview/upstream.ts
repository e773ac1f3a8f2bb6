import { WebSocket } from 'ws';
import { SignedRequest } from '../api/client';
import { StatsStreamFrame } from '../contract';

/**
 * The statsview's one websocket to the controller's stats stream. Reopened
 * with backoff whenever it drops (a controller restart), signed anew each
 * time because the signature's date ages (the controller refuses dates over
 * 15 min old) and its nonce may be used once. A ping every few seconds
 * notices a peer that vanished without closing the connection.
 */

export interface UpstreamHandlers {
  frame(frame: StatsStreamFrame): void;
  /** The stream dropped (`lost`), or is back and sent its history again (`connected`). */
  link(state: 'lost' | 'connected'): void;
  /**
   * The controller refused the upgrade (HTTP status) or closed the stream on
   * purpose (1000: the task was deleted). The caller decides whether to go on.
   */
  refused(reason: string): void;
}

export interface UpstreamOptions {
  /** A freshly signed URL + headers for each attempt. */
  sign: () => SignedRequest;
  handlers: UpstreamHandlers;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  pingIntervalMs?: number;
}

export class ControllerStream {
  private socket?: WebSocket;
  private retryTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private closed = false;
  /** Whether the last connection delivered its history (so a drop is a loss to report). */
  private live = false;
  private everLive = false;
  private attempt = 0;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly pingIntervalMs: number;

  constructor(private readonly options: UpstreamOptions) {
    this.initialBackoffMs = options.initialBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.pingIntervalMs = options.pingIntervalMs ?? 5000;
  }

  start(): void {
    this.open();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.socket?.terminate();
    this.socket = undefined;
  }

  private open(): void {
    if (this.closed) return;
    const { url, headers } = this.options.sign();
    const socket = new WebSocket(url, { headers, handshakeTimeout: 10_000 });
    this.socket = socket;
    let alive = true;
    socket.on('pong', () => (alive = true));
    socket.on('open', () => {
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => {
        if (!alive) return socket.terminate();
        alive = false;
        socket.ping();
      }, this.pingIntervalMs);
    });
    socket.on('message', (data) => {
      let frame: StatsStreamFrame;
      try {
        frame = JSON.parse(data.toString()) as StatsStreamFrame;
      } catch {
        return;
      }
      if (frame.Type === 'history' && !this.live) {
        this.live = true;
        this.attempt = 0;
        // The first history is the start, not a recovery.
        if (this.everLive) this.options.handlers.link('connected');
        this.everLive = true;
      }
      this.options.handlers.frame(frame);
    });
    socket.on('error', (err) => {
      // `Unexpected server response: 401`: the upgrade was refused.
      const status = /Unexpected server response: (\d+)/.exec(err.message)?.[1];
      if (status) this.options.handlers.refused(`the controller refused the stats stream (HTTP ${status})`);
    });
    socket.on('close', (code, reason) => {
      clearInterval(this.pingTimer);
      if (this.socket !== socket || this.closed) return;
      if (code === 1000 && reason.length > 0) this.options.handlers.refused(`the controller closed the stats stream: ${reason.toString()}`);
      if (this.live) {
        this.live = false;
        this.options.handlers.link('lost');
      }
      this.scheduleRetry();
    });
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    const delayMs = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** this.attempt);
    this.attempt++;
    this.retryTimer = setTimeout(() => this.open(), delayMs);
  }
}
