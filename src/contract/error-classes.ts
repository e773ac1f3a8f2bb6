import { isCount, isObject } from './field-checks';
import { ERROR_CLASSES, isErrorClass, type ErrorClass, type ErrorClassCounts } from './verdict';

/**
 * Failed requests by cause class (SPEC 7): how an agent counts them, how a
 * frame's counts are checked and folded so that they always sum to the
 * errors, and the one line each class is shown as on every surface.
 */

/**
 * An agent counts failures in a flat array indexed by a class's position in
 * ERROR_CLASSES (no allocation a request); -1 is "no class given", which a
 * failed request's recorder turns into `http status` (a complete answer) .
 */
export const NO_ERROR_CLASS = -1;

export function errorClassIndex(errorClass: ErrorClass): number {
  return ERROR_CLASSES.indexOf(errorClass);
}

/** The counts of an agent's array, classes with none left out. */
export function errorClassCountsOf(counts: ArrayLike<number>): ErrorClassCounts {
  const out: ErrorClassCounts = {};
  for (let i = 0; i < ERROR_CLASSES.length; i++) if (counts[i] > 0) out[ERROR_CLASSES[i]] = counts[i];
  return out;
}

/** A frame's `errorClasses`: known class names only, each a count (bounded by ERROR_CLASSES itself). */
export function checkErrorClasses(value: unknown): ErrorClassCounts | undefined | string {
  if (value === undefined) return undefined;
  if (!isObject(value)) return 'errorClasses must be an object';
  const out: ErrorClassCounts = {};
  for (const [name, n] of Object.entries(value)) {
    if (!isErrorClass(name)) return `errorClasses key ${JSON.stringify(name.slice(0, 40))} is not an error class`;
    if (!isCount(n)) return `errorClasses.${name} must be a count`;
    if (n > 0) out[name] = n;
  }
  return out;
}

/**
 * Adds `source`'s classes to `target`, so that what is added sums to exactly
 * `errors`: classes beyond the errors are cut (in ERROR_CLASSES' order) and
 * errors no class names (an agent that sends none) are `other`. The classes
 * then always sum to the errors they explain, whatever an agent sent.
 */
export function addErrorClasses(target: ErrorClassCounts, source: ErrorClassCounts | undefined, errors: number): void {
  let left = Math.max(0, errors);
  if (source) {
    for (const name of ERROR_CLASSES) {
      const n = Math.min(source[name] ?? 0, left);
      if (n <= 0) continue;
      target[name] = (target[name] ?? 0) + n;
      left -= n;
    }
  }
  if (left > 0) target.other = (target.other ?? 0) + left;
}

/**
 * The status a class's requests are recorded with: 512 a timeout, 599 a
 * failed connection or answer; `http status` is the service's own status (the
 * status table lists them), so it has none here.
 */
export function statusOfErrorClass(errorClass: ErrorClass): number | null {
  if (errorClass === 'http status') return null;
  return errorClass === 'timeout' ? 512 : 599;
}

export interface ErrorClassLine {
  errorClass: ErrorClass;
  /** `599 connection refused`, `512 timeout`, `http status`. */
  label: string;
  count: number;
  /** Of every request of the round, as the status table's percent. */
  share: number;
}

/** The round's classes, most first, with their status and share of all requests. */
export function errorClassLines(classes: ErrorClassCounts | undefined, totalRequests: number): ErrorClassLine[] {
  const lines: ErrorClassLine[] = [];
  for (const errorClass of ERROR_CLASSES) {
    const count = classes?.[errorClass] ?? 0;
    if (count <= 0) continue;
    const status = statusOfErrorClass(errorClass);
    lines.push({ errorClass, label: status === null ? errorClass : `${status} ${errorClass}`, count, share: totalRequests > 0 ? count / totalRequests : 0 });
  }
  return lines.sort((a, b) => b.count - a.count);
}

/** `599 connection refused: 96,704 (100.00%)`: one class as every surface prints it. */
export function formatErrorClassLine(line: ErrorClassLine): string {
  return `${line.label}: ${line.count.toLocaleString('en-US')} (${(line.share * 100).toFixed(2)}%)`;
}
