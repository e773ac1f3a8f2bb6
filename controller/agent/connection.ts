import { hostname } from 'node:os';
import WebSocket from 'ws';
import { AgentToController, ControllerToAgent, encodeMessage, PROTOCOL_VERSION } from '../../src/contract';

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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isLoadShape(value: unknown): boolean {
  if (!isObject(value)) return false;
  if (value.kind === 'closed') return typeof value.concurrency === 'number' && (value.maxQps === null || typeof value.maxQps === 'number');
  if (value.kind === 'open') return typeof value.qps === 'number' && typeof value.maxInFlight === 'number';
  if (value.kind === 'llm') {
    return (
      ['concurrency', 'rate', 'throughput'].includes(value.testMode as string) &&
      typeof value.concurrency === 'number' &&
      typeof value.ratePerS === 'number' &&
      (value.maxInFlight === null || typeof value.maxInFlight === 'number') &&
      typeof value.burstiness === 'number' &&
      typeof value.seed === 'number'
    );
  }
  return false;
}

function isLlmWork(value: unknown): boolean {
  if (!isObject(value) || !isObject(value.source)) return false;
  const source = value.source;
  const sourceOk =
    (source.kind === 'synthetic' && Array.isArray(source.inputTokens) && Array.isArray(source.outputTokens) && typeof source.seed === 'number') ||
    (source.kind === 'prompts' && Array.isArray(source.prompts) && source.prompts.length > 0) ||
    (source.kind === 'bodies' && Array.isArray(source.bodies) && source.bodies.length > 0);
  return sourceOk && (value.api === 'chat' || value.api === 'completions') && typeof value.model === 'string';
}

function isAssignment(value: unknown): boolean {
  if (!isObject(value) || !isObject(value.request) || !isLoadShape(value.load)) return false;
  const request = value.request;
  return (
    typeof request.url === 'string' &&
    typeof request.method === 'string' &&
    Array.isArray(request.headers) &&
    Array.isArray(request.bodies) &&
    typeof request.timeoutMs === 'number' &&
    typeof value.startOffset === 'number' &&
    (value.requestLimit === null || typeof value.requestLimit === 'number') &&
    (value.llm === undefined || isLlmWork(value.llm)) &&
    (value.waitForStart === undefined || typeof value.waitForStart === 'boolean') &&
    (value.load as Record<string, unknown>).kind === 'llm' === (value.llm !== undefined)
  );
}

/** Checks the shape of a controller message enough that the runner can trust its fields. */
export function parseControllerMessage(text: string): ControllerToAgent | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (!isObject(value)) return 'not an object';
  switch (value.type) {
    case 'assign':
      return isAssignment(value.assignment) ? (value as unknown as ControllerToAgent) : 'malformed assign';
    case 'load':
      if (!isLoadShape(value.load)) return 'malformed load';
      if (value.requestLimit !== undefined && value.requestLimit !== null && typeof value.requestLimit !== 'number') return 'malformed load';
      return value as unknown as ControllerToAgent;
    case 'start':
      return { type: 'start' };
    case 'stop':
      return { type: 'stop', reason: typeof value.reason === 'string' ? value.reason : '' };
    default:
      return `unknown message type ${String(value.type)}`;
  }
}

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
