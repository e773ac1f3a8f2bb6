import { FieldError, InvalidFieldError } from './errors';
import { headerLineProblem } from './header-line';
import { llmDatasetChecks } from './llm-datasets';
import { llmModeChecks } from './llm-modes';
import type { LlmSpec } from './llm-spec';
import { checkRule, type Rule } from './schema-rules';
import { parseThresholds, replayPathThresholds, type ParsedThreshold, type ThresholdSpec } from './thresholds';
import { isObject } from './field-checks';
import { REQUESTS_RULE, requestNamesOf, requestsChecks, type RequestSpec } from './requests';
import { STAGE_OPTIONAL_RULES, stagesChecks, type StageSpec } from './stages';
import { REPLAY_DATA_RULE, replayChecks, type ReplaySpec } from './replay';

/** The task JSON of `eascmd bench create`, as the user writes it. */
export type Mode = 'auto' | 'scan' | 'manual' | 'stages' | 'replay';
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
  /** A recorded log sent again (replay.ts), with optional.mode replay. */
  replay?: ReplaySpec;
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
  /** mode stages (stages.ts). */
  startQPS?: number;
  startConcurrency?: number;
  stages?: StageSpec[];
}

export interface TaskSpec {
  service: ServiceSpec;
  data?: DataSpec;
  http?: HttpSpec;
  optional?: OptionalSpec;
  llm?: LlmSpec;
  /** Named requests mixed by weight (requests.ts). */
  requests?: RequestSpec[];
  /** Result metric name to the comparison its figure must meet (SPEC 7, `thresholds.ts`): `{"TP99": "< 200"}`. */
  thresholds?: Record<string, ThresholdSpec>;
}

export const DEFAULTS = {
  mode: 'auto' as Mode,
  durationS: 600,
  maxDurationS: 1200,
  agentCount: 1,
  concurrency: 2,
  minQPS: 100,
  qpsGrowthDelta: 50,
  adjustIntervalS: 60,
  maxQPS: 10000,
  faultTolerate: 0.001,
  faultAction: 'revise' as FaultAction,
  timeoutMs: 20000,
  llmDurationS: 300,
  /** A generation of a few thousand tokens can stream for minutes. */
  llmTimeoutMs: 600_000,
  /** llm.maxResponseBytes: 64 MiB, some 250,000 streamed tokens. */
  llmMaxResponseBytes: 64 * 1024 * 1024,
  /**
   * llm.warmupRequests: none, so requestCount is what the service receives;
   * the stress tester's own method sends 3 (docs/llm.md).
   */
  llmWarmupRequests: 0,
  llmInputTokens: 1024,
  llmOutputTokens: 128,
  llmBurstiness: 1,
  llmSeed: 0,
  /** AISBench's default percentile columns, and P95. */
  llmPercentiles: [50, 75, 90, 95, 99] as readonly number[],
  llmConcurrency: 1,
  /** throughput mode without requestCount or maxConcurrency: how many streams "all at once" means. */
  llmThroughputStreams: 200,
};

// ---------------------------------------------------------------------------
// Declarative schema: one table says what every field may hold, so the
// validator, the -D parser and the docs agree (the kinds of rule and their
// checker: schema-rules.ts).

const LIMITS = {
  maxStringLength: 4096,
  maxContentLength: 64 * 1024 * 1024,
  maxHeaders: 100,
  maxAgents: 64,
  maxConcurrencyPerAgent: 10000,
  maxQps: 1_000_000,
  maxServiceNameLength: 64,
  /** Task names are `benchmark-<serviceName>-<4 hex>`; this also covers names written by older versions. */
  maxTaskNameLength: 128,
};

/**
 * serviceName becomes part of the task name, and the task name part of file
 * paths and report keys: only characters that can never be a path separator,
 * a dot segment or anything a shell or URL treats specially.
 */
const NAME_ALPHABET = /^[A-Za-z0-9_-]+$/;
const NAME_ALPHABET_MESSAGE = 'may hold only letters, digits, "-" and "_"';

/** A task name a route or the disk may use (the alphabet of service names, bounded). */
export function isValidTaskName(name: string): boolean {
  return name.length >= 1 && name.length <= LIMITS.maxTaskNameLength && NAME_ALPHABET.test(name);
}

/**
 * A rate in requests per second. Below 0.1 QPS an open-loop agent's interval
 * between sends stops being a sane timer (1e-300 overflowed it into a 1 ms
 * spin); the 0.1 step matches the granularity of the other rates of the
 * reference (burstiness).
 */
const qpsRule = (max: number): Rule => ({ kind: 'number', min: 0.1, max, multipleOf: 0.1 });

const logNormalRule: Rule = {
  kind: 'object',
  required: ['mu', 'sigma'],
  fields: { mu: { kind: 'number', min: -10, max: 10 }, sigma: { kind: 'number', min: 0, max: 5 } },
};

const SCHEMA: Rule = {
  kind: 'object',
  required: ['service'],
  fields: {
    service: {
      kind: 'object',
      required: ['serviceName'],
      fields: {
        serviceName: { kind: 'string', minLength: 1, maxLength: LIMITS.maxServiceNameLength, pattern: { test: NAME_ALPHABET, message: NAME_ALPHABET_MESSAGE } },
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
        replay: REPLAY_DATA_RULE,
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
        mode: { kind: 'string', enum: ['auto', 'scan', 'manual', 'stages', 'replay'] },
        duration: { kind: 'integer', min: 1, max: DEFAULTS.maxDurationS },
        requestCount: { kind: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER },
        agentCount: { kind: 'integer', min: 1, max: LIMITS.maxAgents },
        concurrency: { kind: 'integer', min: 1, max: LIMITS.maxConcurrencyPerAgent },
        minQPS: qpsRule(LIMITS.maxQps),
        qpsGrowthDelta: qpsRule(LIMITS.maxQps),
        adjustInterval: { kind: 'integer', min: 1, max: DEFAULTS.maxDurationS },
        maxQPS: qpsRule(LIMITS.maxQps),
        maxRT: { kind: 'number', min: 0, max: 600000, exclusiveMin: true },
        faultTolerate: { kind: 'number', min: 0, max: 1 },
        faultAction: { kind: 'string', enum: ['stop', 'revise'] },
        ...STAGE_OPTIONAL_RULES,
      },
    },
    llm: {
      kind: 'object',
      required: ['api', 'model', 'testMode'],
      fields: {
        api: { kind: 'string', enum: ['chat', 'completions'] },
        model: { kind: 'string', minLength: 1, maxLength: 256 },
        testMode: { kind: 'string', enum: ['concurrency', 'rate', 'throughput', 'pressure', 'sweep'] },
        concurrency: { kind: 'integer', min: 1, max: 200 },
        requestRate: qpsRule(10000),
        maxConcurrency: { kind: 'integer', min: 1, max: 1000 },
        burstiness: { kind: 'number', min: 0.1, max: 200, multipleOf: 0.1 },
        seed: { kind: 'integer', min: 0, max: 4294967295 },
        requestCount: { kind: 'integer', min: 100, max: 1000 },
        duration: { kind: 'integer', min: 30, max: DEFAULTS.maxDurationS },
        continuous: { kind: 'boolean' },
        ignoreEos: { kind: 'boolean' },
        dataset: {
          kind: 'object',
          required: ['type'],
          fields: {
            type: { kind: 'string', enum: ['synthetic', 'custom', 'sharegpt', 'trace', 'prefix'] },
            inputTokens: { kind: 'intPair', min: 10, max: 10000 },
            outputTokens: { kind: 'intPair', min: 10, max: 10000 },
            path: { kind: 'string', minLength: 1, maxLength: LIMITS.maxStringLength },
            outputLength: { kind: 'integer', min: 1, max: 10000 },
            format: { kind: 'string', enum: ['jsonl', 'csv'] },
            speed: { kind: 'number', min: 0.01, max: 1000 },
            prefixCount: { kind: 'integer', min: 1, max: 1000 },
            prefixTokens: { kind: 'integer', min: 1, max: 10000 },
            suffixTokens: { kind: 'integer', min: 1, max: 10000 },
          },
        },
        tokenizer: { kind: 'string', minLength: 1, maxLength: LIMITS.maxStringLength },
        retries: { kind: 'integer', min: 0, max: 10 },
        maxResponseBytes: { kind: 'integer', min: 64 * 1024, max: 1024 * 1024 * 1024 },
        warmupRequests: { kind: 'integer', min: 0, max: 100 },
        driftMinRunS: { kind: 'integer', min: 1, max: DEFAULTS.maxDurationS },
        startConcurrency: { kind: 'integer', min: 1, max: 200 },
        rampTime: { kind: 'integer', min: 1, max: DEFAULTS.maxDurationS },
        mode: { kind: 'string', enum: ['standard', 'token-sweep', 'consistency', 'sessions', 'tools'] },
        promptLengths: { kind: 'intList', min: 1, max: 100000, maxItems: 20 },
        sessions: {
          kind: 'object',
          fields: {
            profile: { kind: 'string', enum: ['one-shot', 'short', 'long'] },
            turns: logNormalRule,
            thinkTime: logNormalRule,
            maxTurns: { kind: 'integer', min: 1, max: 100 },
          },
        },
        percentiles: { kind: 'numberList', min: 0, max: 100, minItems: 1, maxItems: 10 },
        sweep: {
          kind: 'object',
          required: ['max'],
          fields: {
            by: { kind: 'string', enum: ['rate', 'concurrency'] },
            start: qpsRule(10000),
            max: qpsRule(10000),
            step: qpsRule(10000),
            stepS: { kind: 'integer', min: 3, max: 600 },
            bisections: { kind: 'integer', min: 0, max: 10 },
            sloPercentile: { kind: 'number', min: 50, max: 100 },
            minGoodputGain: { kind: 'number', min: 0, max: 1 },
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
    requests: REQUESTS_RULE,
    // which names are known depends on the llm section: taskThresholds checks it
    thresholds: { kind: 'external', checkedBy: 'taskThresholds' },
  },
};

// No repeated group: a backtracking `(?:....)*` recursed once per 4 characters and overflowed the stack near 8 MB.
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

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
    if (typeof line !== 'string') return;
    const problem = headerLineProblem(line);
    if (problem) errors.push({ field: `http.headers[${i}]`, message: problem });
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
  const minQps = optional.minQPS ?? DEFAULTS.minQPS;
  if (mode === 'scan' && optional.maxQPS !== undefined && minQps > optional.maxQPS) {
    errors.push({ field: 'optional.minQPS', message: `must be <= optional.maxQPS (${optional.maxQPS})` });
  }
  const llm = task.llm;
  if (llm) {
    if (llm.testMode === 'rate' && llm.requestRate === undefined && llm.dataset?.type !== 'trace') {
      errors.push({ field: 'llm.requestRate', message: 'is required when llm.testMode is rate' });
    }
    const dataset = llm.dataset;
    if (dataset?.type === 'sharegpt' && !('path' in dataset && dataset.path)) {
      errors.push({ field: 'llm.dataset.path', message: 'is required when llm.dataset.type is sharegpt' });
    }
    if (dataset && (dataset.type === 'custom' || dataset.type === 'sharegpt') && ('inputTokens' in dataset || 'outputTokens' in dataset)) {
      errors.push({ field: 'llm.dataset', message: 'inputTokens and outputTokens apply only to the synthetic dataset' });
    }
    llmDatasetChecks(llm, errors);
    if (dataset?.type === 'custom' && !task.data?.content && !task.data?.path) {
      errors.push({ field: 'data', message: 'the custom llm dataset needs data.content or data.path' });
    }
    llmModeChecks(llm, task.optional?.agentCount ?? 1, errors);
  }
}

/**
 * Checks a parsed task JSON. Returns every problem, each with the dotted path
 * of its field, so a user fixes the file in one go.
 */
export function validateTask(input: unknown): { ok: true; task: TaskSpec } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  checkRule(SCHEMA, input, '', errors);
  if (isObject(input)) parseThresholds(input.thresholds, llmPercentilesOf(input.llm), errors, thresholdRequestNames(input));
  if (isObject(input)) stagesChecks(input.optional, input.llm !== undefined, DEFAULTS.maxDurationS, errors);
  if (isObject(input)) requestsChecks(input, isValidBase64, errors);
  if (isObject(input)) replayChecks(input, errors);
  if (errors.length === 0) crossFieldChecks(input as TaskSpec, errors);
  return errors.length === 0 ? { ok: true, task: input as TaskSpec } : { ok: false, errors };
}

/** The percentiles an llm section's tables hold (what `TTFT.P<p>` may name); undefined without an llm section. */
function llmPercentilesOf(llm: unknown): readonly number[] | undefined {
  if (!isObject(llm)) return undefined;
  const given = llm.percentiles;
  return Array.isArray(given) && given.every((p) => typeof p === 'number') ? (given as number[]) : DEFAULTS.llmPercentiles;
}

/** The task's thresholds, parsed (the task was validated: none is refused here). */
export function taskThresholds(task: TaskSpec): ParsedThreshold[] {
  return parseThresholds(task.thresholds, llmPercentilesOf(task.llm), [], thresholdRequestNames(task));
}

/** The request names a task's thresholds may name: its `requests`' names, and for a replay the paths its thresholds name (checked once the log is read). */
function thresholdRequestNames(task: { requests?: unknown; data?: unknown; thresholds?: unknown }): string[] {
  const replay = isObject(task.data) && task.data.replay !== undefined;
  return [...requestNamesOf(task.requests), ...(replay ? replayPathThresholds(task.thresholds).map((t) => t.name) : [])];
}

/** Like validateTask, but throws one InvalidFieldError. */
export function assertValidTask(input: unknown): TaskSpec {
  const result = validateTask(input);
  if (!result.ok) throw new InvalidFieldError(result.errors);
  return result.task;
}

/** Parses JSON text of a task, reporting a syntax error at its line and column (where an editor shows it). */
export function parseTaskJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidFieldError([{ field: '', message: `not valid JSON: ${jsonErrorAtLine(text, (err as Error).message)}` }]);
  }
}

/**
 * JSON.parse's message with its character position (`... in JSON at position
 * 14`) as line and column, both from 1; a message without one (`Unexpected
 * end of JSON input`) is at the end of the text.
 */
export function jsonErrorAtLine(text: string, message: string): string {
  const at = /\s*(?:in JSON )?at position (\d+)(?: \(line \d+ column \d+\))?/.exec(message);
  const offset = at ? Math.min(Number(at[1]), text.length) : text.length;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  const reason = at ? message.slice(0, at.index) + message.slice(at.index + at[0].length) : message;
  return `${reason.trim()} at line ${line}, column ${column}`;
}

/** Task name: benchmark-<serviceName lowercased, '_' -> '-'>-<4 hex>. */
export function taskNamePrefix(serviceName: string): string {
  // checked again here: the name becomes a folder, whoever calls this
  if (serviceName.length > LIMITS.maxServiceNameLength || !NAME_ALPHABET.test(serviceName)) {
    throw new InvalidFieldError([{ field: 'service.serviceName', message: NAME_ALPHABET_MESSAGE }]);
  }
  return `benchmark-${serviceName.toLowerCase().replace(/_/g, '-')}`;
}
