import type { FieldError } from './errors';
import { isCount, isNonNegative, isObject, isStringArray } from './field-checks';
import { checkRule, type Rule } from './schema-rules';

/**
 * `data.replay` with `optional.mode: "replay"` (docs/modes.md, docs/data.md):
 * a recorded log sent again at its recorded offsets divided by `speed`,
 * open loop. The controller reads and parses the log (controller/data/replay.ts)
 * and gives every agent the whole of it once (the template's `replay`); an
 * agent takes records lane, lane + lanes, ... (the load's `replay`), so the
 * agents together send every record once, as a stages ramp is split.
 */
export type ReplayFormat = 'jsonl' | 'nginx' | 'csv';

export interface ReplaySpec {
  /** A source as `data.path` takes one (a local path under --data-root, s3://, oss://, http(s)://). */
  path?: string;
  /** An http(s) URL, fetched as a `data.path` URL is. */
  url?: string;
  format: ReplayFormat;
  /** Offsets are divided by it: 2 sends the log in half its time. */
  speed?: number;
  /** Send the log again and again until the round's duration. */
  loop?: boolean;
  /** jsonl and csv: the field holding the request body as text (default `body`; `bodyBase64` is read as base64). */
  bodyField?: string;
}

export const DEFAULT_REPLAY_SPEED = 1;
/** Most records a log may hold: every agent is given all of them. */
export const MAX_REPLAY_RECORDS = 1_000_000;
/** Most bytes a log may have as read. */
export const MAX_REPLAY_BYTES = 64 * 1024 * 1024;

const REPLAY_RULE: Rule = {
  kind: 'object',
  required: ['format'],
  fields: {
    path: { kind: 'string', minLength: 1, maxLength: 4096 },
    url: { kind: 'string', minLength: 1, maxLength: 4096 },
    format: { kind: 'string', enum: ['jsonl', 'nginx', 'csv'] },
    speed: { kind: 'number', min: 0.01, max: 1000 },
    loop: { kind: 'boolean' },
    bodyField: { kind: 'string', minLength: 1, maxLength: 64 },
  },
};

/** The schema's entry for `data.replay` (task.ts); `replayChecks` checks it with the mode it needs. */
export const REPLAY_DATA_RULE: Rule = { kind: 'external', checkedBy: 'replayChecks' };

/** Checks `data.replay` and `optional.mode: "replay"` together: each needs the other. */
export function replayChecks(task: Record<string, unknown>, errors: FieldError[]): void {
  const data = isObject(task.data) ? task.data : undefined;
  const replay = data?.replay;
  const isReplayMode = isObject(task.optional) && task.optional.mode === 'replay';
  if (replay === undefined) {
    if (isReplayMode) errors.push({ field: 'data.replay', message: 'is required when optional.mode is "replay" (the log to send: {"path" or "url", "format"})' });
    return;
  }
  const before = errors.length;
  checkRule(REPLAY_RULE, replay, 'data.replay', errors);
  if (errors.length > before || !isObject(replay)) return;
  if (!isReplayMode) errors.push({ field: 'optional.mode', message: 'must be "replay" when data.replay is given' });
  if ((replay.path === undefined) === (replay.url === undefined)) errors.push({ field: 'data.replay', message: 'give "path" (a data source) or "url", one of them' });
  // one log: data.path's reader takes a comma as a list of sources
  for (const key of ['path', 'url'] as const) {
    if (typeof replay[key] === 'string' && (replay[key] as string).includes(',')) errors.push({ field: `data.replay.${key}`, message: 'names one log (no ",")' });
  }
  if (typeof replay.url === 'string' && !/^https?:\/\//i.test(replay.url)) errors.push({ field: 'data.replay.url', message: 'must be an http(s) URL (a local path goes in data.replay.path)' });
  if (replay.bodyField !== undefined && replay.format === 'nginx') errors.push({ field: 'data.replay.bodyField', message: 'applies to jsonl and csv logs (the nginx log has no body)' });
  for (const key of ['content', 'path', 'multiLine']) {
    if (data?.[key] !== undefined) errors.push({ field: `data.${key}`, message: 'a replay takes each request (and its body) from its log: give data.replay alone' });
  }
  if (task.llm !== undefined) errors.push({ field: 'data.replay', message: 'an llm task sends the requests of its llm section' });
}

/** The source of a replay, as the data readers take it. */
export function replaySource(spec: ReplaySpec): string {
  return spec.path ?? spec.url ?? '';
}

// ------------------------------------------------------------------ what the agents are given

/** One distinct request of the log: the records refer to it by index. */
export interface ReplayRequest {
  url: string;
  method: string;
  headers: [string, string][];
  /** At most one body, base64. */
  bodies: string[];
  /** Index of its name in `ReplayRequests.names`. */
  name: number;
}

/** The template's `replay`: the log's requests, and its records in time order. */
export interface ReplayRequests {
  /** The names the figures are counted under (a path each, the rest as `other`). */
  names: string[];
  requests: ReplayRequest[];
  /** Record k is due at `times[k]` ms from the round's start (the log's offset divided by speed); ascending. */
  times: number[];
  /** Record k sends `requests[picks[k]]`. */
  picks: number[];
}

/** The load's `replay`: which records this agent takes, and where the round stands. */
export interface ReplayLoad {
  /** Where on the schedule this load takes effect, ms from the round's start (0 before the start). */
  atMs: number;
  lane: number;
  lanes: number;
  /** One pass of the log, ms (at speed); with `loop` pass c sends record k at c × periodMs + times[k]. */
  periodMs: number;
  loop: boolean;
}

/** A replay load's fields, checked (protocol.ts). */
export function isReplayLoad(value: unknown): value is ReplayLoad {
  if (!isObject(value) || !isNonNegative(value.atMs) || !isCount(value.lanes) || value.lanes < 1 || !isCount(value.lane) || value.lane >= value.lanes) return false;
  return isNonNegative(value.periodMs) && value.periodMs > 0 && typeof value.loop === 'boolean';
}

/** A template's replay, checked (protocol.ts): every pick names a request, every request a name, times ascending. */
export function isReplayRequests(value: unknown): value is ReplayRequests {
  if (!isObject(value) || !isStringArray(value.names) || !Array.isArray(value.requests) || !Array.isArray(value.times) || !Array.isArray(value.picks)) return false;
  const { names, requests, times, picks } = value as unknown as ReplayRequests;
  if (names.length === 0 || requests.length === 0 || times.length === 0 || times.length !== picks.length || times.length > MAX_REPLAY_RECORDS) return false;
  const requestsOk = requests.every(
    (r: unknown) =>
      isObject(r) &&
      typeof r.url === 'string' &&
      typeof r.method === 'string' &&
      Array.isArray(r.headers) &&
      r.headers.every((pair) => isStringArray(pair) && pair.length === 2) &&
      isStringArray(r.bodies) &&
      r.bodies.length <= 1 &&
      isCount(r.name) &&
      r.name < names.length,
  );
  if (!requestsOk) return false;
  for (let k = 0; k < times.length; k++) {
    if (!isNonNegative(times[k]) || (k > 0 && times[k] < times[k - 1]) || !isCount(picks[k]) || picks[k] >= requests.length) return false;
  }
  return true;
}

/** The first record index (global over passes) of `lane` due at or after `atMs`. */
export function firstReplayIndexAt(times: readonly number[], periodMs: number, loop: boolean, atMs: number, lane: number, lanes: number): number {
  if (atMs <= 0) return lane;
  const n = times.length;
  const pass = loop ? Math.floor(atMs / periodMs) : 0;
  const within = atMs - pass * periodMs;
  const dueBefore = pass * n + lowerBound(times, within);
  return lane + Math.max(0, Math.ceil((dueBefore - lane) / lanes)) * lanes;
}

/** Records due in [0, tMs) of the schedule (passes included when it loops). */
export function replayCountBy(times: readonly number[], periodMs: number, loop: boolean, tMs: number): number {
  if (tMs <= 0) return 0;
  if (!loop) return lowerBound(times, tMs);
  const pass = Math.floor(tMs / periodMs);
  return pass * times.length + lowerBound(times, tMs - pass * periodMs);
}

/** Index of the first time >= t (times ascending). */
function lowerBound(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
