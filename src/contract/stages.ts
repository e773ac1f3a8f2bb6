import type { FieldError } from './errors';
import { isObject } from './field-checks';
import type { RampPoint } from './ramp';
import { checkRule, type Rule } from './schema-rules';

/**
 * `optional.mode: "stages"` (docs/modes.md): a load that moves linearly from
 * one stage's target to the next, either an open-loop rate (`qps`, from
 * `startQPS`) or closed-loop workers (`concurrency`, from
 * `startConcurrency`). One task ramps one of the two: a rate and a number
 * of workers are different experiments, and a round that switched between
 * them would have no one series to read.
 */
export interface StageSpec {
  /** Seconds this stage takes to move from the previous target to its own. */
  duration: number;
  qps?: number;
  concurrency?: number;
}

export type ResolvedStages =
  | { kind: 'open'; startQps: number; stages: { durationS: number; qps: number }[] }
  | { kind: 'closed'; startConcurrency: number; stages: { durationS: number; concurrency: number }[] };

export const MAX_STAGES = 100;
const MAX_STAGE_QPS = 1_000_000;
/** Total workers of a stage: 64 agents of 10 000 workers, the task's own caps. */
const MAX_STAGE_CONCURRENCY = 640_000;
/** closed-loop stages start from one worker unless startConcurrency says otherwise (k6's startVUs). */
export const DEFAULT_START_CONCURRENCY = 1;

/** The optional fields stages add to the task schema (task.ts merges them into its `optional` rule). */
export const STAGE_OPTIONAL_RULES: Record<string, Rule> = {
  // a ramp may start from nothing, so 0 is a rate here (scan's minQPS is at least 0.1)
  startQPS: { kind: 'number', min: 0, max: MAX_STAGE_QPS, multipleOf: 0.1 },
  startConcurrency: { kind: 'integer', min: 0, max: MAX_STAGE_CONCURRENCY },
  stages: { kind: 'external', checkedBy: 'stagesChecks' },
};

const STAGE_RULE: Rule = {
  kind: 'object',
  required: ['duration'],
  fields: {
    duration: { kind: 'integer', min: 1, max: 1200 },
    qps: { kind: 'number', min: 0, max: MAX_STAGE_QPS, multipleOf: 0.1 },
    concurrency: { kind: 'integer', min: 0, max: MAX_STAGE_CONCURRENCY },
  },
};

/**
 * Checks the stages fields of a task's `optional` (the schema checked the
 * rest): every problem with its field, so the file is fixed in one go.
 */
export function stagesChecks(optional: unknown, hasLlm: boolean, maxDurationS: number, errors: FieldError[]): void {
  if (!isObject(optional)) return;
  const isStages = optional.mode === 'stages';
  if (!isStages) {
    for (const key of ['stages', 'startQPS', 'startConcurrency']) {
      if (optional[key] !== undefined) errors.push({ field: `optional.${key}`, message: 'applies only to optional.mode "stages"' });
    }
    return;
  }
  if (hasLlm) errors.push({ field: 'optional.mode', message: '"stages" ramps HTTP load; an llm task runs the load of its llm section' });
  const stages = optional.stages;
  if (stages === undefined) {
    errors.push({ field: 'optional.stages', message: 'is required when optional.mode is "stages"' });
    return;
  }
  if (!Array.isArray(stages) || stages.length === 0 || stages.length > MAX_STAGES) {
    errors.push({ field: 'optional.stages', message: `must be a list of 1 to ${MAX_STAGES} stages, each {"duration": S, "qps": Q} or {"duration": S, "concurrency": N}` });
    return;
  }
  let firstKind: 'qps' | 'concurrency' | undefined;
  let totalS = 0;
  stages.forEach((stage: unknown, i) => {
    const field = `optional.stages[${i}]`;
    const before = errors.length;
    checkRule(STAGE_RULE, stage, field, errors);
    if (errors.length > before || !isObject(stage)) return;
    totalS += stage.duration as number;
    const kinds = (['qps', 'concurrency'] as const).filter((k) => stage[k] !== undefined);
    if (kinds.length !== 1) {
      errors.push({ field, message: kinds.length === 0 ? 'needs "qps" (a rate) or "concurrency" (workers)' : 'give "qps" or "concurrency", not both' });
      return;
    }
    firstKind ??= kinds[0];
    if (kinds[0] !== firstKind) {
      errors.push({ field: `${field}.${kinds[0]}`, message: `a task ramps either a rate (qps) or workers (concurrency), not both: optional.stages[0] gives ${firstKind}` });
    }
  });
  if (totalS > maxDurationS) errors.push({ field: 'optional.stages', message: `the stages last ${totalS} s, more than the longest round (${maxDurationS} s)` });
  if (firstKind === 'qps' && optional.startConcurrency !== undefined) errors.push({ field: 'optional.startConcurrency', message: 'applies to concurrency stages; these stages give qps (start them with optional.startQPS)' });
  if (firstKind === 'concurrency' && optional.startQPS !== undefined) errors.push({ field: 'optional.startQPS', message: 'applies to qps stages; these stages give concurrency (start them with optional.startConcurrency)' });
}

/** The optional fields stages read, as a validated task holds them. */
export interface StagesOptional {
  mode?: string;
  startQPS?: number;
  startConcurrency?: number;
  stages?: StageSpec[];
}

/** A validated task's stages; undefined unless its mode is stages. */
export function resolveStages(optional: StagesOptional): ResolvedStages | undefined {
  const stages = optional.stages;
  if (optional.mode !== 'stages' || !stages || stages.length === 0) return undefined;
  if (stages[0].concurrency !== undefined) {
    return { kind: 'closed', startConcurrency: optional.startConcurrency ?? DEFAULT_START_CONCURRENCY, stages: stages.map((s) => ({ durationS: s.duration, concurrency: s.concurrency ?? 0 })) };
  }
  return { kind: 'open', startQps: optional.startQPS ?? 0, stages: stages.map((s) => ({ durationS: s.duration, qps: s.qps ?? 0 })) };
}

/** The stages' total, seconds: how long a stages round lasts unless optional.duration says otherwise. */
export function stagesTotalS(stages: ResolvedStages): number {
  return stages.stages.reduce((sum, s) => sum + s.durationS, 0);
}

/** The stages as breakpoints of one target (a rate or workers), from the round's start. */
export function stagePoints(stages: ResolvedStages): RampPoint[] {
  const points: RampPoint[] = [{ atMs: 0, qps: stages.kind === 'open' ? stages.startQps : stages.startConcurrency }];
  let atMs = 0;
  for (const stage of stages.stages) {
    atMs += stage.durationS * 1000;
    points.push({ atMs, qps: 'qps' in stage ? stage.qps : stage.concurrency });
  }
  return points;
}

/** The stages as the task shows them (normalizeTask), so a stored task reads as it was written. */
export function stagesSpecOf(stages: ResolvedStages): { startQPS?: number; startConcurrency?: number; stages: StageSpec[] } {
  if (stages.kind === 'open') return { startQPS: stages.startQps, stages: stages.stages.map((s) => ({ duration: s.durationS, qps: s.qps })) };
  return { startConcurrency: stages.startConcurrency, stages: stages.stages.map((s) => ({ duration: s.durationS, concurrency: s.concurrency })) };
}
