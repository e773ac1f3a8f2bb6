import { Capacity } from '../contract';

/** Number formatting shared by desc, the progress line and the summary. */

/** At most `digits` decimals, trailing zeros dropped: 182.3, 1450, 0.05. */
export function formatNumber(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toFixed(digits)));
}

/** A response time in ms: `182.37 ms`. */
export function formatMs(valueMs: number): string {
  return `${formatNumber(valueMs)} ms`;
}

/** Error rates travel as fractions (0.001 = 0.1%), users read percentages. */
export function formatRate(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}

/** `12.3 MiB`: shared with the report, so it lives in the contract. */
export { formatBytes } from '../contract';

/** `1450 QPS, TP99 182 ms, error rate 0.02% (maxRT)`. */
export function formatCapacity(capacity: Capacity): string {
  return `${formatNumber(capacity.QPS)} QPS, TP99 ${formatMs(capacity.TP99)}, error rate ${formatRate(capacity.ErrorRate)} (${capacity.Reason})`;
}

/** `75s/600s`. */
export function formatElapsed(elapsedS: number, durationS: number): string {
  return `${Math.floor(elapsedS)}s/${Math.floor(durationS)}s`;
}
