import { resolveStages, stagesSpecOf, stagesTotalS, type ResolvedStages } from './stages';
import { DEFAULTS, FaultAction, Mode, OptionalSpec, TaskSpec } from './task';

/**
 * A task's options, resolved once: at create (and once when a task stored
 * without them is loaded), and merged at update. The controller stores them
 * beside the task JSON and everything that runs a round reads them; nothing
 * resolves a task's `optional` section again.
 *
 * Each option keeps the task JSON's name where that says what it is
 * (`concurrency`, `maxQPS`), and takes its unit where the JSON's name leaves
 * it out (`duration` is `durationS`, `maxRT` is `maxRtMs`).
 */
export interface ResolvedOptional {
  mode: Mode;
  /** What the round runs: an llm task's comes from its `llm` section. */
  durationS: number;
  /** null: no request limit (an llm task's `continuous`, too). */
  requestCount: number | null;
  agentCount: number;
  /** Manual mode: closed-loop workers per agent (the agent's `load.concurrency`). */
  concurrency: number;
  minQPS: number;
  qpsGrowthDelta: number;
  adjustIntervalS: number;
  /** null in manual mode when no cap was given. */
  maxQPS: number | null;
  maxRtMs: number | null;
  faultTolerate: number;
  faultAction: FaultAction;
  /** mode stages only (stages.ts). */
  stages?: ResolvedStages;
  /** mode replay only: the round lasts the log's span / speed, set when the log is read (no optional.duration, no loop). */
  replay?: { durationFromLog: boolean };
}

/** The option each field of the task JSON's `optional` section becomes: what an update merges. */
export const OPTION_OF_FIELD: { readonly [K in keyof Required<OptionalSpec>]: keyof ResolvedOptional } = {
  mode: 'mode',
  duration: 'durationS',
  requestCount: 'requestCount',
  agentCount: 'agentCount',
  concurrency: 'concurrency',
  minQPS: 'minQPS',
  qpsGrowthDelta: 'qpsGrowthDelta',
  adjustInterval: 'adjustIntervalS',
  maxQPS: 'maxQPS',
  maxRT: 'maxRtMs',
  faultTolerate: 'faultTolerate',
  faultAction: 'faultAction',
  // a stages task's ramp is set at create: an update may change only its duration
  startQPS: 'stages',
  startConcurrency: 'stages',
  stages: 'stages',
};

/**
 * Every option with its default applied: what the controller runs. An llm
 * task's duration and request count come from its `llm` section:
 * `continuous` (or no requestCount) runs until the duration.
 */
export function resolveOptional(task: TaskSpec): ResolvedOptional {
  const o = task.optional ?? {};
  const mode = o.mode ?? DEFAULTS.mode;
  const llm = task.llm;
  const stages = resolveStages(o);
  return {
    mode,
    durationS: llm ? llm.duration ?? DEFAULTS.llmDurationS : o.duration ?? (stages ? stagesTotalS(stages) : DEFAULTS.durationS),
    requestCount: llm ? (llm.continuous ? null : llm.requestCount ?? null) : o.requestCount ?? null,
    agentCount: o.agentCount ?? DEFAULTS.agentCount,
    concurrency: o.concurrency ?? DEFAULTS.concurrency,
    minQPS: o.minQPS ?? DEFAULTS.minQPS,
    qpsGrowthDelta: o.qpsGrowthDelta ?? DEFAULTS.qpsGrowthDelta,
    adjustIntervalS: o.adjustInterval ?? DEFAULTS.adjustIntervalS,
    maxQPS: o.maxQPS ?? (mode === 'manual' ? null : DEFAULTS.maxQPS),
    maxRtMs: o.maxRT ?? null,
    faultTolerate: o.faultTolerate ?? DEFAULTS.faultTolerate,
    faultAction: o.faultAction ?? DEFAULTS.faultAction,
    ...(stages ? { stages } : {}),
    ...(mode === 'replay' && !llm ? { replay: { durationFromLog: o.duration === undefined && task.data?.replay?.loop !== true } } : {}),
  };
}

/**
 * The stored options with a checked update (`applyOptionalUpdate`) merged
 * in, each field under its option's name. The update keys a mode allows
 * never include an llm task's duration or request count, which its `llm`
 * section sets.
 */
export function mergeOptional(options: ResolvedOptional, update: Partial<OptionalSpec>): ResolvedOptional {
  const merged: Record<string, unknown> = { ...options };
  for (const [field, value] of Object.entries(update)) {
    if (value !== undefined && field in OPTION_OF_FIELD) merged[OPTION_OF_FIELD[field as keyof OptionalSpec]] = value;
  }
  return merged as unknown as ResolvedOptional;
}

/**
 * The task as the controller stores and shows it: the user's JSON with the
 * defaults of its mode's fields written out, from the options resolved at
 * create. An llm task's `optional.duration` and `requestCount` are shown as
 * given (the round runs its `llm` section's).
 */
export function normalizeTask(task: TaskSpec, r: ResolvedOptional): TaskSpec {
  const given = task.optional ?? {};
  const durationS = task.llm ? given.duration ?? DEFAULTS.durationS : r.durationS;
  const requestCount = task.llm ? given.requestCount ?? null : r.requestCount;
  const optional: OptionalSpec = {
    mode: r.mode,
    duration: durationS,
    ...(requestCount !== null ? { requestCount } : {}),
  };
  if (r.stages) {
    Object.assign(optional, stagesSpecOf(r.stages), r.stages.kind === 'closed' ? { agentCount: r.agentCount } : {});
  } else if (r.mode === 'replay') {
    // the log is the load: nothing else of optional applies
  } else if (r.mode === 'manual') {
    optional.agentCount = r.agentCount;
    optional.concurrency = r.concurrency;
    if (r.maxQPS !== null) optional.maxQPS = r.maxQPS;
  } else {
    if (r.mode === 'scan') {
      optional.minQPS = r.minQPS;
      optional.qpsGrowthDelta = r.qpsGrowthDelta;
      optional.adjustInterval = r.adjustIntervalS;
    }
    optional.maxQPS = r.maxQPS ?? DEFAULTS.maxQPS;
    if (r.maxRtMs !== null) optional.maxRT = r.maxRtMs;
    optional.faultTolerate = r.faultTolerate;
    optional.faultAction = r.faultAction;
    // an llm task runs its own load, whatever the mode, on optional.agentCount agents
    if (task.llm) optional.agentCount = r.agentCount;
  }
  return { ...task, optional };
}
