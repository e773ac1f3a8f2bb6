/**
 * Checks of one field of a parsed JSON message, shared by every parser of
 * the contract: each says whether a value may be trusted as what it claims,
 * so a malformed message is refused with a reason, never half-trusted.
 */

export type Fields = Record<string, unknown>;

export function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function isNonNegative(value: unknown): value is number {
  return isFiniteNumber(value) && value >= 0;
}

/** A name shown to people: bounded, no control characters. */
export function isName(value: unknown, maxChars: number): value is string {
  // eslint-disable-next-line no-control-regex
  return typeof value === 'string' && value.length > 0 && value.length <= maxChars && !/[\u0000-\u001f\u007f]/.test(value);
}

export function isText(value: unknown, maxChars: number): value is string {
  return typeof value === 'string' && value.length <= maxChars;
}

export function isNumberOrNull(value: unknown): value is number | null {
  return value === null || isFiniteNumber(value);
}

export function isStringArray(value: unknown, nonEmpty = false): value is string[] {
  return Array.isArray(value) && (!nonEmpty || value.length > 0) && value.every((v) => typeof v === 'string');
}

/** A message type for a reason text: never String() of a parsed object, whose own `toString` key makes String() throw. */
export function describeType(type: unknown): string {
  return typeof type === 'string' ? type.slice(0, 40) : typeof type;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
