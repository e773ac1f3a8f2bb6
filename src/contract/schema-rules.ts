import type { FieldError } from './errors';
import { isObject } from './field-checks';

/**
 * What a field of a JSON document may hold, declared once (the task schema in
 * `task.ts` is a table of these), and the checker that walks a document
 * against it. Every problem is collected with the dotted path of its field,
 * so a user fixes a file in one go; nothing here knows what a task is.
 */
export type Rule =
  | { kind: 'string'; enum?: readonly string[]; minLength?: number; maxLength?: number; pattern?: { test: RegExp; message: string } }
  | { kind: 'integer'; min?: number; max?: number }
  | { kind: 'number'; min?: number; max?: number; exclusiveMin?: boolean; multipleOf?: number }
  | { kind: 'boolean' }
  | { kind: 'stringList'; maxItems: number; maxLength: number }
  | { kind: 'intPair'; min: number; max: number }
  | { kind: 'intList'; min: number; max: number; maxItems: number }
  | { kind: 'numberList'; min: number; max: number; minItems: number; maxItems: number }
  | { kind: 'object'; fields: Record<string, Rule>; required?: readonly string[] }
  /** A field whose rules depend on the rest of the document: its own checker runs after this one (`checkedBy` names it). */
  | { kind: 'external'; checkedBy: string };

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Adds every problem of `value` against `rule` to `errors`, each at its field's path below `path`. */
export function checkRule(rule: Rule, value: unknown, path: string, errors: FieldError[]): void {
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
      } else if (rule.pattern && value.length > 0 && !rule.pattern.test.test(value)) {
        errors.push({ field: path, message: rule.pattern.message });
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
      const problemsBefore = errors.length;
      if (rule.min !== undefined) {
        const exclusive = rule.kind === 'number' && rule.exclusiveMin === true;
        if (exclusive ? value <= rule.min : value < rule.min) {
          errors.push({ field: path, message: `must be ${exclusive ? '>' : '>='} ${rule.min}` });
        }
      }
      if (rule.max !== undefined && value > rule.max) {
        errors.push({ field: path, message: `must be <= ${rule.max}` });
      }
      if (rule.kind === 'number' && rule.multipleOf !== undefined && errors.length === problemsBefore && !isMultipleOf(value, rule.multipleOf)) {
        errors.push({ field: path, message: `must be a multiple of ${rule.multipleOf}` });
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
    case 'intList': {
      if (!Array.isArray(value) || value.length === 0) {
        errors.push({ field: path, message: 'must be a non-empty list of integers' });
        return;
      }
      if (value.length > rule.maxItems) errors.push({ field: path, message: `must have at most ${rule.maxItems} items` });
      value.slice(0, rule.maxItems).forEach((v: unknown, i) => {
        if (typeof v !== 'number' || !Number.isInteger(v)) errors.push({ field: `${path}[${i}]`, message: 'must be an integer' });
        else if (v < rule.min || v > rule.max) errors.push({ field: `${path}[${i}]`, message: `must be between ${rule.min} and ${rule.max}` });
      });
      return;
    }
    case 'numberList': {
      if (!Array.isArray(value) || value.length < rule.minItems || value.length > rule.maxItems) {
        errors.push({ field: path, message: `must be a list of ${rule.minItems} to ${rule.maxItems} numbers` });
        return;
      }
      value.forEach((v: unknown, i) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) errors.push({ field: `${path}[${i}]`, message: `must be a number, got ${describe(v)}` });
        else if (v <= rule.min || v >= rule.max) errors.push({ field: `${path}[${i}]`, message: `must be > ${rule.min} and < ${rule.max}` });
        else if (i > 0 && typeof value[i - 1] === 'number' && v <= (value[i - 1] as number)) errors.push({ field: `${path}[${i}]`, message: 'must be greater than the one before (ascending, no repeats)' });
      });
      return;
    }
    case 'external':
      return;
    case 'object': {
      if (!isObject(value)) {
        errors.push({ field: path || '(root)', message: `must be an object, got ${describe(value)}` });
        return;
      }
      for (const key of Object.keys(value)) {
        const sub = rule.fields[key];
        const subPath = path ? `${path}.${key}` : key;
        if (!Object.prototype.hasOwnProperty.call(rule.fields, key) || !sub) {
          const near = nearestField(key, Object.keys(rule.fields));
          errors.push({ field: subPath, message: near === undefined ? 'unknown field' : `unknown field; did you mean ${path ? `${path}.${near}` : near}?` });
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

/**
 * The known field a misspelt one most likely meant: the same name in another
 * case (`maxqps` for `maxQPS`), else the nearest within two edits. None when
 * nothing is that close: a guess far off helps nobody.
 */
export function nearestField(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const sameCase = known.find((k) => k.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  let best: string | undefined;
  let bestDistance = Math.min(3, Math.ceil(name.length / 3) + 1);
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, two rows at a time (names are short). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}

/** Within a float's error of a whole number of steps (0.3 is not exactly 3 * 0.1). */
function isMultipleOf(value: number, step: number): boolean {
  const steps = value / step;
  return Math.abs(steps - Math.round(steps)) < 1e-6;
}
