import { FieldError, InvalidFieldError } from './errors';

/** The task JSON of `eascmd bench create`, as the user writes it. */
export type Mode = 'auto' | 'scan' | 'manual';
export type FaultAction = 'stop' | 'revise';

export interface ServiceSpec {
  serviceName: string;
  url?: string;
  requestToken?: string;
}

export interface DataSpec {
  content?: string;
  path?: string;
  multiLine?: boolean;
}

export interface HttpSpec {
  headers?: string[];
  method?: string;
  timeout?: number;
}

export interface OptionalSpec {
  mode?: Mode;
  duration?: number;
  requestCount?: number;
  agentCount?: number;
  concurrency?: number;
  minQPS?: number;
  qpsGrowthDelta?: number;
  adjustInterval?: number;
  maxQPS?: number;
  maxRT?: number;
  faultTolerate?: number;
  faultAction?: FaultAction;
}

export type LlmApi = 'chat' | 'completions';
export type LlmTestMode = 'concurrency' | 'rate' | 'throughput';

export type LlmDatasetSpec =
  | { type: 'synthetic'; inputTokens?: [number, number]; outputTokens?: [number, number] }
  | { type: 'custom' }
  | { type: 'sharegpt'; path: string };

export interface LlmSloSpec {
  ttft?: number;
  tpot?: number;
  e2el?: number;
}

export interface LlmSpec {
  api: LlmApi;
  model: string;
  testMode: LlmTestMode;
  concurrency?: number;
  requestRate?: number;
  maxConcurrency?: number;
  burstiness?: number;
  seed?: number;
  requestCount?: number;
  duration?: number;
  continuous?: boolean;
  ignoreEos?: boolean;
  dataset?: LlmDatasetSpec;
  slo?: LlmSloSpec;
}

export interface TaskSpec {
  service: ServiceSpec;
  data?: DataSpec;
  http?: HttpSpec;
  optional?: OptionalSpec;
  llm?: LlmSpec;
}

/** Every optional field with its default applied: what the controller runs. */
export interface ResolvedOptional {
  mode: Mode;
  durationS: number;
  requestCount: number | null;
  agentCount: number;
  concurrency: number;
  minQps: number;
  qpsGrowthDelta: number;
  adjustIntervalS: number;
  /** null in manual mode when no cap was given. */
  maxQps: number | null;
  maxRtMs: number | null;
  faultTolerate: number;
  faultAction: FaultAction;
}

export const DEFAULTS = {
  mode: 'auto' as Mode,
  durationS: 600,
  maxDurationS: 1200,
  agentCount: 1,
  concurrency: 2,
  minQps: 100,
  qpsGrowthDelta: 50,
  adjustIntervalS: 60,
  maxQps: 10000,
  faultTolerate: 0.001,
  faultAction: 'revise' as FaultAction,
  timeoutMs: 20000,
  llmDurationS: 300,
  llmInputTokens: 1024,
  llmOutputTokens: 128,
  llmBurstiness: 1,
};

// ---------------------------------------------------------------------------
// Declarative schema: one table says what every field may hold, so the
// validator, the -D parser and the docs agree.

type Rule =
  | { kind: 'string'; enum?: readonly string[]; minLength?: number; maxLength?: number }
  | { kind: 'integer'; min?: number; max?: number }
  | { kind: 'number'; min?: number; max?: number; exclusiveMin?: boolean }
  | { kind: 'boolean' }
  | { kind: 'stringList'; maxItems: number; maxLength: number }
  | { kind: 'intPair'; min: number; max: number }
  | { kind: 'object'; fields: Record<string, Rule>; required?: readonly string[] };

const LIMITS = {
  maxStringLength: 4096,
  maxContentLength: 64 * 1024 * 1024,
  maxHeaders: 100,
  maxAgents: 64,
  maxConcurrencyPerAgent: 10000,
  maxQps: 1_000_000,
};

const SCHEMA: Rule = {
  kind: 'object',
  required: ['service'],
  fields: {
    service: {
      kind: 'object',
      required: ['serviceName'],
      fields: {
        serviceName: { kind: 'string', minLength: 1, maxLength: 128 },
        url: { kind: 'string', minLength: 1, maxLength: LIMITS.maxStringLength },
        requestToken: { kind: 'string', maxLength: LIMITS.maxStringLength },
      },
    },
    data: {
      kind: 'object',
      fields: {
        content: { kind: 'string', maxLength: LIMITS.maxContentLength },
        path: { kind: 'string', minLength: 1, maxLength: 64 * 1024 },
        multiLine: { kind: 'boolean' },
      },
    },
    http: {
      kind: 'object',
      fields: {
        headers: { kind: 'stringList', maxItems: LIMITS.maxHeaders, maxLength: 8192 },
        method: { kind: 'string', enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] },
        timeout: { kind: 'integer', min: 1, max: 600000 },
      },
    },
    optional: {
      kind: 'object',
      fields: {
        mode: { kind: 'string', enum: ['auto', 'scan', 'manual'] },
        duration: { kind: 'integer', min: 1, max: DEFAULTS.maxDurationS },
        requestCount: { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER },
        agentCount: { kind: 'integer', min: 1, max: LIMITS.maxAgents },
        concurrency: { kind: 'integer', min: 1, max: LIMITS.maxConcurrencyPerAgent },
        minQPS: { kind: 'number', min: 0, max: LIMITS.maxQps, exclusiveMin: true },
        qpsGrowthDelta: { kind: 'number', min: 0, max: LIMITS.maxQps, exclusiveMin: true },
        adjustInterval: { kind: 'integer', min: 1, max: DEFAULTS.maxDurationS },
        maxQPS: { kind: 'number', min: 0, max: LIMITS.maxQps, exclusiveMin: true },
        maxRT: { kind: 'number', min: 0, max: 600000, exclusiveMin: true },
        faultTolerate: { kind: 'number', min: 0, max: 1 },
        faultAction: { kind: 'string', enum: ['stop', 'revise'] },
      },
    },
    llm: {
      kind: 'object',
      required: ['api', 'model', 'testMode'],
      fields: {
        api: { kind: 'string', enum: ['chat', 'completions'] },
        model: { kind: 'string', minLength: 1, maxLength: 256 },
        testMode: { kind: 'string', enum: ['concurrency', 'rate', 'throughput'] },
        concurrency: { kind: 'integer', min: 1, max: 200 },
        requestRate: { kind: 'number', min: 0, max: 10000, exclusiveMin: true },
        maxConcurrency: { kind: 'integer', min: 1, max: 1000 },
        burstiness: { kind: 'number', min: 0.1, max: 200 },
        seed: { kind: 'integer', min: 0, max: 4294967295 },
        requestCount: { kind: 'integer', min: 100, max: 1000 },
        duration: { kind: 'integer', min: 30, max: DEFAULTS.maxDurationS },
        continuous: { kind: 'boolean' },
        ignoreEos: { kind: 'boolean' },
        dataset: {
          kind: 'object',
          required: ['type'],
          fields: {
            type: { kind: 'string', enum: ['synthetic', 'custom', 'sharegpt'] },
            inputTokens: { kind: 'intPair', min: 10, max: 10000 },
            outputTokens: { kind: 'intPair', min: 10, max: 10000 },
            path: { kind: 'string', minLength: 1, maxLength: LIMITS.maxStringLength },
          },
        },
        slo: {
          kind: 'object',
          fields: {
            ttft: { kind: 'number', min: 0, max: 600000, exclusiveMin: true },
            tpot: { kind: 'number', min: 0, max: 600000, exclusiveMin: true },
            e2el: { kind: 'number', min: 0, max: 600000, exclusiveMin: true },
          },
        },
      },
    },
  },
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkRule(rule: Rule, value: unknown, path: string, errors: FieldError[]): void {
  switch (rule.kind) {
    case 'string': {
      if (typeof value !== 'string') {
        errors.push({ field: path, message: `must be a string, got ${describe(value)}` });
        return;
      }
      if (rule.enum && !rule.enum.includes(value)) {
        errors.push({ field: path, message: `must be one of ${rule.enum.join(', ')}` });
      }
      if (rule.minLength !== undefined && value.length < rule.minLength) {
        errors.push({ field: path, message: rule.minLength === 1 ? 'must not be empty' : `must be at least ${rule.minLength} characters` });
      }
      if (rule.maxLength !== undefined && value.length > rule.maxLength) {
        errors.push({ field: path, message: `must be at most ${rule.maxLength} characters` });
      }
      return;
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        errors.push({ field: path, message: `must be ${rule.kind === 'integer' ? 'an integer' : 'a number'}, got ${describe(value)}` });
        return;
      }
      if (rule.kind === 'integer' && !Number.isInteger(value)) {
        errors.push({ field: path, message: 'must be an integer' });
        return;
      }
      if (rule.min !== undefined) {
        const exclusive = rule.kind === 'number' && rule.exclusiveMin === true;
        if (exclusive ? value <= rule.min : value < rule.min) {
          errors.push({ field: path, message: `must be ${exclusive ? '>' : '>='} ${rule.min}` });
        }
      }
      if (rule.max !== undefined && value > rule.max) {
        errors.push({ field: path, message: `must be <= ${rule.max}` });
      }
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') errors.push({ field: path, message: `must be a boolean, got ${describe(value)}` });
      return;
    case 'stringList': {
      if (!Array.isArray(value)) {
        errors.push({ field: path, message: `must be a list of strings, got ${describe(value)}` });
        return;
      }
      if (value.length > rule.maxItems) errors.push({ field: path, message: `must have at most ${rule.maxItems} items` });
      value.slice(0, rule.maxItems).forEach((item, i) => {
        if (typeof item !== 'string') errors.push({ field: `${path}[${i}]`, message: `must be a string, got ${describe(item)}` });
        else if (item.length > rule.maxLength) errors.push({ field: `${path}[${i}]`, message: `must be at most ${rule.maxLength} characters` });
      });
      return;
    }
    case 'intPair': {
      if (!Array.isArray(value) || value.length !== 2) {
        errors.push({ field: path, message: 'must be a list [min, max] of two integers' });
        return;
      }
      const [lo, hi] = value as unknown[];
      for (const [i, v] of [lo, hi].entries()) {
        if (typeof v !== 'number' || !Number.isInteger(v)) errors.push({ field: `${path}[${i}]`, message: 'must be an integer' });
        else if (v < rule.min || v > rule.max) errors.push({ field: `${path}[${i}]`, message: `must be between ${rule.min} and ${rule.max}` });
      }
      if (typeof lo === 'number' && typeof hi === 'number' && lo > hi) errors.push({ field: path, message: 'min must be <= max' });
      return;
    }
    case 'object': {
      if (!isPlainObject(value)) {
        errors.push({ field: path || '(root)', message: `must be an object, got ${describe(value)}` });
        return;
      }
      for (const key of Object.keys(value)) {
        const sub = rule.fields[key];
        const subPath = path ? `${path}.${key}` : key;
        if (!Object.prototype.hasOwnProperty.call(rule.fields, key) || !sub) {
          errors.push({ field: subPath, message: 'unknown field' });
          continue;
        }
        if (value[key] === undefined) continue;
        checkRule(sub, value[key], subPath, errors);
      }
      for (const key of rule.required ?? []) {
        if (value[key] === undefined) errors.push({ field: path ? `${path}.${key}` : key, message: 'is required' });
      }
      return;
    }
  }
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Splits `"Name:value"`; the value may itself contain ':'. */
export function parseHeaderLine(line: string): { name: string; value: string } | undefined {
  const colon = line.indexOf(':');
  if (colon <= 0) return undefined;
  const name = line.slice(0, colon).trim();
  if (!HEADER_NAME.test(name)) return undefined;
  return { name, value: line.slice(colon + 1).trim() };
}

export function isValidBase64(text: string): boolean {
  const compact = text.replace(/\s+/g, '');
  return compact.length > 0 && compact.length % 4 === 0 && BASE64.test(compact);
}

function crossFieldChecks(task: TaskSpec, errors: FieldError[]): void {
  const optional = task.optional ?? {};
  const mode = optional.mode ?? DEFAULTS.mode;
  if (task.data?.content !== undefined && !isValidBase64(task.data.content)) {
    errors.push({ field: 'data.content', message: 'must be base64 (for example the output of `echo -n BODY | base64`)' });
  }
  if (task.data?.content !== undefined && task.data.path !== undefined) {
    errors.push({ field: 'data', message: 'give either data.content or data.path, not both' });
  }
  (task.http?.headers ?? []).forEach((line, i) => {
    if (typeof line === 'string' && !parseHeaderLine(line)) {
      errors.push({ field: `http.headers[${i}]`, message: 'must look like "Name:value"' });
    }
  });
  if (task.service.url !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(task.service.url);
    } catch {
      errors.push({ field: 'service.url', message: 'must be an absolute http(s) URL' });
    }
    if (parsed && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      errors.push({ field: 'service.url', message: 'must use http or https' });
    }
  }
  const minQps = optional.minQPS ?? DEFAULTS.minQps;
  if (mode === 'scan' && optional.maxQPS !== undefined && minQps > optional.maxQPS) {
    errors.push({ field: 'optional.minQPS', message: `must be <= optional.maxQPS (${optional.maxQPS})` });
  }
  const llm = task.llm;
  if (llm) {
    if (llm.testMode === 'rate' && llm.requestRate === undefined) {
      errors.push({ field: 'llm.requestRate', message: 'is required when llm.testMode is rate' });
    }
    const dataset = llm.dataset;
    if (dataset?.type === 'sharegpt' && !('path' in dataset && dataset.path)) {
      errors.push({ field: 'llm.dataset.path', message: 'is required when llm.dataset.type is sharegpt' });
    }
    if (dataset && dataset.type !== 'synthetic' && ('inputTokens' in dataset || 'outputTokens' in dataset)) {
      errors.push({ field: 'llm.dataset', message: 'inputTokens and outputTokens apply only to the synthetic dataset' });
    }
    if (dataset?.type === 'custom' && !task.data?.content && !task.data?.path) {
      errors.push({ field: 'data', message: 'the custom llm dataset needs data.content or data.path' });
    }
  }
}

/**
 * Checks a parsed task JSON. Returns every problem, each with the dotted path
 * of its field, so a user fixes the file in one go.
 */
export function validateTask(input: unknown): { ok: true; task: TaskSpec } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  checkRule(SCHEMA, input, '', errors);
  if (errors.length === 0) crossFieldChecks(input as TaskSpec, errors);
  return errors.length === 0 ? { ok: true, task: input as TaskSpec } : { ok: false, errors };
}

/** Like validateTask, but throws one InvalidFieldError. */
export function assertValidTask(input: unknown): TaskSpec {
  const result = validateTask(input);
  if (!result.ok) throw new InvalidFieldError(result.errors);
  return result.task;
}

/** Parses JSON text of a task, reporting syntax errors with their position. */
export function parseTaskJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidFieldError([{ field: '', message: `not valid JSON: ${(err as Error).message}` }]);
  }
}

export function resolveOptional(task: TaskSpec): ResolvedOptional {
  const o = task.optional ?? {};
  const mode = o.mode ?? DEFAULTS.mode;
  return {
    mode,
    durationS: o.duration ?? DEFAULTS.durationS,
    requestCount: o.requestCount ?? null,
    agentCount: o.agentCount ?? DEFAULTS.agentCount,
    concurrency: o.concurrency ?? DEFAULTS.concurrency,
    minQps: o.minQPS ?? DEFAULTS.minQps,
    qpsGrowthDelta: o.qpsGrowthDelta ?? DEFAULTS.qpsGrowthDelta,
    adjustIntervalS: o.adjustInterval ?? DEFAULTS.adjustIntervalS,
    maxQps: o.maxQPS ?? (mode === 'manual' ? null : DEFAULTS.maxQps),
    maxRtMs: o.maxRT ?? null,
    faultTolerate: o.faultTolerate ?? DEFAULTS.faultTolerate,
    faultAction: o.faultAction ?? DEFAULTS.faultAction,
  };
}

/** The task as the controller stores and shows it: the user's JSON with the optional defaults written out. */
export function normalizeTask(task: TaskSpec): TaskSpec {
  const r = resolveOptional(task);
  const optional: OptionalSpec = {
    mode: r.mode,
    duration: r.durationS,
    ...(r.requestCount !== null ? { requestCount: r.requestCount } : {}),
  };
  if (r.mode === 'manual') {
    optional.agentCount = r.agentCount;
    optional.concurrency = r.concurrency;
    if (r.maxQps !== null) optional.maxQPS = r.maxQps;
  } else {
    if (r.mode === 'scan') {
      optional.minQPS = r.minQps;
      optional.qpsGrowthDelta = r.qpsGrowthDelta;
      optional.adjustInterval = r.adjustIntervalS;
    }
    optional.maxQPS = r.maxQps ?? DEFAULTS.maxQps;
    if (r.maxRtMs !== null) optional.maxRT = r.maxRtMs;
    optional.faultTolerate = r.faultTolerate;
    optional.faultAction = r.faultAction;
    // an llm task runs its own load, whatever the mode, on optional.agentCount agents
    if (task.llm) optional.agentCount = r.agentCount;
  }
  return { ...task, optional };
}

/** Task name: benchmark-<serviceName lowercased, '_' -> '-'>-<4 hex>. */
export function taskNamePrefix(serviceName: string): string {
  return `benchmark-${serviceName.toLowerCase().replace(/_/g, '-')}`;
}
