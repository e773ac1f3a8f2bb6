import { Capacity, ResolvedOptional, roundTo, Step, StepVerdict } from '../../src/contract';
import { FinalizedSecond } from '../metrics/aggregate';
import { createLatencyHistogram, LatencyHistogram, mergeInto, percentileMs } from '../../src/measure/histogram';

/** Seconds at the start of a step that are not judged: they still carry the previous rate's tail. */
export const SETTLE_SECONDS = 1;

/**
 * The seconds of one step (one target rate), merged exactly: scan and auto
 * judge a step on the TP99 of all its samples, never on an average of
 * per-second percentiles.
 */
export class StepWindow {
  private rt: LatencyHistogram = createLatencyHistogram();
  /** The seconds the validity gate passed (not generator-limited): what maxRT is judged on. */
  private serviceRt: LatencyHistogram = createLatencyHistogram();
  seconds = 0;
  serviceSeconds = 0;
  /** Sent and completed in the seconds the validity gate passed: a stalled agent reads its responses late, which is no deficit of the service. */
  serviceSent = 0;
  serviceRequests = 0;
  generatorLimitedSeconds = 0;
  requests = 0;
  errors = 0;
  sent = 0;
  dropped = 0;
  maxEventLoopLagMs = 0;
  maxSendLagP99Ms = 0;
  /** Seconds in which the agents sent late (send lag or event-loop delay over the limits given to add()). */
  lateSeconds = 0;
  /** Per-second median RT, to see a queue building inside the step. */
  readonly medians: number[] = [];
  /** The same, of the seconds the validity gate passed: a stalled agent's seconds are not the service's queue. */
  readonly serviceMedians: number[] = [];
  /** Responses by status code: what a step that failed was answered with. */
  readonly statusCodes: Record<string, number> = {};

  add(second: FinalizedSecond, lateLimits?: { sendLagMs: number; loopLagMs: number }): void {
    if (lateLimits && (second.point.SendLagP99 > lateLimits.sendLagMs || second.agentLoad.maxEventLoopLagMs > lateLimits.loopLagMs)) this.lateSeconds++;
    this.seconds++;
    this.requests += second.point.Requests;
    this.errors += second.point.Errors;
    this.sent += second.agentLoad.sent;
    this.dropped += second.point.Dropped;
    this.maxEventLoopLagMs = Math.max(this.maxEventLoopLagMs, second.agentLoad.maxEventLoopLagMs);
    this.maxSendLagP99Ms = Math.max(this.maxSendLagP99Ms, second.point.SendLagP99);
    this.medians.push(second.point.RT.TP50);
    for (const [code, count] of Object.entries(second.point.StatusCodes)) this.statusCodes[code] = (this.statusCodes[code] ?? 0) + count;
    mergeInto(this.rt, second.rtHistogram);
    if (second.point.Generator?.Limited) {
      this.generatorLimitedSeconds++;
    } else {
      this.serviceSeconds++;
      this.serviceSent += second.agentLoad.sent;
      this.serviceRequests += second.point.Requests;
      mergeInto(this.serviceRt, second.rtHistogram);
      // a second with no response has no median: it tells nothing of a trend
      if (second.point.Requests > 0) this.serviceMedians.push(second.point.RT.TP50);
    }
  }

  tp99Ms(): number {
    return percentileMs(this.rt, 99);
  }

  /** TP99 of the seconds that were not generator-limited. */
  serviceTp99Ms(): number {
    return percentileMs(this.serviceRt, 99);
  }

  errorRate(): number {
    return this.requests > 0 ? this.errors / this.requests : 0;
  }

  /** Responses completed per second. */
  achievedQps(): number {
    return this.seconds > 0 ? this.requests / this.seconds : 0;
  }

  sentQps(): number {
    return this.seconds > 0 ? this.sent / this.seconds : 0;
  }

  /** The step as the API, `desc --json` and the report's Steps table show it. */
  step(targetQps: number, verdict: StepVerdict, why: string): Step {
    const limited = this.generatorLimitedSeconds > 0 ? { GeneratorLimitedShare: roundTo(this.generatorLimitedSeconds / this.seconds, 3) } : {};
    return { TargetQPS: targetQps, AchievedQPS: roundTo(this.achievedQps(), 2), TP99: roundTo(this.tp99Ms(), 3), ErrorRate: this.errorRate(), Verdict: verdict, Why: why, ...limited };
  }
}

/** Why a step that passed no limit is good: the limits it met (its figures are in the step's own fields). */
export function limitsMet(optional: ResolvedOptional): string {
  const rt = optional.maxRtMs !== null ? `TP99 <= maxRT ${fmtMs(optional.maxRtMs)} ms, ` : '';
  return `${rt}${faultTolerateMet(optional)}`;
}

export function faultTolerateMet(optional: ResolvedOptional): string {
  return `error rate <= faultTolerate ${fmtPercent(optional.faultTolerate)}`;
}

export function fmtQps(qps: number): string {
  return Number.isInteger(qps) ? String(qps) : qps.toFixed(1);
}

export function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

export function fmtPercent(rate: number): string {
  return `${(rate * 100).toFixed(2)}%`;
}

/** `404: 250, 599: 3`, the most frequent first: what a failing step was answered with. */
export function fmtStatusCodes(codes: Record<string, number>): string {
  const entries = Object.entries(codes).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return entries.length > 0 ? entries.map(([code, count]) => `${code}: ${count}`).join(', ') : 'no responses';
}

/** The capacity found, in one line of the task's Message: `capacity 500 QPS (TP99 12.3 ms, error rate 0.10%, limit maxRT)`. */
export function fmtCapacity(capacity: Capacity): string {
  return `capacity ${fmtQps(capacity.QPS)} QPS (TP99 ${fmtMs(capacity.TP99)} ms, error rate ${fmtPercent(capacity.ErrorRate)}, limit ${capacity.Reason})`;
}
