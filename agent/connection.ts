import { hostname } from 'node:os';
import WebSocket from 'ws';
import { AgentToController, ControllerToAgent, encodeMessage, parseControllerMessage, PROTOCOL_VERSION } from '../src/contract';

export interface ConnectionOptions {
  url: string;
  token: string;
  agentId: string;
}

export interface ConnectionHandlers {
  onMessage(message: ControllerToAgent): void;
  /** A frame that is not a controller message; the connection stays open. */
  onInvalid(reason: string): void;
  /** Fires once, whether the socket never opened or closed later. */
  onClose(code: number, reason: string, opened: boolean): void;
}

/** Assignments carry every request body, so frames can be large. */
const MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024;
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** The agent's websocket to its controller: says hello on open, then passes messages both ways. */
export class ControllerConnection {
  private readonly socket: WebSocket;
  private opened = false;
  private closedReported = false;

  constructor(options: ConnectionOptions, private readonly handlers: ConnectionHandlers) {
    this.socket = new WebSocket(options.url, {
      perMessageDeflate: false,
      maxPayload: MAX_PAYLOAD_BYTES,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    this.socket.on('open', () => {
      this.opened = true;
      this.send({ type: 'hello', agentId: options.agentId, token: options.token, pid: process.pid, host: hostname(), version: PROTOCOL_VERSION });
    });
    this.socket.on('message', (data, isBinary) => {
      if (isBinary) {
        this.handlers.onInvalid('binary frame');
        return;
      }
      const parsed = parseControllerMessage(data.toString());
      if (typeof parsed === 'string') this.handlers.onInvalid(parsed);
      else this.handlers.onMessage(parsed);
    });
    this.socket.on('close', (code, reason) => this.reportClose(code, reason.toString()));
    // 'close' follows every 'error'; an error before open never opens, so report it here.
    this.socket.on('error', (err) => {
      if (!this.opened) this.reportClose(1006, err.message);
    });
  }

  send(message: AgentToController): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(encodeMessage(message));
  }

  /** Closes cleanly; if the controller does not answer the close within `timeoutMs`, drops the socket. */
  close(code = 1000, reason = '', timeoutMs = 2000): void {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close(code, reason);
    setTimeout(() => this.socket.terminate(), timeoutMs).unref();
  }

  terminate(): void {
    this.socket.terminate();
  }

  private reportClose(code: number, reason: string): void {
    if (this.closedReported) return;
    this.closedReported = true;
    this.handlers.onClose(code, reason, this.opened);
  }
}
