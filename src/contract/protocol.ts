import { AGENT_LIMITS, isHistogram } from './agent-limits';
import { checkFrameFigures } from './frame-checks';
import { describeType, isCount, isName, isNonNegative, isObject, isStringArray, isText, parseJson } from './field-checks';
import { checkErrorClasses } from './error-classes';
import { checkLlmRecord, checkLlmSecond, isLlmLoad, isLlmWork, type LlmLoad, type LlmRequestRecord, type LlmSecondFrame, type LlmWork } from './llm-protocol';
import type { AgentStatsFrame, GeneratorHealth } from './stats-frame';
import { MAX_RAMP_POINTS, type RampLoad } from './ramp';
import { isReplayLoad, isReplayRequests, type ReplayLoad, type ReplayRequests } from './replay';
import { MAX_REQUEST_NAMES, parseNamedSeconds } from './requests';

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
  /**
   * A task's named requests (requests.ts), when it has them: each with its
   * own URL (on the template's origin), method, headers and at most one body;
   * sent in the order of `weightedCycle` of their weights. The fields above
   * are then the first one's.
   */
  mix?: MixedRequest[];
  /**
   * A replay (replay.ts): the log's distinct requests and its records, sent
   * at their times by the open load's `replay` lane. The fields above are
   * then the first request's.
   */
  replay?: ReplayRequests;
}

export interface MixedRequest {
  name: string;
  url: string;
  method: string;
  headers: [string, string][];
  bodies: string[];
  weight: number;
}

/**
 * How an agent drives load:
 * - closed: `concurrency` workers, each sending when its previous request ends;
 *   `maxQps` (optional) caps this agent's rate.
 * - open: requests at scheduled times, `qps` per second for this agent,
 *   whatever the service does (latency measured from the scheduled time);
 *   with `ramp`, the times follow the round's ramp instead and `qps` is this
 *   agent's highest share of it (what its connections are sized for); with
 *   `replay`, the times are the template's replay records of its lane.
 */
export type LoadShape =
  | { kind: 'closed'; concurrency: number; maxQps: number | null }
  | { kind: 'open'; qps: number; maxInFlight: number; ramp?: RampLoad; replay?: ReplayLoad }
  | LlmLoad;

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

export type AgentToController =
  | { type: 'hello'; agentId: string; token: string; pid: number; host: string; version: number }
  /** `connections`: how many the agent opened ahead of the schedule. */
  | { type: 'ready'; connections?: number }
  /** `droppedRecords`: set by the parser only, when records of the frame failed their checks and were left out (the rest of the frame stands). */
  | { type: 'stats'; frame: AgentStatsFrame; droppedRecords?: DroppedRecords }
  | { type: 'done'; reason: 'limit' | 'stopped'; totalSent: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

/** LLM records of a frame that failed their checks: how many, and why the first did. */
export interface DroppedRecords {
  count: number;
  reason: string;
}

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
// malformed frame is refused with a reason, never half-trusted. The LLM
// parts of a frame are checked in llm-protocol.ts; the field checks
// (field-checks.ts) and the bounds (agent-limits.ts) are the pool's (pool.ts) too.

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

const FRAME_COUNTS = ['second', 'requests', 'sent', 'bytesIn', 'bytesOut', 'dropped', 'inFlight', 'totalSent'] as const;

/**
 * Every reason parseAgentMessage gives for a stats message starts so: such a
 * message is one refused frame (its second is lost, the agent's socket and
 * other seconds stay), where any other refused message ends the socket.
 */
export const STATS_REFUSAL_PREFIX = 'stats: ';

function checkStatsFrame(value: unknown): { frame: AgentStatsFrame; droppedRecords?: DroppedRecords } | string {
  if (!isObject(value)) return 'frame must be an object';
  for (const key of FRAME_COUNTS) if (!isCount(value[key])) return `frame.${key} must be a count`;
  if (!isNonNegative(value.eventLoopLagMs)) return 'frame.eventLoopLagMs must be a number >= 0';
  if (!isHistogram(value.rtHistogram)) return 'frame.rtHistogram must be a base64 histogram';
  if (!isHistogram(value.lagHistogram)) return 'frame.lagHistogram must be a base64 histogram';
  const statusCodes = checkStatusCodes(value.statusCodes);
  if (typeof statusCodes === 'string') return `frame.${statusCodes}`;
  const errorClasses = checkErrorClasses(value.errorClasses);
  if (typeof errorClasses === 'string') return `frame.${errorClasses}`;
  const generator = checkGeneratorHealth(value.generator);
  if (typeof generator === 'string') return `frame.${generator}`;
  const byName = parseNamedSeconds(value.byName);
  if (typeof byName === 'string') return `frame.${byName}`;
  let llmRecords: LlmRequestRecord[] | undefined;
  let droppedRecords: DroppedRecords | undefined;
  if (value.llmRecords !== undefined) {
    if (!Array.isArray(value.llmRecords)) return 'frame.llmRecords must be an array';
    llmRecords = [];
    // a record with a bad field is one request lost, not the whole second
    for (let i = 0; i < value.llmRecords.length; i++) {
      const record = checkLlmRecord(value.llmRecords[i], i);
      if (typeof record !== 'string') llmRecords.push(record);
      else if (droppedRecords) droppedRecords.count++;
      else droppedRecords = { count: 1, reason: `frame.${record}` };
    }
  }
  let llm: LlmSecondFrame | undefined;
  if (value.llm !== undefined) {
    const checked = checkLlmSecond(value.llm);
    if (typeof checked === 'string') return `frame.${checked}`;
    llm = checked;
  }
  const counts = value as Record<(typeof FRAME_COUNTS)[number], number>;
  const frame: AgentStatsFrame = {
    second: counts.second,
    requests: counts.requests,
    sent: counts.sent,
    statusCodes,
    ...(errorClasses ? { errorClasses } : {}),
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
    ...(byName ? { byName } : {}),
  };
  const figures = checkFrameFigures(frame, Array.isArray(value.llmRecords) ? value.llmRecords.length : 0);
  if (figures) return figures;
  return droppedRecords ? { frame, droppedRecords } : { frame };
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
      const checked = checkStatsFrame(value.frame);
      return typeof checked === 'string' ? `${STATS_REFUSAL_PREFIX}${checked}` : { type: 'stats', ...checked };
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

function isLoadShape(value: unknown): value is LoadShape {
  if (!isObject(value)) return false;
  switch (value.kind) {
    case 'closed':
      return isCount(value.concurrency) && (value.maxQps === null || isNonNegative(value.maxQps));
    case 'open':
      return (
        isNonNegative(value.qps) &&
        isCount(value.maxInFlight) &&
        (value.ramp === undefined || isRampLoad(value.ramp)) &&
        (value.replay === undefined || isReplayLoad(value.replay))
      );
    case 'llm':
      return isLlmLoad(value);
    default:
      return false;
  }
}

function isRampLoad(value: unknown): value is RampLoad {
  if (!isObject(value) || !isNonNegative(value.atMs) || !isCount(value.lanes) || value.lanes < 1 || !isCount(value.lane) || value.lane >= value.lanes) return false;
  const points = value.points;
  if (!Array.isArray(points) || points.length === 0 || points.length > MAX_RAMP_POINTS) return false;
  return points.every(
    (p: unknown, i) => isObject(p) && isNonNegative(p.atMs) && isNonNegative(p.qps) && (i === 0 ? p.atMs === 0 : p.atMs > ((points[i - 1] as { atMs: number }).atMs)),
  );
}

function isRequestParts(value: Record<string, unknown>): boolean {
  return (
    typeof value.url === 'string' &&
    typeof value.method === 'string' &&
    Array.isArray(value.headers) &&
    value.headers.every((pair) => isStringArray(pair) && pair.length === 2) &&
    isStringArray(value.bodies)
  );
}

function isMix(value: unknown): boolean {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_REQUEST_NAMES) return false;
  return value.every((entry: unknown) => isObject(entry) && isRequestParts(entry) && typeof entry.name === 'string' && isCount(entry.weight) && entry.weight >= 1 && (entry.bodies as unknown[]).length <= 1);
}

function isRequestTemplate(value: unknown): boolean {
  return isObject(value) && isRequestParts(value) && isNonNegative(value.timeoutMs) && (value.mix === undefined || isMix(value.mix)) && (value.replay === undefined || isReplayRequests(value.replay));
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
