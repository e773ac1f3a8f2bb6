/**
 * What folding frames into a second, seconds into a stage or into the halves
 * of a run has in common: counters that add up key by key, and moments
 * (first send, last end) that may be unknown yet. The histograms differ in
 * kind and scale from one fold to the other and stay with each.
 */

/** Adds `source`'s counters named by `keys` to `target`'s. */
export function sumInto<K extends string>(target: Record<K, number>, source: Readonly<Record<K, number>>, keys: readonly K[]): void {
  for (const key of keys) target[key] += source[key];
}

/** The earlier of two moments, either of which may be unknown (null). */
export function minOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/** The later of two moments, either of which may be unknown (null). */
export function maxOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
