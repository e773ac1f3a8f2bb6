import { FieldError, InvalidFieldError } from './errors';
import { Mode, OptionalSpec, TaskSpec, validateTask } from './task';

/**
 * `bench update NAME -Doptional.KEY=VALUE`: which keys each mode may change
 * live. Manual mode also takes maxQPS (its rate cap) and duration.
 */
export const UPDATABLE_KEYS: Record<Mode, readonly (keyof OptionalSpec)[]> = {
  manual: ['concurrency', 'agentCount', 'maxQPS', 'duration'],
  scan: ['maxQPS', 'maxRT', 'faultTolerate', 'faultAction', 'qpsGrowthDelta', 'adjustInterval', 'duration'],
  auto: ['maxQPS', 'maxRT', 'faultTolerate', 'faultAction', 'duration'],
  // the stages are the plan the agents follow from the start; only when the round ends may change
  stages: ['duration'],
  // the log is the plan; its duration (the log's span / speed unless given) may change
  replay: ['duration'],
};

/** An llm task's load is its `llm` section; of `optional` only the agents sharing it change live. */
export const LLM_UPDATABLE_KEYS: readonly (keyof OptionalSpec)[] = ['agentCount'];

export type DefineValue = string | number | boolean;

export interface Define {
  /** Dotted path, e.g. `optional.concurrency`. */
  field: string;
  value: DefineValue;
}

function parseValue(raw: string): DefineValue {
  const text = raw.trim();
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(text)) return Number(text);
  return text;
}

/** Parses one `optional.KEY=VALUE` (the text after -D). */
export function parseDefine(text: string): Define {
  const eq = text.indexOf('=');
  const field = (eq < 0 ? text : text.slice(0, eq)).trim();
  if (eq < 0 || !/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$/.test(field)) {
    throw new InvalidFieldError([{ field: field || text, message: 'expected -Dsection.key=value, e.g. -Doptional.concurrency=4' }]);
  }
  const raw = text.slice(eq + 1);
  if (raw.trim() === '') throw new InvalidFieldError([{ field, message: 'needs a value' }]);
  return { field, value: parseValue(raw) };
}

/** An update body: the optional fields to change, already checked against the mode. */
export type OptionalUpdate = Partial<OptionalSpec>;

/**
 * Checks a set of changes against the task's mode and the schema, and returns
 * the changed task. Throws InvalidFieldError naming the field.
 */
export function applyOptionalUpdate(task: TaskSpec, update: Record<string, unknown>): TaskSpec {
  const mode: Mode = task.optional?.mode ?? 'auto';
  const errors: FieldError[] = [];
  // a trace is split into one lane per agent of the round from its start: the agents that share it may not change
  const trace = task.llm?.dataset?.type === 'trace';
  const allowed = trace ? [] : task.llm ? LLM_UPDATABLE_KEYS : UPDATABLE_KEYS[mode];
  const where = trace ? 'an llm trace replay' : task.llm ? 'an llm task' : `${mode} mode`;
  const which = trace ? 'its records are split over the round\'s agents from the start; nothing is updatable' : `updatable: ${allowed.join(', ')}`;
  for (const key of Object.keys(update)) {
    if (!(allowed as readonly string[]).includes(key)) {
      errors.push({ field: `optional.${key}`, message: `cannot be updated in ${where} (${which})` });
    }
  }
  if (Object.keys(update).length === 0) errors.push({ field: 'optional', message: 'nothing to update' });
  if (errors.length) throw new InvalidFieldError(errors);
  const next: TaskSpec = { ...task, optional: { ...task.optional, ...update } };
  const checked = validateTask(next);
  if (!checked.ok) throw new InvalidFieldError(checked.errors);
  return next;
}

/** Turns -D defines into an update body for the API; only `optional.*` can change. */
export function definesToUpdate(defines: readonly Define[]): Record<string, DefineValue> {
  const update: Record<string, DefineValue> = {};
  const errors: FieldError[] = [];
  for (const d of defines) {
    const [section, key, ...rest] = d.field.split('.');
    if (section !== 'optional' || !key || rest.length) {
      errors.push({ field: d.field, message: 'only optional.* fields can be updated' });
      continue;
    }
    update[key] = d.value;
  }
  if (errors.length) throw new InvalidFieldError(errors);
  return update;
}
