import { CapacityReason, ResolvedOptional } from '../../src/contract';
import { serviceTp99Ms } from './generator-gate';
import { fmtMs, fmtPercent, fmtQps, SETTLE_SECONDS, StepWindow } from './window';

/**
 * When a service no longer keeps up with an open-loop rate (docs/modes.md,
 * "Saturation"). scan and auto judge every step and every window of a held
 * rate on these; the tolerances are what the noise of a shared machine needs,
 * and decide how far above the capacity a rate can still pass a window.
 */
export const SATURATION = {
  /**
   * Completed below this share of what was sent: the service does not keep
   * up. In a steady state completions equal sends (the in-flight count is
   * flat), so even a few percent missing means a queue is growing. A few
   * requests of slack keep the noise of low rates (requests in flight at the
   * edges of the window) out.
   */
  minCompletedShare: 0.98,
  completedSlack: 5,
  /**
   * A queue is building when the per-second median RT rises second after
   * second. Above the capacity C, a rate r makes every request wait
   * (r - C) / C seconds longer than the one a second before it, whatever the
   * service time: 1% over is +10 ms a second. A rise counts when it is at
   * least this many ms, or this share of the first second's median (a slow
   * service's jitter is larger).
   */
  minRiseMs: 2,
  minRiseShare: 0.05,
  /**
   * Share of the second-to-second rises that must count: all of them in a
   * step of 3 judged seconds, 4 of 5 in a window of 6. One slow second (a
   * stall of the machine) is one rise followed by a fall, so it never passes.
   */
  risingShare: 0.75,
  /** Fewer seconds than this cannot show a trend: the rise test is not made. */
  minTrendSeconds: 3,
};

/** The median of a non-empty list. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * A queue building through the window: per-second medians (of the seconds
 * the validity gate passed, so an agent's own stall is not a queue) that
 * rise in most seconds, and whose later half is above the earlier half by
 * at least one counted rise per second between them. Latency is measured
 * from the scheduled send time, so a queue at the service shows here even
 * when it delays the sends of a closed connection pool.
 */
export function queueBuilding(medians: readonly number[]): { first: number; last: number } | undefined {
  const n = medians.length;
  if (n < SATURATION.minTrendSeconds) return undefined;
  const rise = Math.max(SATURATION.minRiseMs, SATURATION.minRiseShare * medians[0]);
  let rising = 0;
  for (let i = 1; i < n; i++) if (medians[i] - medians[i - 1] >= rise) rising++;
  if (rising < Math.ceil(SATURATION.risingShare * (n - 1))) return undefined;
  const half = Math.floor(n / 2);
  const early = median(medians.slice(0, half));
  const late = median(medians.slice(n - half));
  if (late - early < rise * (n - half)) return undefined;
  return { first: medians[0], last: medians[n - 1] };
}

/**
 * The service completed less than what was sent, beyond the tolerance: a
 * queue is growing. Judged on the seconds the validity gate passed when
 * there are any: an agent whose event loop stalled reads its responses late,
 * so its stalled seconds complete less than was sent (measured: a step of
 * 100 QPS against a service of 120 completing 88 a second, two of its three
 * seconds generator-limited), and the next second more; a queue at the
 * service falls short in every second.
 */
export function completionsShort(w: StepWindow): boolean {
  const ofService = w.serviceSeconds > 0;
  const sent = ofService ? w.serviceSent : w.sent;
  const completed = ofService ? w.serviceRequests : w.requests;
  const seconds = ofService ? w.serviceSeconds : w.seconds;
  // a service slower than the settle second still completes the previous rate's requests in the window's first seconds (Little's law)
  const inFlightSlack = (sent / Math.max(1, seconds)) * Math.max(0, (w.serviceMedians[0] ?? 0) / 1000 - SETTLE_SECONDS);
  return completed < sent * SATURATION.minCompletedShare - SATURATION.completedSlack - inFlightSlack;
}

/**
 * Why the window shows a saturated service, or undefined: completions
 * falling behind sends, requests dropped at the in-flight cap, or a queue
 * building. Completions are compared with what the agents sent, not with the
 * target: agents that could not send the target are the generator's
 * problem, which the modes judge apart (agents-behind).
 */
export function saturationSign(w: StepWindow): string | undefined {
  if (completionsShort(w)) {
    return `completed ${fmtQps(w.achievedQps())}/s of ${fmtQps(w.sentQps())}/s sent: the service does not keep up`;
  }
  if (w.dropped > 0) return `${w.dropped} requests dropped at the in-flight cap`;
  // only the service's seconds: on a busy machine the agents' own lag can grow through a step (measured: a step of
  // 76 QPS against a service of 120, every second generator-limited, medians rising), which is no queue at the service
  const queue = queueBuilding(w.serviceMedians);
  if (queue) return `latency climbing through the window (median ${fmtMs(queue.first)} -> ${fmtMs(queue.last)} ms): a queue is building`;
  return undefined;
}

/** A limit a window failed: the capacity reason it gives, the step's verdict and why in words. */
export interface LimitFailure {
  reason: CapacityReason;
  verdict: 'bad' | 'saturated';
  why: string;
}

/**
 * The limits every judged rate must meet, step or held rate, in the order
 * they are named: maxRT (on the seconds the validity gate passed),
 * faultTolerate, then saturation. A rate that fails none of them is good.
 */
export function judgeLimits(w: StepWindow, o: ResolvedOptional): LimitFailure | undefined {
  const serviceTp99 = serviceTp99Ms(w);
  if (o.maxRtMs !== null && serviceTp99 !== undefined && serviceTp99 > o.maxRtMs) return { reason: 'maxRT', verdict: 'bad', why: `TP99 ${fmtMs(serviceTp99)} ms > maxRT ${fmtMs(o.maxRtMs)} ms` };
  const errorRate = w.errorRate();
  if (errorRate > o.faultTolerate) return { reason: 'faultTolerate', verdict: 'bad', why: `error rate ${fmtPercent(errorRate)} > faultTolerate ${fmtPercent(o.faultTolerate)}` };
  const saturated = saturationSign(w);
  if (saturated) return { reason: 'saturation', verdict: 'saturated', why: saturated };
  return undefined;
}
