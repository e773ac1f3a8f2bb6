/** `value` rounded half up to `digits` decimals, as a number (for JSON, not for display). */
export function roundTo(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
