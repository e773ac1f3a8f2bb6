import { addErrorClasses, roundTo, type NamedSecond, type AgentStatsFrame, type ErrorClassCounts, type GeneratorSecond, type LlmRequestRecord, type LlmSloSpec, type PercentilePoint, type RoundResult, type StatsPoint } from '../../src/contract';
import {
  createLatencyHistogram,
  encodeHistogram,
  LatencyHistogram,
  mergeInto,
  percentileCurve,
  percentileMs,
  quantilesMs,
  rtDistribution,
} from '../../src/measure/histogram';
import { maxOf, minOf, sumInto } from './fold';
import { LlmSecondMerge, LlmStoredSecond } from './llm/stage';
import { decodeFrame, type DecodedFrame } from './frame-histograms';
import { NamedMerge } from './named';

/** Only this status is a success (SPEC 3: every request whose status is not 200 is an error). */
const SUCCESS_STATUS = '200';

/** What the controller knows about a second besides the agents' frames. */
export interface SecondContext {
  /** Seconds since the round started. */
  elapsed: number;
  targetQps?: number;
  concurrency?: number;
  agentsDesired: number;
  agentsAvailable: number;
  /** An LLM task: the point carries TTFTAvg/TPOTAvg/OutputTPS even in a second without frames. */
  llm?: boolean;
}

/** How hard the agents worked in a second: what auto mode reads to tell an agent bottleneck from a service one. */
export interface AgentLoad {
  /** Requests sent in the second, all agents. */
  sent: number;
  /** Requests in flight at the end of the second, all agents. */
  inFlight: number;
  /** Worst event-loop delay p99 among the agents, ms. */
  maxEventLoopLagMs: number;
  /** Agents that sent a frame for this second. */
  agentsReported: number;
}

export interface FinalizedSecond {
  point: StatsPoint;
  /** The second's merged RT histogram (µs, compressed base64): store it to rebuild round totals. */
  rtHistogram: string;
  /** The second's merged send-lag histogram (µs, compressed base64). */
  lagHistogram: string;
  agentLoad: AgentLoad;
  /** LLM tasks: the second's merged LLM histograms and counters. */
  llm?: LlmStoredSecond;
  /** LLM tasks: the records of the requests that ended in the second, to be written with it. */
  llmRecords?: LlmRequestRecord[];
  /** Named requests: each name's merged figures of the second (its histogram encoded, as `rtHistogram`). */
  byName?: Record<string, NamedSecond>;
}

/** One line of a round's per-second ndjson file. */
export interface StoredSecond {
  point: StatsPoint;
  rt: string;
  lag: string;
  /** LLM tasks: what the round's LLM figures are rebuilt from. */
  llm?: LlmStoredSecond;
  /** Named requests: what the round's per-name figures are rebuilt from. */
  byName?: Record<string, NamedSecond>;
}

export function toStoredSecond(second: FinalizedSecond): StoredSecond {
  return { point: second.point, rt: second.rtHistogram, lag: second.lagHistogram, ...(second.llm ? { llm: second.llm } : {}), ...(second.byName ? { byName: second.byName } : {}) };
}

/** The per-second LLM figures of a stats point: mean TTFT and TPOT, output tokens, requests in flight. */
function llmPointFigures(s: LlmStoredSecond | undefined): Pick<StatsPoint, 'TTFTAvg' | 'TPOTAvg' | 'ClientQueueAvg' | 'OutputTPS' | 'InFlight' | 'MaxInFlight'> {
  if (!s) return { OutputTPS: 0, InFlight: 0, MaxInFlight: 0 };
  const mean = (key: 'TTFT' | 'TPOT' | 'ClientQueueTime'): number | undefined => {
    const m = s.metrics[key];
    return m && m.n > 0 ? roundTo(m.sum / m.n, 4) : undefined;
  };
  const ttft = mean('TTFT');
  const tpot = mean('TPOT');
  const queue = mean('ClientQueueTime');
  return {
    ...(ttft !== undefined ? { TTFTAvg: ttft } : {}),
    ...(tpot !== undefined ? { TPOTAvg: tpot } : {}),
    ...(queue !== undefined ? { ClientQueueAvg: queue } : {}),
    OutputTPS: s.metrics.OutputTokens?.sum ?? 0,
    InFlight: roundTo(s.busyMs / 1000, 3),
    MaxInFlight: s.maxInFlight,
  };
}

function addCodes(target: Record<string, number>, source: Record<string, number>): void {
  for (const code of Object.keys(source)) target[code] = (target[code] ?? 0) + source[code];
}

/** The counters of agents' frames that add up into their second. */
const FRAME_SUMS = ['requests', 'sent', 'bytesIn', 'bytesOut', 'dropped', 'inFlight'] as const satisfies readonly (keyof AgentStatsFrame)[];

class PendingSecond {
  requests = 0;
  sent = 0;
  bytesIn = 0;
  bytesOut = 0;
  dropped = 0;
  inFlight = 0;
  maxEventLoopLagMs = 0;
  /** The agents' own figures, worst agent each (null: no frame carried them). */
  generator: GeneratorSecond | null = null;
  readonly statusCodes: Record<string, number> = {};
  /** Failed requests by cause class; they sum to the second's errors (see addErrorClasses). */
  readonly errorClasses: ErrorClassCounts = {};
  readonly rt = createLatencyHistogram();
  readonly lag = createLatencyHistogram();
  readonly agents = new Set<string>();
  /** LLM tasks: the agents' LLM frames merged (null when no frame carried one). */
  llm: LlmSecondMerge | null = null;
  /** LLM tasks: the frames' records, held only until the second is finalized. */
  llmRecords: LlmRequestRecord[] = [];
  /** Named requests: the frames' figures by name. */
  readonly named = new NamedMerge();

  constructor(private readonly llmSlo: LlmSloSpec | undefined) {}

  /** `decoded`: the frame's histograms, decoded (and checked) before anything of it is merged. */
  add(agentId: string, frame: AgentStatsFrame, decoded: DecodedFrame): void {
    if (decoded.rt) mergeInto(this.rt, decoded.rt);
    if (decoded.lag) mergeInto(this.lag, decoded.lag);
    for (const [name, n] of Object.entries(frame.byName ?? {})) this.named.add(name, n.requests, n.errors, decoded.named.get(name) ?? n.rtHistogram);
    if (frame.llm) (this.llm ??= new LlmSecondMerge(this.llmSlo)).add(frame.llm, frame.llmRecords, decoded.llm);
    if (frame.llmRecords) for (const r of frame.llmRecords) this.llmRecords.push(r);
    // Frames carry disjoint data, so an agent's second frame for the same second (a partial
    // flush, then more after a resume) adds up too; only the in-flight gauge is then over-counted.
    sumInto(this, frame, FRAME_SUMS);
    this.maxEventLoopLagMs = Math.max(this.maxEventLoopLagMs, frame.eventLoopLagMs);
    if (frame.generator) this.addGenerator(frame);
    addCodes(this.statusCodes, frame.statusCodes);
    addErrorClasses(this.errorClasses, frame.errorClasses, frame.requests - (frame.statusCodes[SUCCESS_STATUS] ?? 0));
    this.agents.add(agentId);
  }

  private addGenerator(frame: AgentStatsFrame): void {
    const health = frame.generator!;
    const g = (this.generator ??= { LoopDelayP99Ms: 0, LoopDelayMaxMs: 0, GcPauseMs: 0, GcPauseMaxMs: 0, FrameMs: 0, ConnectionWaitMaxMs: 0, Limited: false });
    g.LoopDelayP99Ms = Math.max(g.LoopDelayP99Ms, frame.eventLoopLagMs);
    g.LoopDelayMaxMs = Math.max(g.LoopDelayMaxMs, health.loopDelayMaxMs);
    g.GcPauseMs = Math.max(g.GcPauseMs, health.gcPauseMs);
    g.GcPauseMaxMs = Math.max(g.GcPauseMaxMs, health.gcPauseMaxMs);
    g.FrameMs = Math.max(g.FrameMs, health.frameMs);
    g.ConnectionWaitMaxMs = Math.max(g.ConnectionWaitMaxMs, health.connectionWaitMaxMs);
  }
}

/**
 * Merges the frames that several agents send for the same wall-clock second
 * into one StatsPoint. Counters are summed and histograms merged bucket by
 * bucket, so the point's percentiles are those of all the second's samples.
 * The caller decides when a second is complete (all agents reported, or a
 * grace period passed) and finalizes it. A published point never changes:
 * add() returns false for a frame of a second already finalized, so the
 * caller must fold a late frame into an open second (the round does, into the
 * next one, so that totals stay exact).
 */
export class SecondAggregator {
  private readonly pending = new Map<number, PendingSecond>();
  private finalizedUpTo = Number.NEGATIVE_INFINITY;

  /** `llmSlo`: an LLM task's SLO, against which each second's records are judged for goodput. */
  constructor(private readonly llmSlo?: LlmSloSpec) {}

  /**
   * `decoded`: the frame's histograms, when the caller decoded and checked
   * them already (decodeFrame). A frame whose histograms do not decode or do
   * not match its counts throws FrameRefused here and changes nothing.
   */
  add(agentId: string, frame: AgentStatsFrame, decoded?: DecodedFrame): boolean {
    if (frame.second <= this.finalizedUpTo) return false;
    const histograms = decoded ?? decodeFrame(frame);
    let bucket = this.pending.get(frame.second);
    if (!bucket) {
      bucket = new PendingSecond(this.llmSlo);
      this.pending.set(frame.second, bucket);
    }
    bucket.add(agentId, frame, histograms);
    return true;
  }

  /** Seconds that have frames and are not finalized yet, ascending. */
  pendingSeconds(): number[] {
    return [...this.pending.keys()].sort((a, b) => a - b);
  }

  /** Agents whose frame for `second` has arrived. */
  agentsReported(second: number): ReadonlySet<string> {
    return this.pending.get(second)?.agents ?? new Set<string>();
  }

  /** Builds the point of `second` (zeros when no frame came) and forgets its frames. */
  finalize(second: number, context: SecondContext): FinalizedSecond {
    const bucket = this.pending.get(second) ?? new PendingSecond(this.llmSlo);
    const llm = bucket.llm?.stored();
    this.pending.delete(second);
    this.finalizedUpTo = Math.max(this.finalizedUpTo, second);
    const success = bucket.statusCodes[SUCCESS_STATUS] ?? 0;
    const point: StatsPoint = {
      Time: second,
      Elapsed: context.elapsed,
      ...(context.targetQps !== undefined ? { TargetQPS: context.targetQps } : {}),
      ...(context.concurrency !== undefined ? { Concurrency: context.concurrency } : {}),
      Requests: bucket.requests,
      Success: success,
      Errors: bucket.requests - success,
      BytesIn: bucket.bytesIn,
      BytesOut: bucket.bytesOut,
      Dropped: bucket.dropped,
      StatusCodes: bucket.statusCodes,
      ...(bucket.requests > success ? { ErrorClasses: bucket.errorClasses } : {}),
      RT: quantilesMs(bucket.rt),
      SendLagP99: percentileMs(bucket.lag, 99),
      AgentsDesired: context.agentsDesired,
      AgentsAvailable: context.agentsAvailable,
      ...(bucket.generator ? { Generator: bucket.generator } : {}),
      ...(llm || context.llm ? llmPointFigures(llm) : {}),
      ...(bucket.named.size > 0 ? { ByName: bucket.named.figures(1) } : {}),
    };
    return {
      point,
      rtHistogram: encodeHistogram(bucket.rt),
      lagHistogram: encodeHistogram(bucket.lag),
      agentLoad: {
        sent: bucket.sent,
        inFlight: bucket.inFlight,
        maxEventLoopLagMs: bucket.maxEventLoopLagMs,
        agentsReported: bucket.agents.size,
      },
      ...(llm ? { llm } : {}),
      ...(bucket.llmRecords.length > 0 ? { llmRecords: bucket.llmRecords } : {}),
      ...(bucket.named.size > 0 ? { byName: bucket.named.encoded() } : {}),
    };
  }
}

/**
 * The round's start-up, left out of its latency figures: its leading
 * seconds with responses that the validity gate found generator-limited, at
 * most this many. A cold agent's first second (connects, compiling the send
 * path, the first backlog) is the agent's latency, not the service's; a
 * round's TP99 is not its start-up transient. Counts, bytes and QPS still
 * cover every second, the per-second series keeps every second, and the
 * result says how many seconds were left out (`WarmupExcludedS`). A round in
 * which no second passed the gate excludes nothing: there is no settled
 * figure to report instead, and the gate's share already says so.
 */
export const MAX_WARMUP_EXCLUDED_S = 2;

/**
 * Totals of a round, built from its finalized seconds. It holds only counters
 * and two histograms, so it can be rebuilt at any time from the stored
 * seconds (after a controller crash, for instance) with the same result.
 */
export class RoundAccumulator {
  private readonly rt: LatencyHistogram = createLatencyHistogram(64);
  private readonly lag: LatencyHistogram = createLatencyHistogram(64);
  private readonly statusCodes: Record<string, number> = {};
  private readonly errorClasses: ErrorClassCounts = {};
  /** False once a second with errors came without classes (stored before they existed): the round's are then unknown. */
  private classesKnown = true;
  /** Named requests: every second's figures by name, merged (all seconds: the start-up is not left out per name). */
  private readonly named = new NamedMerge();
  private totalRequests = 0;
  private successRequests = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private dropped = 0;
  private firstSecondWithData: number | null = null;
  private lastSecondWithData: number | null = null;
  private secondsAdded = 0;
  /** Seconds with responses, and those of them the validity gate found generator-limited (null: no second was judged). */
  private activeSeconds = 0;
  private limitedSeconds: number | null = null;
  /** The start-up seconds' histograms, kept apart while the start-up lasts (see MAX_WARMUP_EXCLUDED_S). */
  private readonly warmupRt: LatencyHistogram = createLatencyHistogram(64);
  private readonly warmupLag: LatencyHistogram = createLatencyHistogram(64);
  private warmupSeconds = 0;
  /** True until the first second with responses that is not start-up. */
  private inWarmup = true;

  addSecond(point: StatsPoint, rtEncoded: string, lagEncoded: string, byName?: Record<string, NamedSecond>): void {
    this.secondsAdded++;
    this.named.addAll(byName);
    this.totalRequests += point.Requests;
    this.successRequests += point.Success;
    this.bytesIn += point.BytesIn;
    this.bytesOut += point.BytesOut;
    this.dropped += point.Dropped;
    addCodes(this.statusCodes, point.StatusCodes);
    if (point.Errors > 0) {
      if (point.ErrorClasses) addErrorClasses(this.errorClasses, point.ErrorClasses, point.Errors);
      else this.classesKnown = false;
    }
    if (this.isWarmup(point)) {
      this.warmupSeconds++;
      mergeInto(this.warmupRt, rtEncoded);
      mergeInto(this.warmupLag, lagEncoded);
    } else {
      mergeInto(this.rt, rtEncoded);
      mergeInto(this.lag, lagEncoded);
    }
    if (point.Generator) this.limitedSeconds = (this.limitedSeconds ?? 0) + (point.Generator.Limited ? 1 : 0);
    if (point.Requests > 0) {
      this.activeSeconds++;
      this.firstSecondWithData = minOf(this.firstSecondWithData, point.Time);
      this.lastSecondWithData = maxOf(this.lastSecondWithData, point.Time);
    }
  }

  /** Seconds before the first response are nobody's latency; the start-up ends at the first settled second or the cap. */
  private isWarmup(point: StatsPoint): boolean {
    if (!this.inWarmup || point.Requests === 0) return false;
    if (point.Generator?.Limited === true && this.warmupSeconds < MAX_WARMUP_EXCLUDED_S) return true;
    this.inWarmup = false;
    return false;
  }

  addStored(second: StoredSecond): void {
    this.addSecond(second.point, second.rt, second.lag, second.byName);
  }

  get seconds(): number {
    return this.secondsAdded;
  }

  /** The histograms the latency figures come from: the start-up seconds left out once a settled second came. */
  private latency(): { excluded: number; rtHistogram: LatencyHistogram; lagHistogram: LatencyHistogram } {
    // every second with responses so far was start-up: nothing settled to report instead, so nothing is left out
    const excluded = this.inWarmup ? 0 : this.warmupSeconds;
    return {
      excluded,
      rtHistogram: excluded > 0 ? this.rt : mergedCopy(this.rt, this.warmupRt),
      lagHistogram: excluded > 0 ? this.lag : mergedCopy(this.lag, this.warmupLag),
    };
  }

  /** The round's response times as a percentile distribution, from the same merged histogram as its TP figures. */
  percentileCurve(): PercentilePoint[] {
    return percentileCurve(this.latency().rtHistogram);
  }

  /**
   * The round's totals. DurationS, the divisor of QPS, is by default the
   * number of wall-clock seconds from the first to the last second in which
   * responses completed (at least 1): idle seconds before the first response
   * or after the last do not dilute the rate. The first and last seconds are
   * usually partial, so for short rounds the caller may pass the round's
   * measured run time instead (`durationS`).
   */
  result(durationS?: number): RoundResult {
    const spanS =
      this.firstSecondWithData === null || this.lastSecondWithData === null
        ? 1
        : this.lastSecondWithData - this.firstSecondWithData + 1;
    const divisorS = durationS !== undefined && durationS > 0 ? durationS : Math.max(1, spanS);
    const { excluded, rtHistogram, lagHistogram } = this.latency();
    const rt = quantilesMs(rtHistogram);
    const errors = this.totalRequests - this.successRequests;
    return {
      ...(this.named.size > 0 ? { ByName: this.named.figures(divisorS) } : {}),
      TotalRequests: this.totalRequests,
      SuccessRequests: this.successRequests,
      ErrorRequests: errors,
      ErrorRate: this.totalRequests === 0 ? 0 : roundTo(errors / this.totalRequests, 6),
      QPS: roundTo(this.totalRequests / divisorS, 3),
      AvgRT: rt.Avg,
      MinRT: rt.Min,
      MaxRT: rt.Max,
      TP50: rt.TP50,
      TP75: rt.TP75,
      TP90: rt.TP90,
      TP95: rt.TP95,
      TP99: rt.TP99,
      TP999: rt.TP999,
      BytesIn: this.bytesIn,
      BytesOut: this.bytesOut,
      StatusCodes: { ...this.statusCodes },
      ...(errors > 0 && this.classesKnown ? { ErrorClasses: { ...this.errorClasses } } : {}),
      Dropped: this.dropped,
      SendLagP99: percentileMs(lagHistogram, 99),
      DurationS: roundTo(divisorS, 3),
      RTDistribution: rtDistribution(rtHistogram),
      ...(excluded > 0 ? { WarmupExcludedS: excluded } : {}),
      ...(this.limitedSeconds !== null
        ? { GeneratorLimitedSeconds: this.limitedSeconds, GeneratorLimitedShare: roundTo(Math.min(1, this.limitedSeconds / Math.max(1, this.activeSeconds)), 3) }
        : {}),
    };
  }
}

/** a + b in a new histogram (both left as they are). */
function mergedCopy(a: LatencyHistogram, b: LatencyHistogram): LatencyHistogram {
  if (b.totalCount === 0) return a;
  const copy = createLatencyHistogram(64);
  mergeInto(copy, a);
  mergeInto(copy, b);
  return copy;
}
