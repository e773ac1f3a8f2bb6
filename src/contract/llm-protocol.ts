import { AGENT_LIMITS, isHistogram } from './agent-limits';
import { isCount, isFiniteNumber, isNonNegative, isNumberOrNull, isObject, isStringArray, isText, type Fields } from './field-checks';
import { TRACE_LIMITS, type TraceRecord } from './llm-datasets';
import { parseLlmRecordTags, type LlmRecordTags } from './llm-tags';

/**
 * The LLM part of the agent protocol (protocol.ts): what an LLM agent is told
 * to send, and what it measured, each with the checks its parser applies.
 */

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
  /**
   * The connections the agent's pool opens with (it is opened once, at the
   * first load): a round whose loads change (an llm sweep) gives the most it
   * will ask for. Absent: `maxInFlight` in rate mode (or the agent's default),
   * else `concurrency`.
   */
  connections?: number;
  /**
   * A trace lane taken over mid-round (a replaced agent): `atMs`, where the
   * round stands, ms from its start; `sent`, how many of the lane's records
   * the agents that held the seat before sent. The lane goes on from the
   * next record, at its own time (those already due go at once, late).
   * Absent: the lane from its first record, at the start.
   */
  trace?: { atMs: number; sent: number };
}

/** Where an LLM agent takes its prompts from. */
export type LlmPromptSource =
  /** Prompts of exactly N tokens (N uniform in inputTokens), max_tokens uniform in outputTokens, built by the agent from `seed`. */
  | { kind: 'synthetic'; inputTokens: [number, number]; outputTokens: [number, number]; seed: number }
  /** Prompt texts (e.g. the first human turn of ShareGPT conversations), used round-robin. */
  | { kind: 'prompts'; prompts: string[] }
  /** Request bodies (JSON text) used as given, with `stream` forced on; round-robin. */
  | { kind: 'bodies'; bodies: string[] }
  /** A trace's records in order of due time, each sent once at its `atMs` (rate mode); synthesised prompts seeded by `seed`. */
  | { kind: 'trace'; records: TraceRecord[]; seed: number }
  /** Prompt k: prefix k mod prefixCount (prefixTokens tokens) and a suffix of its own (suffixTokens), max_tokens uniform in outputTokens. */
  | { kind: 'prefix'; prefixCount: number; prefixTokens: number; suffixTokens: number; outputTokens: [number, number]; seed: number };

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
  /** Bytes one response body may have before the request fails as `response too large`; absent = the agent's default (64 MiB). */
  maxResponseBytes?: number;
  /** Requests the agent sends one after another before it is ready, recorded nowhere (llm.warmupRequests). */
  warmupRequests?: number;
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
  /** Gaps past the agent's bound on one record (262,144) left out of `itlMs`; absent = none. */
  itlLeftOut?: number;
  /**
   * Client queue time, ms: rate mode, from the request's scheduled send to
   * its first actual send, the wait for a slot under `maxConcurrency` (0 when
   * it went at its time). Absent when the request had no schedule (the
   * closed-loop modes, sessions) and in records of agents before it existed.
   */
  queueMs?: number;
  success: boolean;
  /** HTTP status (an SSE error event is recorded with its error code, or 500). */
  status: number;
  error?: string;
  tags?: LlmRecordTags;
}

/**
 * The LLM metrics of a second, by their table names. `ITL` has one value a
 * request (its mean gap, AISBench's convention); `ITLGap` one value a token
 * gap, every gap of every successful request, so a stall hidden in a
 * request's mean shows in its percentiles. `ClientQueueTime` (a record's
 * `queueMs`) and `E2ELWithQueue` (E2EL plus it: the latency from the
 * scheduled send) have values only for requests with a schedule (rate mode).
 */
export const LLM_METRICS = ['TTFT', 'TPOT', 'ITL', 'ITLGap', 'E2EL', 'E2ELWithQueue', 'ClientQueueTime', 'InputTokens', 'OutputTokens', 'OutputTokenThroughput'] as const;
/** The metrics that only requests sent on a schedule have (rate mode): a table has their rows only when some request had one. */
export const SCHEDULED_LLM_METRICS = ['E2ELWithQueue', 'ClientQueueTime'] as const satisfies readonly LlmMetricKey[];
export type ScheduledLlmMetric = (typeof SCHEDULED_LLM_METRICS)[number];

/** Whether a metric's row is left out of a table when it has no value (a scheduled metric in a closed-loop run, or a round recorded before it). */
export function isScheduledLlmMetric(key: string): key is ScheduledLlmMetric {
  return (SCHEDULED_LLM_METRICS as readonly string[]).includes(key);
}
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
  /** Latest send (Unix ms) of the requests that ended in the second (the achieved request rate); absent from agents before it. */
  lastSendMs?: number | null;
}

// ------------------------------------------------------------------ parsing

/** The checks of an `llm` load shape's fields (its kind is checked by the caller). */
export function isLlmLoad(value: Fields): boolean {
  return (
    (value.testMode === 'concurrency' || value.testMode === 'rate' || value.testMode === 'throughput' || value.testMode === 'pressure') &&
    isCount(value.concurrency) &&
    (value.startConcurrency === undefined || isCount(value.startConcurrency)) &&
    (value.rampMs === undefined || isNonNegative(value.rampMs)) &&
    isNonNegative(value.ratePerS) &&
    (value.maxInFlight === null || isCount(value.maxInFlight)) &&
    (value.connections === undefined || isCount(value.connections)) &&
    (value.trace === undefined || (isObject(value.trace) && isNonNegative(value.trace.atMs) && isCount(value.trace.sent))) &&
    isNonNegative(value.burstiness) &&
    isCount(value.seed)
  );
}

function isCountPair(value: unknown): boolean {
  return Array.isArray(value) && value.length === 2 && isCount(value[0]) && isCount(value[1]);
}

/** A trace's records: bounded, in order of due time, each with a prompt text or a length. */
function isTraceRecords(value: unknown): boolean {
  if (!Array.isArray(value) || value.length === 0 || value.length > TRACE_LIMITS.maxRecords) return false;
  let lastMs = 0;
  for (const r of value as unknown[]) {
    if (!isObject(r) || !isNonNegative(r.atMs) || r.atMs < lastMs) return false;
    lastMs = r.atMs;
    if (r.prompt !== undefined ? !isText(r.prompt, TRACE_LIMITS.maxPromptChars) : !(isCount(r.inputTokens) && r.inputTokens <= TRACE_LIMITS.maxTokens)) return false;
    if (r.outputTokens !== undefined && !(isCount(r.outputTokens) && r.outputTokens <= TRACE_LIMITS.maxTokens)) return false;
    if (r.hashIds !== undefined && !(Array.isArray(r.hashIds) && r.hashIds.length <= TRACE_LIMITS.maxHashIds && r.hashIds.every((id) => Number.isSafeInteger(id) && (id as number) >= 0))) return false;
  }
  return true;
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
    case 'trace':
      return isCount(value.seed) && isTraceRecords(value.records);
    case 'prefix':
      return isCount(value.prefixCount) && isCount(value.prefixTokens) && isCount(value.suffixTokens) && isCountPair(value.outputTokens) && isCount(value.seed);
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

export function isLlmWork(value: unknown): boolean {
  return (
    isObject(value) &&
    (value.api === 'chat' || value.api === 'completions') &&
    typeof value.model === 'string' &&
    typeof value.ignoreEos === 'boolean' &&
    (value.maxTokens === null || isCount(value.maxTokens)) &&
    isPromptSource(value.source) &&
    (value.tokenizer === undefined || (isObject(value.tokenizer) && typeof value.tokenizer.name === 'string' && typeof value.tokenizer.json === 'string')) &&
    (value.retries === undefined || isCount(value.retries)) &&
    (value.maxResponseBytes === undefined || isCount(value.maxResponseBytes)) &&
    (value.warmupRequests === undefined || (isCount(value.warmupRequests) && value.warmupRequests <= 100)) &&
    (value.run === undefined || isRunWork(value.run))
  );
}

/**
 * What one record weighs in the bounds on records (AGENT_LIMITS.secondRecordValues):
 * itself, its gaps, and its error text by 8 characters.
 */
export function recordValueCount(record: Pick<LlmRequestRecord, 'itlMs' | 'error'>): number {
  return 1 + record.itlMs.length + (record.error ? Math.ceil(record.error.length / 8) : 0);
}

/** A token count as a record may carry it: what the agent takes from a service's `usage` is held to this too. */
export function isTokenCount(value: unknown): value is number {
  return isCount(value);
}

export function checkLlmRecord(value: unknown, i: number): LlmRequestRecord | string {
  const where = `llmRecords[${i}]`;
  if (!isObject(value)) return `${where} must be an object`;
  for (const key of ['agent', 'seq', 'status'] as const) if (!isCount(value[key])) return `${where}.${key} must be a count`;
  for (const key of ['inputTokens', 'outputTokens'] as const) if (!isTokenCount(value[key])) return `${where}.${key} must be a count`;
  if (value.itlLeftOut !== undefined && !isCount(value.itlLeftOut)) return `${where}.itlLeftOut must be a count`;
  if (value.queueMs !== undefined && !isNonNegative(value.queueMs)) return `${where}.queueMs must be a number >= 0`;
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
    ...(value.itlLeftOut !== undefined ? { itlLeftOut: value.itlLeftOut } : {}),
    ...(value.queueMs !== undefined ? { queueMs: value.queueMs as number } : {}),
    success: value.success,
    status: value.status as number,
    ...(value.error !== undefined ? { error: value.error } : {}),
    ...(tags !== undefined ? { tags } : {}),
  };
}

export function checkLlmSecond(value: unknown): LlmSecondFrame | string {
  if (!isObject(value)) return 'llm must be an object';
  for (const key of ['requests', 'success', 'usage', 'maxInFlight'] as const) if (!isCount(value[key])) return `llm.${key} must be a count`;
  if (!isNonNegative(value.busyMs)) return 'llm.busyMs must be a number >= 0';
  for (const key of ['maxFromMs', 'maxUntilMs', 'firstSendMs', 'lastEndMs'] as const) if (!isNumberOrNull(value[key])) return `llm.${key} must be a number or null`;
  if (value.lastSendMs !== undefined && !isNumberOrNull(value.lastSendMs)) return 'llm.lastSendMs must be a number or null';
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
    ...(value.lastSendMs !== undefined ? { lastSendMs: value.lastSendMs as number | null } : {}),
  };
}
