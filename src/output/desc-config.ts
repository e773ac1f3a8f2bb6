import { DEFAULTS, OptionalSpec, TaskSpec } from '../contract';

/**
 * The Config cell of `bench desc`, shaped as the reference shows it: a
 * `base` block first (agentCount, concurrency, duration, requestCount), then
 * the rest of the task. The reference prints an unlimited requestCount as
 * Go's max int64, 9223372036854775807; scripts comparing against it see
 * the same number.
 */

/** Go's math.MaxInt64: what the reference shows for "no request limit". */
export const UNLIMITED_REQUEST_COUNT = '9223372036854775807';

/** Strings longer than this are cut in the table (base64 bodies can be megabytes); --json has them whole. */
export const MAX_CONFIG_STRING = 120;
const KEPT_CHARS = 48;

/** The fields the base block holds; they are not repeated under `optional`. */
const BASE_KEYS = ['agentCount', 'concurrency', 'duration', 'requestCount'] as const;

// A string no task can hold in that place, replaced by the bare number after
// JSON.stringify (the number itself is beyond a double's exact integers).
const UNLIMITED_MARK = '\u0000unlimited\u0000';

function cut(value: unknown): unknown {
  if (typeof value === 'string' && value.length > MAX_CONFIG_STRING) {
    return `${value.slice(0, KEPT_CHARS)}... (cut: ${value.length} chars; bench desc --json shows it whole)`;
  }
  if (Array.isArray(value)) return value.map(cut);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cut(v)]));
  return value;
}

/** The Config as the desc table shows it: pretty-printed JSON, base block first, long strings cut. */
export function renderDescConfig(config: TaskSpec): string {
  // the task JSON's own fields with their defaults, as the reference shows them (an llm task's run length is its llm section's)
  const given = config.optional ?? {};
  const base = {
    agentCount: given.agentCount ?? DEFAULTS.agentCount,
    concurrency: given.concurrency ?? DEFAULTS.concurrency,
    duration: given.duration ?? DEFAULTS.durationS,
    requestCount: given.requestCount ?? UNLIMITED_MARK,
  };
  const rest: Partial<OptionalSpec> = { ...config.optional };
  for (const key of BASE_KEYS) delete rest[key];
  // the task's own sections in their order, optional without what base holds
  const shown: Record<string, unknown> = { base };
  for (const [key, value] of Object.entries(config)) {
    if (key !== 'optional') shown[key] = value;
    else if (Object.keys(rest).length > 0) shown.optional = rest;
  }
  return JSON.stringify(cut(shown), null, 2).replace(JSON.stringify(UNLIMITED_MARK), UNLIMITED_REQUEST_COUNT);
}
