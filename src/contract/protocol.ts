/**
 * Messages between the controller and its agents over the websocket
 * `/agents`. Local agents (child processes) and remote agents use the same
 * protocol; every message is one JSON text frame.
 */
export const AGENT_WS_PATH = '/agents';
export const PROTOCOL_VERSION = 1;

/** The request an agent sends, prepared once per assignment. */
export interface RequestTemplate {
  url: string;
  method: string;
  /** Pairs, already merged with the service token. */
  headers: [string, string][];
  /** Request bodies, base64; empty means no body. Used round-robin. */
  bodies: string[];
  timeoutMs: number;
}

/**
 * How an agent drives load:
 * - closed: `concurrency` workers, each sending when its previous request ends;
 *   `maxQps` (optional) caps this agent's rate.
 * - open: requests at scheduled times, `qps` per second for this agent,
 *   whatever the service does (latency measured from the scheduled time).
 */
export type LoadShape =
  | { kind: 'closed'; concurrency: number; maxQps: number | null }
  | { kind: 'open'; qps: number; maxInFlight: number };

export interface AgentAssignment {
  taskId: string;
  roundId: number;
  agentIndex: number;
  agentCount: number;
  /** Index of the first body this agent uses, so agents spread over the data. */
  startOffset: number;
  request: RequestTemplate;
  load: LoadShape;
  /** Requests this agent may send in the whole round; null = unlimited. */
  requestLimit: number | null;
}

export type ControllerToAgent =
  | { type: 'assign'; assignment: AgentAssignment }
  | { type: 'load'; load: LoadShape; requestLimit?: number | null }
  | { type: 'stop'; reason: string };

/** One second of one agent. Histograms are HDR, microseconds, compressed base64. */
export interface AgentStatsFrame {
  /** Unix time of the second's start, seconds. */
  second: number;
  /** Responses completed in this second (any status). */
  requests: number;
  /** Requests sent in this second. */
  sent: number;
  statusCodes: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
  /** Scheduled sends refused because the in-flight cap was reached. */
  dropped: number;
  inFlight: number;
  rtHistogram: string;
  /** Lag between scheduled and actual send (open loop), microseconds. */
  lagHistogram: string;
  /** Requests sent in this round so far, for requestCount accounting. */
  totalSent: number;
  /** p99 of the event loop's delay in this second, ms: high when the agent itself is the bottleneck. */
  eventLoopLagMs: number;
  /** LLM tasks: per-request records completed this second. */
  llmRecords?: unknown[];
}

export type AgentToController =
  | { type: 'hello'; agentId: string; token: string; pid: number; host: string; version: number }
  | { type: 'ready' }
  | { type: 'stats'; frame: AgentStatsFrame }
  | { type: 'done'; reason: 'limit' | 'stopped'; totalSent: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export function encodeMessage(message: ControllerToAgent | AgentToController): string {
  return JSON.stringify(message);
}
