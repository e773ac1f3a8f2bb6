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
  | { kind: 'open'; qps: number; maxInFlight: number }
  | LlmLoad;

/**
 * This agent's share of an LLM task (SPEC 6), given with `AgentAssignment.llm`:
 * - concurrency: `concurrency` closed-loop streams;
 * - rate: arrivals with Gamma(burstiness, 1/(ratePerS*burstiness)) intervals from
 *   the seeded generator (same seed, same schedule), at most `maxInFlight` in flight
 *   (a due request waits for a free slot; null = no cap);
 * - throughput: `concurrency` requests at once (the agent's share of requestCount),
 *   each stream sending the next request when its previous one ends.
 */
export interface LlmLoad {
  kind: 'llm';
  testMode: 'concurrency' | 'rate' | 'throughput';
  concurrency: number;
  ratePerS: number;
  maxInFlight: number | null;
  burstiness: number;
  seed: number;
}

/** Where an LLM agent takes its prompts from. */
export type LlmPromptSource =
  /** Prompts of exactly N tokens (N uniform in inputTokens), max_tokens uniform in outputTokens, built by the agent from `seed`. */
  | { kind: 'synthetic'; inputTokens: [number, number]; outputTokens: [number, number]; seed: number }
  /** Prompt texts (e.g. the first human turn of ShareGPT conversations), used round-robin. */
  | { kind: 'prompts'; prompts: string[] }
  /** Request bodies (JSON text) used as given, with `stream` forced on; round-robin. */
  | { kind: 'bodies'; bodies: string[] };

/** What an LLM agent sends; fixed for the round (the load shape may change). */
export interface LlmWork {
  api: 'chat' | 'completions';
  model: string;
  /** Sent as `ignore_eos` when true. */
  ignoreEos: boolean;
  /** max_tokens for prompts that do not choose their own (null = not sent). */
  maxTokens: number | null;
  source: LlmPromptSource;
}

/** Where an LLM request's token counts came from. */
export type LlmTokenSource = 'usage' | 'tokenizer';

/** One LLM request, as measured by the agent. Times are Unix ms (fractional); durations ms. */
export interface LlmRequestRecord {
  agent: number;
  /** Sequence number of the request within its agent's round. */
  seq: number;
  sendMs: number;
  /** Response fully read (or failed). */
  endMs: number;
  /** First chunk with generated content minus send time; null when none came. */
  ttftMs: number | null;
  /** Last content chunk minus send time (end of response when no content came); null when failed. */
  e2elMs: number | null;
  /** Gaps between content chunks; a chunk carrying k tokens gives k gaps of gap/k. */
  itlMs: number[];
  inputTokens: number;
  outputTokens: number;
  tokenSource: LlmTokenSource;
  success: boolean;
  /** HTTP status (an SSE error event is recorded with its error code, or 500). */
  status: number;
  error?: string;
}

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
  /** LLM tasks: what to send (the load is then of kind `llm`, and `request.bodies` is empty). */
  llm?: LlmWork;
  /**
   * Set while the round still waits for its other agents: get ready, but send
   * nothing until the controller's `start`, so that every agent's share
   * begins at the same moment and the round's first second is a whole one.
   */
  waitForStart?: boolean;
}

export type ControllerToAgent =
  | { type: 'assign'; assignment: AgentAssignment }
  | { type: 'load'; load: LoadShape; requestLimit?: number | null }
  | { type: 'start' }
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
  llmRecords?: LlmRequestRecord[];
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
