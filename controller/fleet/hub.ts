import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { RawData, WebSocket, WebSocketServer } from 'ws';
import {
  AGENT_LIMITS,
  AgentToController,
  CLOSE_PROTOCOL,
  CLOSE_UNAUTHORIZED,
  ControllerToAgent,
  ControllerToPoolAgent,
  isPoolHelloText,
  parseAgentMessage,
  parsePoolAgentMessage,
  PoolAgentToController,
  PoolHello,
  PROTOCOL_VERSION,
  STATS_REFUSAL_PREFIX,
} from '../../src/contract';

/** An agent's websocket as its owner speaks to it: who the agent is, where it connects from, what may be sent to it. */
export interface AgentSocket<Message> {
  readonly agentId: string;
  readonly pid: number;
  /** The host name the agent gave in its hello. */
  readonly host: string;
  /** The address its socket comes from, as this controller sees it. */
  readonly address: string;
  send(message: Message): void;
  close(code?: number, reason?: string): void;
}

/** One connected agent, as the round that owns it sees it. */
export type AgentConnection = AgentSocket<ControllerToAgent>;

/** One pool agent's waiting link (see src/contract/pool.ts). */
export type PoolLink = AgentSocket<ControllerToPoolAgent>;

/** Where pool agents join: the pool launcher, when the controller runs one. */
export interface PoolDoor {
  /** How often a pool link is pinged; one that has not answered the last ping by the next is dropped. */
  readonly heartbeatMs: number;
  /** Checks the signed hello and keeps the link, or closes it with the reason. */
  join(hello: PoolHello, link: PoolLink): void;
  onMessage(link: PoolLink, message: PoolAgentToController): void;
  onClose(link: PoolLink): void;
}

/** The round an agent's token belongs to. */
export interface AgentOwner {
  /**
   * Seats the agent or closes it. `token` is the secret its hello presented:
   * the task's agent token, or the own secret of the slot it names.
   */
  attach(connection: AgentConnection, token: string): void;
  onMessage(connection: AgentConnection, message: AgentToController): void;
  /**
   * A frame of the seated agent was refused, for `reason` (the field and what
   * is wrong). `closed`: the frame broke the protocol (not JSON, unknown, too
   * big) and its socket is being closed; otherwise only that stats frame is
   * lost and the socket stays.
   */
  onRefused(connection: AgentConnection, reason: string, closed: boolean): void;
  onClose(connection: AgentConnection): void;
}

const HELLO_TIMEOUT_MS = 5000;
/** Until its hello is accepted a socket is anyone's: all it may send before then, in bytes. */
export const PRE_HELLO_MAX_BYTES = 64 * 1024;
/** The largest frame of an accepted agent: no agent can make the controller buffer more than this for one frame. */
export const MAX_FRAME_BYTES = AGENT_LIMITS.frameBytes;
const CLOSE_TOO_BIG = 1009;
const CLOSE_INTERNAL = 1011;
/** A close frame's reason is at most 123 bytes; ws throws beyond. */
const MAX_CLOSE_REASON_BYTES = 123;
/** After a close for too much data, the peer gets this long to read it before the socket is cut. */
const CUT_AFTER_MS = 100;

/**
 * The agents' websocket endpoint. An agent proves which task it serves in its
 * hello, with its slot's secret or the task's agent token; unknown tokens are
 * closed at once. Every frame is parsed by the contract; a malformed one, a
 * binary one, or an exception in the round that owns the agent closes that
 * socket, never the controller.
 */
export class AgentHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

  constructor(
    private readonly ownerFor: (token: string) => AgentOwner | undefined,
    private readonly log: (line: string) => void = () => undefined,
    /** Absent unless the launcher is `pool`: then a pool hello is refused. */
    private readonly poolDoor?: PoolDoor,
  ) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const address = req.socket.remoteAddress ?? 'unknown';
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket, address));
  }

  private accept(ws: WebSocket, raw: Duplex, address: string): void {
    let owner: AgentOwner | undefined;
    let connection: AgentConnection | undefined;
    let poolLink: PoolLink | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    // ws delivers a frame only once it is whole (up to maxPayload), so the
    // pre-hello budget is counted on the raw bytes as they arrive
    let received = 0;
    const countBeforeHello = (chunk: Buffer): void => {
      received += chunk.length;
      if (received <= PRE_HELLO_MAX_BYTES) return;
      raw.removeListener('data', countBeforeHello);
      closeSocket(ws, CLOSE_TOO_BIG, `more than ${PRE_HELLO_MAX_BYTES} bytes before hello`);
      setTimeout(() => ws.terminate(), CUT_AFTER_MS).unref();
    };
    // ahead of ws's own listener, so the budget is spent before the bytes reach a frame
    raw.prependListener('data', countBeforeHello);
    const helloTimer = setTimeout(() => closeSocket(ws, CLOSE_PROTOCOL, 'no hello'), HELLO_TIMEOUT_MS);
    helloTimer.unref();

    /** Runs owner code: whatever it throws closes this socket and is logged, never escapes. */
    const guarded = (what: string, fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        this.log(`agent ${connection?.agentId ?? '(before hello)'}: ${what} failed, socket closed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        closeSocket(ws, CLOSE_INTERNAL, 'internal error');
      }
    };

    const helloDone = (): void => {
      clearTimeout(helloTimer);
      raw.removeListener('data', countBeforeHello);
    };

    /** This socket as its owner speaks to it, named as its hello said. */
    const linkFor = <M>(hello: { agentId: string; pid: number; host: string }): AgentSocket<M> => ({
      agentId: hello.agentId,
      pid: hello.pid,
      host: hello.host,
      address,
      send: (m: M): void => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
      },
      close: (code?: number, reason?: string): void => closeSocket(ws, code ?? 1000, reason ?? ''),
    });

    /** A pool agent's frames: its signed hello, then word that its seat ended. */
    const onPoolFrame = (text: string): void => {
      const message = parsePoolAgentMessage(text);
      if (typeof message === 'string') return closeSocket(ws, CLOSE_PROTOCOL, message);
      if (poolLink) {
        if (message.type === 'pool-hello') return closeSocket(ws, CLOSE_PROTOCOL, 'hello already said');
        this.poolDoor?.onMessage(poolLink, message);
        return;
      }
      if (message.type !== 'pool-hello' || message.version !== PROTOCOL_VERSION) return closeSocket(ws, CLOSE_PROTOCOL, 'expected hello');
      if (!this.poolDoor) return closeSocket(ws, CLOSE_UNAUTHORIZED, 'this controller keeps no agent pool (--agent-launcher pool)');
      helloDone();
      poolLink = linkFor<ControllerToPoolAgent>(message);
      // an idle link carries nothing: pings find a host that died without closing it
      let answered = true;
      ws.on('pong', () => {
        answered = true;
      });
      heartbeat = setInterval(() => {
        if (answered) {
          answered = false;
          ws.ping();
          return;
        }
        this.log(`pool agent ${message.agentId}: no answer to a ping in ${this.poolDoor?.heartbeatMs} ms; link dropped`);
        ws.terminate();
      }, this.poolDoor.heartbeatMs);
      heartbeat.unref();
      this.poolDoor.join(message, poolLink);
    };

    /** Closes the socket for breaking the protocol; a seated agent's round hears why first, so its events say it. */
    const refuse = (code: number, reason: string): void => {
      const seated = connection;
      if (seated && ws.readyState === WebSocket.OPEN) owner?.onRefused(seated, reason, true);
      closeSocket(ws, code, reason);
    };

    const onFrame = (data: RawData, isBinary: boolean): void => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (isBinary) return refuse(CLOSE_PROTOCOL, 'binary frame');
      if (!connection && frameBytes(data) > PRE_HELLO_MAX_BYTES) {
        // a pool link says only small messages, after its hello as before
        return closeSocket(ws, CLOSE_TOO_BIG, poolLink ? `a pool link frame of more than ${PRE_HELLO_MAX_BYTES} bytes` : `more than ${PRE_HELLO_MAX_BYTES} bytes before hello`);
      }
      const text = rawText(data);
      if (poolLink || (!connection && isPoolHelloText(text))) return onPoolFrame(text);
      const message = parseAgentMessage(text);
      if (typeof message === 'string') {
        // a stats frame that fails its checks loses its second only: the agent's other seconds count
        if (connection && message.startsWith(STATS_REFUSAL_PREFIX)) return owner?.onRefused(connection, message, false);
        return refuse(CLOSE_PROTOCOL, message);
      }
      if (connection) {
        if (message.type === 'hello') return refuse(CLOSE_PROTOCOL, 'hello already said');
        owner?.onMessage(connection, message);
        return;
      }
      if (message.type !== 'hello' || message.version !== PROTOCOL_VERSION) return closeSocket(ws, CLOSE_PROTOCOL, 'expected hello');
      owner = this.ownerFor(message.token);
      if (!owner) return closeSocket(ws, CLOSE_UNAUTHORIZED, 'unknown token');
      helloDone();
      connection = linkFor<ControllerToAgent>(message);
      owner.attach(connection, message.token);
    };

    ws.on('message', (data, isBinary) => guarded('a frame', () => onFrame(data, isBinary)));
    ws.on('close', () => {
      clearTimeout(helloTimer);
      clearInterval(heartbeat);
      raw.removeListener('data', countBeforeHello);
      const closed = connection;
      if (closed) guarded('close', () => owner?.onClose(closed));
      const link = poolLink;
      if (link) guarded('close', () => this.poolDoor?.onClose(link));
    });
    // ws closes the socket itself on a protocol error (bad UTF-8, frame over maxPayload); 'close' follows,
    // and the seated agent's round hears why first
    ws.on('error', (err: Error & { code?: string }) => {
      const seated = connection;
      if (!seated) return;
      const reason = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? `a frame of more than ${MAX_FRAME_BYTES} bytes` : `a broken websocket frame (${err.message})`;
      guarded('a refusal', () => owner?.onRefused(seated, reason, true));
    });
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }
}

function frameBytes(data: RawData): number {
  return Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** Closes with a reason cut to what a close frame holds; a socket already closing is left alone. */
function closeSocket(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState !== WebSocket.OPEN && ws.readyState !== WebSocket.CONNECTING) return;
  let text = reason;
  while (Buffer.byteLength(text) > MAX_CLOSE_REASON_BYTES) text = text.slice(0, -1);
  try {
    ws.close(code, text);
  } catch {
    // an invalid code from a caller: the socket must still go
    ws.terminate();
  }
}
