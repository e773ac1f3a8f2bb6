import { LLM_METRICS, type LlmMetricKey, type LlmMetricSecond, type LlmRequestRecord, type LlmSecondFrame } from '../contract';
import { createLatencyHistogram, encodeHistogram, LatencyHistogram, recordUs } from './histogram';
import { e2elWithQueueMs, itlMs, outputTps, tpotMs } from './llm-request';

/**
 * The LLM histograms keep values up to one hour (in µs) or 3.6 million
 * token/s (in millitoken/s), so that a long generation is never clamped; every
 * LLM histogram, per second or per stage, shares this layout so merges add
 * buckets one to one.
 */
export const LLM_HIGHEST = 3_600_000_000;

/** What a metric's values are multiplied by before they enter its histogram (µs for times, millitoken/s for throughput). */
export const LLM_SCALE: Readonly<Record<LlmMetricKey, number>> = {
  TTFT: 1000,
  TPOT: 1000,
  ITL: 1000,
  ITLGap: 1000,
  E2EL: 1000,
  E2ELWithQueue: 1000,
  ClientQueueTime: 1000,
  InputTokens: 1,
  OutputTokens: 1,
  OutputTokenThroughput: 1000,
};

export function createLlmHistogram(countWidth: 32 | 64 = 32): LatencyHistogram {
  return createLatencyHistogram(countWidth, LLM_HIGHEST);
}

/**
 * The values of one request, by metric (null: the request has no such
 * value). `ITLGap` has one value a gap: they are `requestGaps`, not here.
 */
export function requestValues(r: LlmRequestRecord): Record<LlmMetricKey, number | null> {
  const ok = r.success;
  return {
    TTFT: ok ? r.ttftMs : null,
    TPOT: tpotMs(r),
    ITL: itlMs(r),
    ITLGap: null,
    E2EL: ok ? r.e2elMs : null,
    E2ELWithQueue: e2elWithQueueMs(r),
    ClientQueueTime: ok && r.queueMs !== undefined ? r.queueMs : null,
    InputTokens: ok ? r.inputTokens : null,
    OutputTokens: ok ? r.outputTokens : null,
    OutputTokenThroughput: outputTps(r),
  };
}

/** The token gaps of a request that the `ITLGap` row counts: every gap of a successful one. */
export function requestGaps(r: LlmRequestRecord): readonly number[] {
  return r.success ? r.itlMs : [];
}

/**
 * One LLM metric over some requests: its histogram and exact moments. The
 * agent fills one a second; the controller adds seconds into stages.
 */
export class LlmMetricMoments {
  readonly h: LatencyHistogram;
  n = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;

  constructor(countWidth: 32 | 64 = 32) {
    this.h = createLlmHistogram(countWidth);
  }

  reset(): void {
    this.h.reset();
    this.n = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
  }

  toSecond(): LlmMetricSecond {
    return { h: encodeHistogram(this.h), n: this.n, sum: this.sum, min: this.min, max: this.max };
  }
}

/** One metric of the second being filled. */
class MetricSecond extends LlmMetricMoments {
  add(value: number, scale: number): void {
    recordUs(this.h, value * scale, LLM_HIGHEST);
    this.n++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  take(): LlmMetricSecond {
    const out = this.toSecond();
    this.reset();
    return out;
  }
}

/**
 * An LLM agent's per-second figures: the histograms and sums of the requests
 * that ended in the second, and the in-flight count over time (its most, the
 * moments it was at its most, and its time integral). Nothing grows with the
 * run: a second's state is cleared when its frame is taken.
 * Times given to it are performance.now() ms.
 */
export class LlmSecondRecorder {
  private readonly metrics = new Map<LlmMetricKey, MetricSecond>(LLM_METRICS.map((k) => [k, new MetricSecond()]));
  private requests = 0;
  private success = 0;
  private usage = 0;
  private firstSendMs: number | null = null;
  private lastSendMs: number | null = null;
  private lastEndMs: number | null = null;
  private inFlight = 0;
  private lastChangeMs: number | null = null;
  private busyMs = 0;
  private max = 0;
  private maxFromMs: number | null = null;
  private maxUntilMs: number | null = null;

  /** A request was sent. */
  began(nowMs: number): void {
    this.advance(nowMs);
    this.inFlight++;
    if (this.inFlight > this.max) {
      this.max = this.inFlight;
      this.maxFromMs = nowMs;
      this.maxUntilMs = null;
    } else if (this.inFlight === this.max) {
      // back at the most: it is there until it leaves again
      this.maxUntilMs = null;
    }
  }

  /** A request ended: with its record, or without one (cancelled at a stop). */
  ended(nowMs: number, record: LlmRequestRecord | null): void {
    this.advance(nowMs);
    if (this.inFlight === this.max && this.max > 0) this.maxUntilMs = nowMs;
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (!record) return;
    this.requests++;
    this.firstSendMs = this.firstSendMs === null ? record.sendMs : Math.min(this.firstSendMs, record.sendMs);
    this.lastSendMs = this.lastSendMs === null ? record.sendMs : Math.max(this.lastSendMs, record.sendMs);
    this.lastEndMs = this.lastEndMs === null ? record.endMs : Math.max(this.lastEndMs, record.endMs);
    if (!record.success) return;
    this.success++;
    if (record.tokenSource === 'usage') this.usage++;
    const values = requestValues(record);
    for (const key of LLM_METRICS) {
      const v = values[key];
      if (v !== null) this.metrics.get(key)?.add(v, LLM_SCALE[key]);
    }
    const gaps = this.metrics.get('ITLGap') as MetricSecond;
    for (const gap of requestGaps(record)) gaps.add(gap, LLM_SCALE.ITLGap);
  }

  /** The second that ends at `endMs` (performance.now() ms): its frame, and a fresh second that starts there. */
  take(endMs: number): LlmSecondFrame {
    this.advance(endMs);
    const atMostAtEnd = this.inFlight === this.max && this.max > 0;
    const metrics: Partial<Record<LlmMetricKey, LlmMetricSecond>> = {};
    for (const [key, m] of this.metrics) if (m.n > 0) metrics[key] = m.take();
    const frame: LlmSecondFrame = {
      requests: this.requests,
      success: this.success,
      usage: this.usage,
      metrics,
      maxInFlight: this.max,
      busyMs: Math.round(this.busyMs * 1000) / 1000,
      maxFromMs: this.maxFromMs === null ? null : unixMs(this.maxFromMs),
      maxUntilMs: atMostAtEnd ? unixMs(endMs) : this.maxUntilMs === null ? null : unixMs(this.maxUntilMs),
      firstSendMs: this.firstSendMs,
      lastEndMs: this.lastEndMs,
      lastSendMs: this.lastSendMs,
    };
    this.requests = 0;
    this.success = 0;
    this.usage = 0;
    this.firstSendMs = null;
    this.lastSendMs = null;
    this.lastEndMs = null;
    this.busyMs = 0;
    // the requests still in flight carry over: the next second starts at their count
    this.max = this.inFlight;
    this.maxFromMs = this.inFlight > 0 ? endMs : null;
    this.maxUntilMs = null;
    return frame;
  }

  private advance(nowMs: number): void {
    if (this.lastChangeMs !== null && nowMs > this.lastChangeMs) this.busyMs += this.inFlight * (nowMs - this.lastChangeMs);
    if (this.lastChangeMs === null || nowMs > this.lastChangeMs) this.lastChangeMs = nowMs;
  }
}

function unixMs(perfMs: number): number {
  return Math.round((performance.timeOrigin + perfMs) * 1000) / 1000;
}
