import type { LlmRequestRecord, LlmSloSpec } from '../contract';

/** The figures of one request that its record does not hold as such. */

/** TPOT of a request, ms: (E2EL - TTFT)/(outputTokens - 1); only for outputTokens > 1. */
export function tpotMs(r: LlmRequestRecord): number | null {
  if (!r.success || r.e2elMs === null || r.ttftMs === null || r.outputTokens <= 1) return null;
  return (r.e2elMs - r.ttftMs) / (r.outputTokens - 1);
}

/** A request's ITL, ms: the mean of its token gaps (AISBench gives one ITL per request, N = requests). */
export function itlMs(r: LlmRequestRecord): number | null {
  if (!r.success || r.itlMs.length === 0) return null;
  return r.itlMs.reduce((s, v) => s + v, 0) / r.itlMs.length;
}

/**
 * E2EL counted from the scheduled send rather than the actual one: the
 * client queue time plus E2EL, what a user whose request was due then waited
 * (rate mode; null for a request with no schedule or no E2EL).
 */
export function e2elWithQueueMs(r: LlmRequestRecord): number | null {
  if (!r.success || r.e2elMs === null || r.queueMs === undefined) return null;
  return r.queueMs + r.e2elMs;
}

/** Output tokens per second of one request: outputTokens / E2EL. */
export function outputTps(r: LlmRequestRecord): number | null {
  if (!r.success || r.e2elMs === null || r.e2elMs <= 0) return null;
  return r.outputTokens / (r.e2elMs / 1000);
}

export function meetsSlo(r: LlmRequestRecord, slo: LlmSloSpec | undefined): boolean {
  if (!r.success) return false;
  if (!slo) return true;
  if (slo.ttft !== undefined && (r.ttftMs === null || r.ttftMs > slo.ttft)) return false;
  const tpot = tpotMs(r);
  if (slo.tpot !== undefined && tpot !== null && tpot > slo.tpot) return false;
  if (slo.e2el !== undefined && (r.e2elMs === null || r.e2elMs > slo.e2el)) return false;
  return true;
}

