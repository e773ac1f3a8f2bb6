import {
  BenchError,
  DEFAULT_REPLAY_SPEED,
  DEFAULTS,
  MAX_REPLAY_BYTES,
  MAX_REPLAY_RECORDS,
  MAX_REQUEST_NAMES,
  originProblem,
  REPLAY_OTHER_NAME,
  replaySource,
  type ReplayRequest,
  type ReplayRequests,
  type ReplaySpec,
} from '../../src/contract';
import { loadEntries } from './index';
import type { DataLimits } from './limits';
import type { DataPolicy } from './policy';
import { parseLog, type LogRecord } from './replay-parse';

/** A log read and placed on the round's schedule: what the agents are given and what the mode needs. */
export interface ReplayPlan {
  requests: ReplayRequests;
  /** One pass of the log at speed, ms: its span in whole seconds, divided by speed. */
  periodMs: number;
  loop: boolean;
  /** Records that were not, and why the first was not (`line 7: no timestamp`). */
  malformed: number;
  firstProblem?: string;
  source: string;
}

/** How big a log may be: every agent is given all of it. */
export interface ReplayBounds {
  maxRecords: number;
  maxBytes: number;
}

export const REPLAY_BOUNDS: ReplayBounds = { maxRecords: MAX_REPLAY_RECORDS, maxBytes: MAX_REPLAY_BYTES };

/** The name the records of all paths past the named-requests cap are counted under. */
export const OTHER_PATHS = REPLAY_OTHER_NAME;
const MAX_NAME_CHARS = 64;

/**
 * Reads `data.replay`'s log (under the data policy, as `data.path`), parses it
 * and lays it out: records in time order from the first one's, offsets
 * divided by speed (an nginx log's records of one second spread evenly over
 * it: its times are whole seconds), the distinct requests once each, and a
 * name a path (the top paths by count; past the cap of named requests the
 * rest as `other`). Bounded in bytes and records; errors name the field.
 */
export async function readReplay(
  spec: ReplaySpec,
  serviceUrl: string,
  taskHeaders: [string, string][],
  limits: DataLimits,
  policy: DataPolicy,
  bounds: ReplayBounds = REPLAY_BOUNDS,
): Promise<ReplayPlan> {
  const source = replaySource(spec);
  const field = spec.path !== undefined ? 'data.replay.path' : 'data.replay.url';
  const maxBytes = Math.min(limits.maxSourceBytes, bounds.maxBytes);
  let files: Buffer[];
  try {
    files = await loadEntries({ path: source }, { ...limits, maxSourceBytes: maxBytes, maxTotalBytes: Math.min(limits.maxTotalBytes, maxBytes) }, policy);
  } catch (err) {
    if (err instanceof BenchError) throw new BenchError(err.code, `${field}: ${err.message}`, { field, resource: err.resource });
    throw err;
  }
  const refuse = (reason: string, at = field): never => {
    throw new BenchError('DataSourceFailed', `${at}: replay log ${source}: ${reason}`, { field: at, resource: source });
  };
  const format = spec.format;
  const log = parseLog(files.map((f) => f.toString('utf8')).join('\n'), format, spec.bodyField);
  if (log.records.length === 0) refuse(`no records (${log.malformed} malformed line(s)${log.firstProblem ? `; ${log.firstProblem}` : ''})`);
  if (log.records.length > bounds.maxRecords) refuse(`${log.records.length} records, more than the limit of ${bounds.maxRecords}`, 'data.replay');
  const origin = new URL(serviceUrl).origin;
  let malformed = log.malformed;
  let firstProblem = log.firstProblem;
  const records: LogRecord[] = [];
  for (const r of log.records) {
    const problem = r.target.startsWith('/') ? undefined : originProblem(r.target, serviceUrl);
    if (problem) {
      malformed++;
      firstProblem ??= `url ${r.target.slice(0, 80)} ${problem}`;
    } else records.push(r);
  }
  if (records.length === 0) refuse(`no record on the service's origin ${origin} (${firstProblem ?? ''})`);
  // stable: records of one time keep the log's order (an access log is written as answers end, a little out of order)
  records.sort((a, b) => a.timeMs - b.timeMs);
  const offsets = format === 'nginx' ? spreadSeconds(records) : records.map((r) => r.timeMs - records[0].timeMs);
  const speed = spec.speed ?? DEFAULT_REPLAY_SPEED;
  const spanMs = (Math.floor(offsets[offsets.length - 1] / 1000) + 1) * 1000;
  const requests = layOut(records, origin, taskHeaders);
  return {
    requests: { ...requests, times: offsets.map((o) => o / speed) },
    periodMs: spanMs / speed,
    loop: spec.loop ?? false,
    malformed,
    ...(firstProblem !== undefined ? { firstProblem } : {}),
    source,
  };
}

/** Offsets of whole-second times: the n records of a second at k/n of it, so a second's count is sent over that second. */
function spreadSeconds(records: LogRecord[]): number[] {
  const offsets: number[] = [];
  const startMs = records[0].timeMs;
  for (let i = 0; i < records.length; ) {
    let j = i;
    while (j < records.length && records[j].timeMs === records[i].timeMs) j++;
    for (let k = i; k < j; k++) offsets.push(records[i].timeMs - startMs + ((k - i) * 1000) / (j - i));
    i = j;
  }
  return offsets;
}

/** The distinct requests (each once), the names of their paths, and each record's request. */
function layOut(records: LogRecord[], origin: string, taskHeaders: [string, string][]): Omit<ReplayRequests, 'times'> {
  const counts = new Map<string, number>();
  const nameOfRecord = records.map((r) => {
    const name = pathName(r.target);
    counts.set(name, (counts.get(name) ?? 0) + 1);
    return name;
  });
  // the top paths by count, first seen first on a tie (Map order); the rest as one
  const ranked = [...counts].sort((a, b) => b[1] - a[1]).map(([name]) => name);
  const named = ranked.length <= MAX_REQUEST_NAMES ? ranked : ranked.slice(0, MAX_REQUEST_NAMES - 1);
  const names = ranked.length <= MAX_REQUEST_NAMES ? named : [...named, OTHER_PATHS];
  const nameIndex = new Map(names.map((n, i) => [n, i]));
  const requests: ReplayRequest[] = [];
  const requestIndex = new Map<string, number>();
  const picks = records.map((r, k) => {
    const url = r.target.startsWith('/') ? `${origin}${r.target}` : r.target;
    // the record's own header wins over the task's of the same name (a logged User-Agent over the task's)
    const own = new Set(r.headers.map(([name]) => name.toLowerCase()));
    const headers: [string, string][] = [...taskHeaders.filter(([name]) => !own.has(name.toLowerCase())), ...r.headers];
    const key = JSON.stringify([r.method, url, headers, r.body ?? null]);
    let index = requestIndex.get(key);
    if (index === undefined) {
      index = requests.length;
      requestIndex.set(key, index);
      requests.push({ url, method: r.method, headers, bodies: r.body !== undefined ? [r.body] : [], name: nameIndex.get(nameOfRecord[k]) ?? names.length - 1 });
    }
    return index;
  });
  return { names, requests, picks };
}

/**
 * The name a record's figures are counted under: its path without the
 * query, as a request name may be written (another character becomes `_`),
 * at most 64 characters.
 */
export function pathName(target: string): string {
  let path = target;
  if (!target.startsWith('/')) {
    try {
      path = new URL(target).pathname;
    } catch {
      path = '/';
    }
  }
  path = path.split(/[?#]/)[0] || '/';
  return path.replace(/[^A-Za-z0-9_./-]/g, '_').slice(0, MAX_NAME_CHARS);
}

/** Seconds a round replaying `plan` once lasts; a log longer than the longest round at its speed is refused. */
export function replayDurationS(plan: ReplayPlan): number {
  const durationS = Math.max(1, Math.ceil(plan.periodMs / 1000 - 1e-9));
  if (durationS > DEFAULTS.maxDurationS) {
    throw new BenchError(
      'DataSourceFailed',
      `data.replay.speed: replay log ${plan.source}: at this speed one pass lasts ${durationS} s, more than the longest round (${DEFAULTS.maxDurationS} s); raise data.replay.speed or cut the round with optional.duration`,
      { field: 'data.replay.speed', resource: plan.source },
    );
  }
  return durationS;
}
