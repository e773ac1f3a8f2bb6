import { isHistogram } from './agent-limits';
import type { FieldError } from './errors';
import { isCount, isObject } from './field-checks';
import { headerLineProblem } from './header-line';
import { checkRule, type Rule } from './schema-rules';

/**
 * A task's top-level `requests` (docs/data.md): named requests mixed by
 * weight in any mode. Every agent sends them in the order of smooth weighted
 * round-robin (nginx's), so weights 3:1 give exactly three of the first and
 * one of the second in each 4 requests of every agent, and so of all agents.
 */
export interface RequestSpec {
  name: string;
  method?: string;
  /** Below the service's URL: its origin and this path (with a query, if any). */
  path?: string;
  /** An absolute URL on the service's origin (the agents keep connections to one origin). */
  url?: string;
  /** `Name:value` lines, as http.headers, added to them. */
  headers?: string[];
  /** The body as text (UTF-8). */
  body?: string;
  /** The body as base64 (binary), as data.content. */
  data?: string;
  /** Whole, 1 by default. */
  weight?: number;
}

/** Most named requests: each has its figures in every stats frame, so the frame stays bounded. */
export const MAX_REQUEST_NAMES = 32;
const MAX_WEIGHT = 100;
const NAME = /^[A-Za-z0-9_.-]+$/;
/** A name a frame may count under: a task's request name, or a replayed log's path (replay names are paths). */
const FRAME_NAME = /^[A-Za-z0-9_./-]+$/;

const REQUEST_RULE: Rule = {
  kind: 'object',
  required: ['name'],
  fields: {
    name: { kind: 'string', minLength: 1, maxLength: 64, pattern: { test: NAME, message: 'may hold only letters, digits, ".", "-" and "_"' } },
    method: { kind: 'string', enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] },
    path: { kind: 'string', minLength: 1, maxLength: 8192 },
    url: { kind: 'string', minLength: 1, maxLength: 8192 },
    headers: { kind: 'stringList', maxItems: 100, maxLength: 8192 },
    body: { kind: 'string', maxLength: 16 * 1024 * 1024 },
    data: { kind: 'string', maxLength: 16 * 1024 * 1024 },
    weight: { kind: 'integer', min: 1, max: MAX_WEIGHT },
  },
};

/** The schema's entry for `requests` (task.ts); `requestsChecks` checks it. */
export const REQUESTS_RULE: Rule = { kind: 'external', checkedBy: 'requestsChecks' };

/** Checks a task's `requests` (with the task's other sections it may not sit beside); every problem with its field. */
export function requestsChecks(task: Record<string, unknown>, isBase64: (text: string) => boolean, errors: FieldError[]): void {
  const list = task.requests;
  if (list === undefined) return;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_REQUEST_NAMES) {
    errors.push({ field: 'requests', message: `must be a list of 1 to ${MAX_REQUEST_NAMES} requests, each {"name", "path" or "url", ...}` });
    return;
  }
  if (task.llm !== undefined) errors.push({ field: 'requests', message: 'an llm task sends the requests of its llm section' });
  if (isObject(task.data)) errors.push({ field: 'data', message: 'a task with requests gives each its body (requests[i].body or .data)' });
  const serviceUrl = isObject(task.service) && typeof task.service.url === 'string' ? task.service.url : undefined;
  const names = new Set<string>();
  list.forEach((entry: unknown, i) => {
    const field = `requests[${i}]`;
    const before = errors.length;
    checkRule(REQUEST_RULE, entry, field, errors);
    if (errors.length > before || !isObject(entry)) return;
    const spec = entry as unknown as RequestSpec;
    if (names.has(spec.name)) errors.push({ field: `${field}.name`, message: `"${spec.name}" is named twice: each name has its own figures` });
    names.add(spec.name);
    if ((spec.path === undefined) === (spec.url === undefined)) errors.push({ field, message: 'give "path" (below the service URL) or "url", one of them' });
    if (spec.path !== undefined && !spec.path.startsWith('/')) errors.push({ field: `${field}.path`, message: 'must start with "/"' });
    if (spec.url !== undefined && serviceUrl !== undefined) {
      const problem = originProblem(spec.url, serviceUrl);
      if (problem) errors.push({ field: `${field}.url`, message: problem });
    }
    if (spec.body !== undefined && spec.data !== undefined) errors.push({ field, message: 'give "body" (text) or "data" (base64), not both' });
    if (spec.data !== undefined && !isBase64(spec.data)) errors.push({ field: `${field}.data`, message: 'must be base64' });
    (spec.headers ?? []).forEach((line, h) => {
      const problem = headerLineProblem(line);
      if (problem) errors.push({ field: `${field}.headers[${h}]`, message: problem });
    });
  });
}

/** Why `url` cannot be sent beside the service at `serviceUrl` (the agents' connections are to one origin), or undefined. */
export function originProblem(url: string, serviceUrl: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  let service: URL;
  try {
    service = new URL(serviceUrl);
  } catch {
    return undefined; // the service URL has its own error
  }
  return parsed.origin === service.origin ? undefined : `must be on the service's origin ${service.origin} (the agents keep connections to one origin)`;
}

/**
 * Smooth weighted round-robin (nginx): each turn every entry gains its
 * weight, the largest (the first on a tie) is taken and loses the total. One
 * cycle is `sum(weights)` long, each entry taken `weight` times and spread
 * through it (3:1 gives 0 0 1 0).
 */
export function weightedCycle(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const current = weights.map(() => 0);
  const cycle: number[] = [];
  for (let turn = 0; turn < total; turn++) {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i] += weights[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    cycle.push(best);
  }
  return cycle;
}

/** One named request's figures, for a second (its QPS is its requests) or a round (over its DurationS). */
export interface NamedFigures {
  Name: string;
  Requests: number;
  Errors: number;
  ErrorRate: number;
  QPS: number;
  TP50: number;
  TP90: number;
  TP99: number;
  TP999: number;
}

/** A stats frame's `byName`, checked field by field (its figures against the frame's: frame-checks.ts). */
export function parseNamedSeconds(value: unknown): Record<string, { requests: number; errors: number; rtHistogram: string }> | undefined | string {
  if (value === undefined) return undefined;
  if (!isObject(value)) return 'byName must be an object';
  const entries = Object.entries(value);
  if (entries.length > MAX_REQUEST_NAMES) return `byName has ${entries.length} names, over ${MAX_REQUEST_NAMES}`;
  const named: Record<string, { requests: number; errors: number; rtHistogram: string }> = {};
  for (const [name, figures] of entries) {
    const where = `byName.${JSON.stringify(name.slice(0, 64))}`;
    if (name.length > 64 || !FRAME_NAME.test(name)) return `${where} is not a request name`;
    if (!isObject(figures) || !isCount(figures.requests) || !isCount(figures.errors) || !isHistogram(figures.rtHistogram)) return `${where} must be {requests, errors, rtHistogram}`;
    if (figures.errors > figures.requests) return `${where}.errors (${figures.errors}) is over its requests (${figures.requests})`;
    named[name] = { requests: figures.requests, errors: figures.errors, rtHistogram: figures.rtHistogram };
  }
  return named;
}

/** The names of a task's requests as given (unchecked input: what is not a named entry is skipped). */
export function requestNamesOf(requests: unknown): string[] {
  if (!Array.isArray(requests)) return [];
  return requests.flatMap((r: unknown) => (isObject(r) && typeof r.name === 'string' ? [r.name] : []));
}
