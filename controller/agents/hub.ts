import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { AgentToController, ControllerToAgent, encodeMessage, PROTOCOL_VERSION } from '../../src/contract';

/** One connected agent, as the round that owns it sees it. */
export interface AgentConnection {
  readonly agentId: string;
  readonly pid: number;
  readonly host: string;
  send(message: ControllerToAgent): void;
  close(code?: number, reason?: string): void;
}

/** The round an agent's token belongs to. */
export interface AgentOwner {
  attach(connection: AgentConnection): void;
  onMessage(connection: AgentConnection, message: AgentToController): void;
  onClose(connection: AgentConnection): void;
}

const HELLO_TIMEOUT_MS = 5000;
/** Close codes the agent can tell apart. */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_PROTOCOL = 4400;

/**
 * The agents' websocket endpoint. An agent proves which task it serves with
 * the task's agent token in its hello; unknown tokens are closed at once.
 */
export class AgentHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 * 1024 });

  constructor(private readonly ownerFor: (token: string) => AgentOwner | undefined) {
    this.wss.on('connection', (socket) => this.accept(socket));
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  private accept(socket: WebSocket): void {
    let owner: AgentOwner | undefined;
    let connection: AgentConnection | undefined;
    const helloTimer = setTimeout(() => socket.close(CLOSE_PROTOCOL, 'no hello'), HELLO_TIMEOUT_MS);
    socket.on('message', (data) => {
      let message: AgentToController;
      try {
        message = JSON.parse(data.toString()) as AgentToController;
      } catch {
        socket.close(CLOSE_PROTOCOL, 'bad frame');
        return;
      }
      if (!connection) {
        if (message.type !== 'hello' || message.version !== PROTOCOL_VERSION) {
          socket.close(CLOSE_PROTOCOL, 'expected hello');
          return;
        }
        owner = this.ownerFor(message.token);
        if (!owner) {
          socket.close(CLOSE_UNAUTHORIZED, 'unknown token');
          return;
        }
        clearTimeout(helloTimer);
        connection = {
          agentId: message.agentId,
          pid: message.pid,
          host: message.host,
          send: (m) => {
            if (socket.readyState === WebSocket.OPEN) socket.send(encodeMessage(m));
          },
          close: (code, reason) => socket.close(code ?? 1000, reason),
        };
        owner.attach(connection);
        return;
      }
      owner?.onMessage(connection, message);
    });
    socket.on('close', () => {
      clearTimeout(helloTimer);
      if (connection) owner?.onClose(connection);
    });
    socket.on('error', () => undefined);
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }
}
