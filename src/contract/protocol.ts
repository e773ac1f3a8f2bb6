import { describeType, isCount, isFiniteNumber, isName, isNonNegative, isObject, isText, parseJson } from './field-checks';
import { parseLlmRecordTags, type LlmRecordTags } from './llm-tags';

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
  testMode: 'concurrency' | 'rate' | 'throughput' | 'pressure';
  /** pressure: the target, reached from `startConcurrency` over `rampMs`, then held. */
  concurrency: number;
  startConcurrency?: number;
  rampMs?: number;
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
  /** A Hugging Face tokenizer.json (its text) that counts tokens instead of the bundled encoding, and how the report names it. */
  tokenizer?: { name: string; json: string };
  /** Times a failed request is sent again. */
  retries?: number;
  /** The run mode's part of what is sent (token-sweep, consistency, sessions, tools); absent = standard. */
  run?: LlmRunWork;
}

/** What the run modes change in the requests (`llm-modes.ts` in the contract). */
export type LlmRunWork =
  /** Request k of the round (dataset index) has prompt length lengths[floor(k / perLength)] (the last length after). */
  | { kind: 'token-sweep'; lengths: number[]; perLength: number }
  /** Every request sends dataset entry 0. */
  | { kind: 'consistency' }
  /** Conversations: turns and think time log-normal, arrivals at the load's rate. */
  | { kind: 'sessions'; turns: { mu: number; sigma: number }; thinkTime: { mu: number; sigma: number }; maxTurns: number }
  /** Every request offers the tools (OpenAI `tools`), unless a custom body brings its own. */
  | { kind: 'tools' };

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
  tags?: LlmRecordTags;
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
  /**
   * Where this agent's schedule ends, ms after its `start` (the round's
   * duration); null or absent = no end. The agent sends nothing scheduled at
   * or after it and then reports `done` (reason `limit`), so a round of D
   * seconds at R per second sends R×D requests whatever the controller's stop costs.
   */
  scheduleEndMs?: number | null;
}

export type ControllerToAgent =
  | { type: 'assign'; assignment: AgentAssignment }
  | { type: 'load'; load: LoadShape; requestLimit?: number | null; scheduleEndMs?: number | null }
  | { type: 'start' }
  | { type: 'stop'; reason: string };

/**
 * How the agent itself fared in a second: the evidence that tells the
 * generator's own delay from the service's. All ms.
 */
export interface GeneratorHealth {
  /** Worst event-loop delay of the second. */
  loopDelayMaxMs: number;
  /** Garbage-collection pauses of the second: their sum and the longest. */
  gcPauseMs: number;
  gcPauseMaxMs: number;
  /** Time spent building, encoding and sending the previous second's frame. */
  frameMs: number;
  /** Longest time a request of the second waited for a free connection (0: none waited). */
  connectionWaitMaxMs: number;
}

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
  /** The agent's own figures for the second (absent from agents that do not measure them). */
  generator?: GeneratorHealth;
  /** LLM tasks: per-request records completed this second (the controller writes them to disk, it does not keep them). */
  llmRecords?: LlmRequestRecord[];
  /** LLM tasks: the second's LLM histograms and counters, what every live and stored LLM figure is made of. */
  llm?: LlmSecondFrame;
}

/** The LLM metrics of a second, by their table names. */
export const LLM_METRICS = ['TTFT', 'TPOT', 'ITL', 'E2EL', 'InputTokens', 'OutputTokens', 'OutputTokenThroughput'] as const;
export type LlmMetricKey = (typeof LLM_METRICS)[number];

/**
 * One LLM metric over one second: the HDR histogram (compressed base64) of
 * its values times the metric's scale (1000 for times and token/s: µs and
 * millitoken/s; 1 for token counts), and the exact count, sum, min and max of
 * the values themselves, so averages and extremes stay exact after merges.
 */
export interface LlmMetricSecond {
  h: string;
  n: number;
  sum: number;
  min: number;
  max: number;
}

/** What an LLM agent measured in one second: the requests that ended in it, and how many were in flight. */
export interface LlmSecondFrame {
  /** Requests that ended in the second, failed ones included. */
  requests: number;
  success: number;
  /** Successful requests whose token counts came from `usage`. */
  usage: number;
  /** Successful requests of the second, by metric; a metric without samples is absent. */
  metrics: Partial<Record<LlmMetricKey, LlmMetricSecond>>;
  /** Most requests in flight at once during the second (an end before a send at the same instant). */
  maxInFlight: number;
  /** Time integral of the in-flight count over the second, ms (busyMs / 1000 = mean in flight). */
  busyMs: number;
  /** Unix ms at which the count first reached maxInFlight in the second, and the last moment it was there; null when nothing was in flight. */
  maxFromMs: number | null;
  maxUntilMs: number | null;
  /** Earliest send and latest end (Unix ms) of the requests that ended in the second. */
  firstSendMs: number | null;
  lastEndMs: number | null;
}

export type AgentToController =
  | { type: 'hello'; agentId: string; token: string; pid: number; host: string; version: number }
  /** `connections`: how many the agent opened ahead of the schedule. */
  | { type: 'ready'; connections?: number }
  | { type: 'stats'; frame: AgentStatsFrame }
  | { type: 'done'; reason: 'limit' | 'stopped'; totalSent: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export function encodeMessage(message: ControllerToAgent | AgentToController): string {
  return JSON.stringify(message);
}

// ------------------------------------------------------------------ closing

/** Close codes by which the controller refuses an agent; the agent exits 1 on these. */
export const CLOSE_PROTOCOL = 4400;
export const CLOSE_UNAUTHORIZED = 4401;
/** The hello named an agent id that is connected already: a second socket never takes over a seat. */
export const CLOSE_AGENT_CONNECTED = 4409;

/**
 * Where a launcher puts the secret a local agent presents in its hello. The
 * command line is readable by every local user (`ps`); a process's
 * environment only by its owner.
 */
export const AGENT_TOKEN_ENV = 'EAS_BENCH_AGENT_TOKEN';

// ------------------------------------------------------------------ parsing
// Every frame is checked field by field before either side acts on it: a
// malformed frame is refused with a reason, never half-trusted. The field
// checks (field-checks.ts) are the pool's messages' (pool.ts) too.

/** Bounds of what an agent may send; each is far above what a real agent sends. */
export const AGENT_LIMITS = {
  idChars: 256,
  tokenChars: 1024,
  logChars: 64 * 1024,
  llmErrorChars: 64 * 1024,
  /** A full 1 µs..60 s histogram, 3 digits, compressed, is under 200 KB of base64. */
  histogramChars: 256 * 1024,
  statusCodes: 1000,
} as const;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Compressed HDR histogram, base64; empty means no samples. */
function isHistogram(value: unknown): value is string {
  return typeof value === 'string' && value.length <= AGENT_LIMITS.histogramChars && value.length % 4 === 0 && BASE64.test(value);
}

function checkStatusCodes(value: unknown): Record<string, number> | string {
  if (!isObject(value)) return 'statusCodes must be an object';
  const entries = Object.entries(value);
  if (entries.length > AGENT_LIMITS.statusCodes) return 'statusCodes has too many entries';
  const codes: Record<string, number> = {};
  for (const [code, n] of entries) {
    if (!/^\d{1,3}$/.test(code)) return `statusCodes key ${JSON.stringify(code.slice(0, 20))} is not a status code`;
    if (!isCount(n)) return `statusCodes.${code} must be a count`;
    codes[code] = n;
  }
  return codes;
}

function checkLlmRecord(value: unknown, i: number): LlmRequestRecord | string {
  const where = `llmRecords[${i}]`;
  if (!isObject(value)) return `${where} must be an object`;
  for (const key of ['agent', 'seq', 'inputTokens', 'outputTokens', 'status'] as const) if (!isCount(value[key])) return `${where}.${key} must be a count`;
  for (const key of ['sendMs', 'endMs'] as const) if (!isFiniteNumber(value[key])) return `${where}.${key} must be a number`;
  for (const key of ['ttftMs', 'e2elMs'] as const) if (value[key] !== null && !isNonNegative(value[key])) return `${where}.${key} must be a number >= 0 or null`;
  if (!Array.isArray(value.itlMs) || !value.itlMs.every(isNonNegative)) return `${where}.itlMs must be an array of numbers >= 0`;
  if (value.tokenSource !== 'usage' && value.tokenSource !== 'tokenizer') return `${where}.tokenSource must be usage or tokenizer`;
  if (typeof value.success !== 'boolean') return `${where}.success must be a boolean`;
  if (value.error !== undefined && !isText(value.error, AGENT_LIMITS.llmErrorChars)) return `${where}.error must be a string of at most ${AGENT_LIMITS.llmErrorChars} characters`;
  const tags = value.tags === undefined ? undefined : parseLlmRecordTags(value.tags, `${where}.tags`);
  if (typeof tags === 'string') return tags;
  return {
    agent: value.agent as number,
    seq: value.seq as number,
    sendMs: value.sendMs as number,
    endMs: value.endMs as number,
    ttftMs: value.ttftMs as number | null,
    e2elMs: value.e2elMs as number | null,
    itlMs: value.itlMs as number[],
    inputTokens: value.inputTokens as number,
    outputTokens: value.outputTokens as number,
    tokenSource: value.tokenSource,
    success: value.success,
    status: value.status as number,
    ...(value.error !== undefined ? { error: value.error } : {}),
    ...(tags !== undefined ? { tags } : {}),
  };
}

const GENERATOR_FIGURES = ['loopDelayMaxMs', 'gcPauseMs', 'gcPauseMaxMs', 'frameMs', 'connectionWaitMaxMs'] as const;

function checkGeneratorHealth(value: unknown): GeneratorHealth | undefined | string {
  if (value === undefined) return undefined;
  if (!isObject(value)) return 'generator must be an object';
  const health = {} as GeneratorHealth;
  for (const key of GENERATOR_FIGURES) {
    if (!isNonNegative(value[key])) return `generator.${key} must be a number >= 0`;
    health[key] = value[key];
  }
  return health;
}

function isNumberOrNull(value: unknown): value is number | null {
  return value === null || isFiniteNumber(value);
}

function checkLlmSecond(value: unknown): LlmSecondFrame | string {
  if (!isObject(value)) return 'llm must be an object';
  for (const key of ['requests', 'success', 'usage', 'maxInFlight'] as const) if (!isCount(value[key])) return `llm.${key} must be a count`;
  if (!isNonNegative(value.busyMs)) return 'llm.busyMs must be a number >= 0';
  for (const key of ['maxFromMs', 'maxUntilMs', 'firstSendMs', 'lastEndMs'] as const) if (!isNumberOrNull(value[key])) return `llm.${key} must be a number or null`;
  if (!isObject(value.metrics)) return 'llm.metrics must be an object';
  const metrics: Partial<Record<LlmMetricKey, LlmMetricSecond>> = {};
  for (const [name, m] of Object.entries(value.metrics)) {
    if (!(LLM_METRICS as readonly string[]).includes(name)) return `llm.metrics has an unknown metric ${JSON.stringify(name.slice(0, 40))}`;
    if (!isObject(m) || !isHistogram(m.h) || !isCount(m.n) || !isNonNegative(m.sum) || !isNonNegative(m.min) || !isNonNegative(m.max)) return `llm.metrics.${name} must be {h, n, sum, min, max}`;
    metrics[name as LlmMetricKey] = { h: m.h, n: m.n, sum: m.sum, min: m.min, max: m.max };
  }
  return {
    requests: value.requests as number,
    success: value.success as number,
    usage: value.usage as number,
    metrics,
    maxInFlight: value.maxInFlight as number,
    busyMs: value.busyMs as number,
    maxFromMs: value.maxFromMs as number | null,
    maxUntilMs: value.maxUntilMs as number | null,
    firstSendMs: value.firstSendMs as number | null,
    lastEndMs: value.lastEndMs as number | null,
  };
}

const FRAME_COUNTS = ['second', 'requests', 'sent', 'bytesIn', 'bytesOut', 'dropped', 'inFlight', 'totalSent'] as const;

function checkStatsFrame(value: unknown): AgentStatsFrame | string {
  if (!isObject(value)) return 'frame must be an object';
  for (const key of FRAME_COUNTS) if (!isCount(value[key])) return `frame.${key} must be a count`;
  if (!isNonNegative(value.eventLoopLagMs)) return 'frame.eventLoopLagMs must be a number >= 0';
  if (!isHistogram(value.rtHistogram)) return 'frame.rtHistogram must be a base64 histogram';
  if (!isHistogram(value.lagHistogram)) return 'frame.lagHistogram must be a base64 histogram';
  const statusCodes = checkStatusCodes(value.statusCodes);
  if (typeof statusCodes === 'string') return `frame.${statusCodes}`;
  const generator = checkGeneratorHealth(value.generator);
  if (typeof generator === 'string') return `frame.${generator}`;
  let llmRecords: LlmRequestRecord[] | undefined;
  if (value.llmRecords !== undefined) {
    if (!Array.isArray(value.llmRecords)) return 'frame.llmRecords must be an array';
    llmRecords = [];
    for (let i = 0; i < value.llmRecords.length; i++) {
      const record = checkLlmRecord(value.llmRecords[i], i);
      if (typeof record === 'string') return `frame.${record}`;
      llmRecords.push(record);
    }
  }
  let llm: LlmSecondFrame | undefined;
  if (value.llm !== undefined) {
    const checked = checkLlmSecond(value.llm);
    if (typeof checked === 'string') return `frame.${checked}`;
    llm = checked;
  }
  const counts = value as Record<(typeof FRAME_COUNTS)[number], number>;
  return {
    second: counts.second,
    requests: counts.requests,
    sent: counts.sent,
    statusCodes,
    bytesIn: counts.bytesIn,
    bytesOut: counts.bytesOut,
    dropped: counts.dropped,
    inFlight: counts.inFlight,
    rtHistogram: value.rtHistogram,
    lagHistogram: value.lagHistogram,
    totalSent: counts.totalSent,
    eventLoopLagMs: value.eventLoopLagMs,
    ...(generator ? { generator } : {}),
    ...(llmRecords ? { llmRecords } : {}),
    ...(llm ? { llm } : {}),
  };
}

/**
 * Parses one frame from an agent. Every field of every message type is
 * checked; the result is a fresh object holding only the known fields, so
 * nothing unchecked reaches the round, the stores or the reports. A string
 * is the reason the frame was refused.
 */
export function parseAgentMessage(text: string): AgentToController | string {
  const value = parseJson(text);
  if (value === undefined) return 'not JSON';
  if (!isObject(value)) return 'not an object';
  switch (value.type) {
    case 'hello':
      if (!isName(value.agentId, AGENT_LIMITS.idChars)) return `hello.agentId must be a name of 1 to ${AGENT_LIMITS.idChars} characters`;
      if (!isName(value.token, AGENT_LIMITS.tokenChars)) return 'hello.token must be a non-empty string';
      if (!isCount(value.pid)) return 'hello.pid must be a count';
      if (!isName(value.host, AGENT_LIMITS.idChars)) return `hello.host must be a name of 1 to ${AGENT_LIMITS.idChars} characters`;
      if (!isCount(value.version)) return 'hello.version must be a count';
      return { type: 'hello', agentId: value.agentId, token: value.token, pid: value.pid, host: value.host, version: value.version };
    case 'ready':
      if (value.connections === undefined) return { type: 'ready' };
      if (!isCount(value.connections)) return 'ready.connections must be a count';
      return { type: 'ready', connections: value.connections };
    case 'stats': {
      const frame = checkStatsFrame(value.frame);
      return typeof frame === 'string' ? `stats: ${frame}` : { type: 'stats', frame };
    }
    case 'done':
      if (value.reason !== 'limit' && value.reason !== 'stopped') return 'done.reason must be limit or stopped';
      if (!isCount(value.totalSent)) return 'done.totalSent must be a count';
      return { type: 'done', reason: value.reason, totalSent: value.totalSent };
    case 'log':
      if (value.level !== 'info' && value.level !== 'warn' && value.level !== 'error') return 'log.level must be info, warn or error';
      if (!isText(value.message, AGENT_LIMITS.logChars)) return `log.message must be a string of at most ${AGENT_LIMITS.logChars} characters`;
      return { type: 'log', level: value.level, message: value.message };
    default:
      return `unknown message type ${describeType(value.type)}`;
  }
}

function isStringArray(value: unknown, nonEmpty = false): value is string[] {
  return Array.isArray(value) && (!nonEmpty || value.length > 0) && value.every((v) => typeof v === 'string');
}

function isCountPair(value: unknown): boolean {
  return Array.isArray(value) && value.length === 2 && isCount(value[0]) && isCount(value[1]);
}

function isLoadShape(value: unknown): value is LoadShape {
  if (!isObject(value)) return false;
  switch (value.kind) {
    case 'closed':
      return isCount(value.concurrency) && (value.maxQps === null || isNonNegative(value.maxQps));
    case 'open':
      return isNonNegative(value.qps) && isCount(value.maxInFlight);
    case 'llm':
      return (
        (value.testMode === 'concurrency' || value.testMode === 'rate' || value.testMode === 'throughput' || value.testMode === 'pressure') &&
        isCount(value.concurrency) &&
        (value.startConcurrency === undefined || isCount(value.startConcurrency)) &&
        (value.rampMs === undefined || isNonNegative(value.rampMs)) &&
        isNonNegative(value.ratePerS) &&
        (value.maxInFlight === null || isCount(value.maxInFlight)) &&
        isNonNegative(value.burstiness) &&
        isCount(value.seed)
      );
    default:
      return false;
  }
}

function isPromptSource(value: unknown): boolean {
  if (!isObject(value)) return false;
  switch (value.kind) {
    case 'synthetic':
      return isCountPair(value.inputTokens) && isCountPair(value.outputTokens) && isCount(value.seed);
    case 'prompts':
      return isStringArray(value.prompts, true);
    case 'bodies':
      return isStringArray(value.bodies, true);
    default:
      return false;
  }
}

function isLogNormal(value: unknown): boolean {
  return isObject(value) && isFiniteNumber(value.mu) && isNonNegative(value.sigma);
}

function isRunWork(value: unknown): boolean {
  if (!isObject(value)) return false;
  switch (value.kind) {
    case 'token-sweep':
      return Array.isArray(value.lengths) && value.lengths.length > 0 && value.lengths.every(isCount) && isCount(value.perLength);
    case 'sessions':
      return isLogNormal(value.turns) && isLogNormal(value.thinkTime) && isCount(value.maxTurns);
    case 'consistency':
    case 'tools':
      return true;
    default:
      return false;
  }
}

function isLlmWork(value: unknown): boolean {
  return (
    isObject(value) &&
    (value.api === 'chat' || value.api === 'completions') &&
    typeof value.model === 'string' &&
    typeof value.ignoreEos === 'boolean' &&
    (value.maxTokens === null || isCount(value.maxTokens)) &&
    isPromptSource(value.source) &&
    (value.tokenizer === undefined || (isObject(value.tokenizer) && typeof value.tokenizer.name === 'string' && typeof value.tokenizer.json === 'string')) &&
    (value.retries === undefined || isCount(value.retries)) &&
    (value.run === undefined || isRunWork(value.run))
  );
}

function isRequestTemplate(value: unknown): boolean {
  return (
    isObject(value) &&
    typeof value.url === 'string' &&
    typeof value.method === 'string' &&
    Array.isArray(value.headers) &&
    value.headers.every((pair) => isStringArray(pair) && pair.length === 2) &&
    isStringArray(value.bodies) &&
    isNonNegative(value.timeoutMs)
  );
}

function isScheduleEnd(value: unknown): boolean {
  return value === undefined || value === null || isNonNegative(value);
}

function isAssignment(value: unknown): boolean {
  if (!isObject(value) || !isLoadShape(value.load)) return false;
  return (
    typeof value.taskId === 'string' &&
    isCount(value.roundId) &&
    isCount(value.agentIndex) &&
    isCount(value.agentCount) &&
    isCount(value.startOffset) &&
    isRequestTemplate(value.request) &&
    (value.requestLimit === null || isCount(value.requestLimit)) &&
    (value.llm === undefined || isLlmWork(value.llm)) &&
    (value.waitForStart === undefined || typeof value.waitForStart === 'boolean') &&
    isScheduleEnd(value.scheduleEndMs) &&
    (value.load.kind === 'llm') === (value.llm !== undefined)
  );
}

/** Parses one frame from the controller; a string is the reason it was refused. */
export function parseControllerMessage(text: string): ControllerToAgent | string {
  const value = parseJson(text);
  if (value === undefined) return 'not JSON';
  if (!isObject(value)) return 'not an object';
  switch (value.type) {
    case 'assign':
      return isAssignment(value.assignment) ? { type: 'assign', assignment: value.assignment as unknown as AgentAssignment } : 'malformed assign';
    case 'load':
      if (!isLoadShape(value.load)) return 'malformed load';
      if (value.requestLimit !== undefined && value.requestLimit !== null && !isCount(value.requestLimit)) return 'malformed load';
      if (!isScheduleEnd(value.scheduleEndMs)) return 'malformed load';
      return {
        type: 'load',
        load: value.load,
        ...(value.requestLimit !== undefined ? { requestLimit: value.requestLimit as number | null } : {}),
        ...(value.scheduleEndMs !== undefined ? { scheduleEndMs: value.scheduleEndMs as number | null } : {}),
      };
    case 'start':
      return { type: 'start' };
    case 'stop':
      return { type: 'stop', reason: typeof value.reason === 'string' ? value.reason : '' };
    default:
      return `unknown message type ${describeType(value.type)}`;
  }
}
