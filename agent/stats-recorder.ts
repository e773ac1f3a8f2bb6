import { AGENT_LIMITS, ERROR_CLASSES, errorClassCountsOf, recordValueCount, type NamedSecond, type AgentStatsFrame, type GeneratorHealth, type LlmRequestRecord, type LlmSecondFrame } from '../src/contract';
import { CAUSE } from './error-cause';
import { GcWatch } from './gc-watch';
import { LoopDelayProbe } from './loop-delay';
import { createLatencyHistogram, encodeHistogram, recordUs } from '../src/measure/histogram';
import { LlmSecondRecorder } from '../src/measure/llm-second';
import type { ResultSink } from './sender-core';

/** The wall clock must move this far from the monotonic one before seconds follow it. */
const CLOCK_RESYNC_MS = 50;
/** After a long pause of the process, at most this many empty frames fill the gap. */
const MAX_GAP_FRAMES = 10;
/** Status codes are counted in a flat array indexed by code; anything outside is folded into 599. */
const MAX_STATUS = 999;

/** Gauges the recorder reads when it closes a second. */
export interface RecorderGauges {
  inFlight(): number;
  totalSent(): number;
  /** Longest wait for a free connection since the last call, ms (and starts a new period). */
  takeConnectionWaitMaxMs(): number;
}

const roundMs = (ms: number): number => Math.round(ms * 1000) / 1000;

/**
 * The records one frame carries at the most, by `recordBytes`: half a frame,
 * so the rest of the frame and the estimate's slack always fit. A second with
 * more (an answer of millions of tokens once made one over 32 MiB, and the
 * agent was dropped again and again) is split over several frames.
 */
export const FRAME_RECORDS_BYTES = AGENT_LIMITS.frameBytes / 2;

/** A record's JSON, bounded from above: fixed fields, its gaps (rounded to µs, at most 24 characters each) and its error text escaped. */
export function recordBytes(r: LlmRequestRecord): number {
  return 512 + r.itlMs.length * 24 + (r.error?.length ?? 0) * 6;
}

/** Records in groups that each fit FRAME_RECORDS_BYTES (a record is bounded far below it by the client). */
export function splitRecords(records: LlmRequestRecord[], budget = FRAME_RECORDS_BYTES): LlmRequestRecord[][] {
  const groups: LlmRequestRecord[][] = [];
  let group: LlmRequestRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = recordBytes(r);
    if (group.length > 0 && bytes + size > budget) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(r);
    bytes += size;
  }
  groups.push(group);
  return groups;
}

/** The LLM part of a frame that carries records only: nothing else happened in it. */
const NO_LLM_SECOND: LlmSecondFrame = { requests: 0, success: 0, usage: 0, metrics: {}, maxInFlight: 0, busyMs: 0, maxFromMs: null, maxUntilMs: null, firstSendMs: null, lastEndMs: null };

/**
 * Per-second counters and HDR histograms of one agent. Seconds are Unix
 * (wall-clock) seconds so that the frames of different agents for the same
 * second merge; within a second, time comes from performance.now(), which
 * is monotonic. A response belongs to the second in which it completed.
 * Nothing grows with the run: the state is reset after each frame.
 */
export class StatsRecorder implements ResultSink {
  private readonly rt = createLatencyHistogram();
  private readonly lag = createLatencyHistogram();
  private readonly statusCounts = new Float64Array(MAX_STATUS + 1);
  /** Failed requests by cause class, indexed as ERROR_CLASSES (a CAUSE). */
  private readonly errorCounts = new Float64Array(ERROR_CLASSES.length);
  private errors = 0;
  private requests = 0;
  private sentCount = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private droppedCount = 0;
  /** LLM tasks: records of the requests completed in this second (null: not an LLM task). */
  private llmRecords: LlmRequestRecord[] | null = null;
  /** recordValueCount of this second's records so far. */
  private recordValues = 0;
  /** LLM tasks: the second's LLM histograms and in-flight figures. */
  private llm: LlmSecondRecorder | null = null;
  /** The Unix second being filled, and the performance.now() time at which it ends. */
  private second = 0;
  private secondEndMs = Number.POSITIVE_INFINITY;
  /** Date.now() minus performance.now(): maps the monotonic clock to Unix time. */
  private wallOffsetMs = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  private active = false;
  private readonly loopDelay = new LoopDelayProbe();
  private readonly gc = new GcWatch();
  /** What building, encoding and sending the previous frame took, ms: goes out with the next one. */
  private lastFrameMs = 0;
  /** The task's named requests and the second's figures of each, by its index (empty: none). */
  private names: readonly string[] = [];
  private readonly named: { requests: number; errors: number; rt: ReturnType<typeof createLatencyHistogram> }[] = [];

  constructor(
    private readonly gauges: RecorderGauges,
    private readonly emit: (frame: AgentStatsFrame) => void,
  ) {}

  get running(): boolean {
    return this.active;
  }

  /** Starts filling the current second; frames are emitted at each wall-clock second boundary. */
  start(nowMs = performance.now()): void {
    if (this.active) return;
    this.active = true;
    this.loopDelay.start();
    this.gc.start();
    this.beginSecondAt(nowMs);
    this.arm(nowMs);
  }

  /** Emits the partial current second and stops (the final frame of a run, or before a pause). */
  flush(nowMs = performance.now()): void {
    if (!this.active) return;
    this.rollTo(nowMs);
    this.emitFrame();
    this.stop();
  }

  /** Stops without emitting. */
  stop(): void {
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.loopDelay.stop();
    this.gc.stop();
    this.resetSecond();
  }

  nameRequests(names: readonly string[]): void {
    this.names = names;
    this.named.length = 0;
    for (let i = 0; i < names.length; i++) this.named.push({ requests: 0, errors: 0, rt: createLatencyHistogram() });
  }

  /** Frames will carry `llmRecords` (possibly empty), so the controller knows the task's seconds have LLM figures. */
  enableLlmRecords(): void {
    if (this.llmRecords === null) this.llmRecords = [];
    this.llm ??= new LlmSecondRecorder();
  }

  /** An LLM request was sent (for the in-flight figures). */
  llmSent(nowMs: number): void {
    if (nowMs >= this.secondEndMs) this.rollTo(nowMs);
    this.enableLlmRecords();
    this.llm?.began(nowMs);
  }

  /** An LLM request ended: its record goes out with the frame of the second it ended in (null: cancelled, not recorded). */
  llmRecord(nowMs: number, record: LlmRequestRecord | null): void {
    if (nowMs >= this.secondEndMs) this.rollTo(nowMs);
    this.enableLlmRecords();
    this.llm?.ended(nowMs, record);
    if (record && this.llmRecords) this.llmRecords.push(this.withinSecondBudget(record));
  }

  /**
   * A second's records hold at most AGENT_LIMITS.secondRecordValues values,
   * what the controller admits: gaps past it are left out and counted in
   * itlLeftOut (the live ITL figures come from the second's histograms,
   * which keep every gap), so a service streaming without end cannot make
   * the controller refuse this agent's seconds.
   */
  private withinSecondBudget(record: LlmRequestRecord): LlmRequestRecord {
    const values = recordValueCount(record);
    const room = AGENT_LIMITS.secondRecordValues - this.recordValues;
    if (values <= room) {
      this.recordValues += values;
      return record;
    }
    const keep = Math.max(0, record.itlMs.length - (values - room));
    const trimmed = { ...record, itlMs: record.itlMs.slice(0, keep), itlLeftOut: (record.itlLeftOut ?? 0) + record.itlMs.length - keep };
    this.recordValues += recordValueCount(trimmed);
    return trimmed;
  }

  // --- hot path: called per request -----------------------------------------------------------

  sent(nowMs: number, bytesOut: number): void {
    if (nowMs >= this.secondEndMs) this.rollTo(nowMs);
    this.sentCount++;
    this.bytesOut += bytesOut;
  }

  /** Open loop: actual send minus scheduled send, µs. */
  sendLag(nowMs: number, lagUs: number): void {
    if (nowMs >= this.secondEndMs) this.rollTo(nowMs);
    recordUs(this.lag, lagUs);
  }

  dropped(nowMs: number): void {
    if (nowMs >= this.secondEndMs) this.rollTo(nowMs);
    this.droppedCount++;
  }

  response(nowMs: number, status: number, latencyUs: number, bytesIn: number, cause: number, name = -1): void {
    if (nowMs >= this.secondEndMs) this.rollTo(nowMs);
    this.requests++;
    this.bytesIn += bytesIn;
    this.statusCounts[status > 0 && status <= MAX_STATUS ? status : 599]++;
    // SPEC 3: only 200 succeeds; a complete answer of another status failed by its status
    if (status !== 200) {
      this.errors++;
      this.errorCounts[cause >= 0 && cause < ERROR_CLASSES.length ? cause : CAUSE.httpStatus]++;
    }
    recordUs(this.rt, latencyUs);
    if (name >= 0 && name < this.named.length) {
      const named = this.named[name];
      named.requests++;
      if (status !== 200) named.errors++;
      recordUs(named.rt, latencyUs);
    }
  }

  // --- seconds -----------------------------------------------------------------------------------

  /** Emits the second that ended before `nowMs` (and empty ones for any it skipped) and starts the one containing it. */
  private rollTo(nowMs: number): void {
    if (!this.active || nowMs < this.secondEndMs) return;
    const closed = this.second;
    this.emitFrame();
    this.beginSecondAt(nowMs);
    // A wall clock stepped back must not make an agent repeat a second it already sent.
    if (this.second <= closed) this.second = closed + 1;
    const current = this.second;
    for (let s = Math.max(closed + 1, current - MAX_GAP_FRAMES); s < current; s++) {
      this.second = s;
      this.emitFrame();
    }
    this.second = current;
  }

  private beginSecondAt(nowMs: number): void {
    // Follow a wall-clock adjustment, but ignore Date.now()'s whole-ms jitter: re-reading the
    // offset at every boundary could put a boundary a fraction of a ms before the one just passed.
    // The offset is read from the clocks now, not from `nowMs`: a caller's time can be a request's
    // scheduled or completion time, tens of ms old on a busy loop, and an offset taken from it would
    // close every later second that much early.
    const offsetMs = Date.now() - performance.now();
    if (Math.abs(offsetMs - this.wallOffsetMs) > CLOCK_RESYNC_MS) this.wallOffsetMs = offsetMs;
    this.second = Math.floor((nowMs + this.wallOffsetMs) / 1000);
    this.secondEndMs = (this.second + 1) * 1000 - this.wallOffsetMs;
  }

  private arm(nowMs: number): void {
    if (!this.active) return;
    // A little after the boundary, so that the timer never fires inside the second it closes.
    const delayMs = Math.max(1, Math.ceil(this.secondEndMs - nowMs) + 1);
    this.timer = setTimeout(() => this.onTimer(), delayMs);
  }

  private onTimer(): void {
    this.timer = null;
    const nowMs = performance.now();
    this.rollTo(nowMs);
    this.arm(nowMs);
  }

  private emitFrame(): void {
    const startedMs = performance.now();
    const statusCodes: Record<string, number> = {};
    for (let code = 0; code <= MAX_STATUS; code++) {
      if (this.statusCounts[code] > 0) statusCodes[code] = this.statusCounts[code];
    }
    const loop = this.loopDelay.take(startedMs);
    const gc = this.gc.take();
    const generator: GeneratorHealth = {
      loopDelayMaxMs: roundMs(loop.maxMs),
      gcPauseMs: roundMs(gc.totalMs),
      gcPauseMaxMs: roundMs(gc.maxMs),
      frameMs: roundMs(this.lastFrameMs),
      connectionWaitMaxMs: roundMs(this.gauges.takeConnectionWaitMaxMs()),
    };
    const frame: AgentStatsFrame = {
      second: this.second,
      requests: this.requests,
      sent: this.sentCount,
      statusCodes,
      ...(this.errors > 0 ? { errorClasses: errorClassCountsOf(this.errorCounts) } : {}),
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      dropped: this.droppedCount,
      inFlight: this.gauges.inFlight(),
      rtHistogram: encodeHistogram(this.rt),
      lagHistogram: encodeHistogram(this.lag),
      totalSent: this.gauges.totalSent(),
      eventLoopLagMs: roundMs(loop.p99Ms),
      generator,
      ...(this.llmRecords !== null ? { llmRecords: this.llmRecords } : {}),
      ...(this.llm !== null ? { llm: this.llm.take(Math.min(performance.now(), this.secondEndMs)) } : {}),
      ...(this.names.length > 0 ? { byName: this.namedFigures() } : {}),
    };
    this.resetSecond();
    if (frame.llmRecords && frame.llmRecords.length > 1) this.emitRecordsApart(frame);
    this.emit(frame);
    this.lastFrameMs = performance.now() - startedMs;
  }

  /**
   * Records too many for one frame go first in frames of the same second that
   * carry nothing else (zero counts, empty histograms); the frame with the
   * second's figures comes last with the remaining ones, so the controller
   * has every record of the second when the second is complete.
   */
  private emitRecordsApart(frame: AgentStatsFrame): void {
    const groups = splitRecords(frame.llmRecords!);
    if (groups.length === 1) return;
    frame.llmRecords = groups.pop();
    for (const llmRecords of groups) {
      this.emit({
        second: frame.second,
        requests: 0,
        sent: 0,
        statusCodes: {},
        bytesIn: 0,
        bytesOut: 0,
        dropped: 0,
        inFlight: 0,
        rtHistogram: '',
        lagHistogram: '',
        totalSent: frame.totalSent,
        eventLoopLagMs: 0,
        llmRecords,
        llm: { ...NO_LLM_SECOND, metrics: {} },
      });
    }
  }

  private namedFigures(): Record<string, NamedSecond> {
    const figures: Record<string, NamedSecond> = {};
    this.named.forEach((n, i) => {
      if (n.requests > 0) figures[this.names[i]] = { requests: n.requests, errors: n.errors, rtHistogram: encodeHistogram(n.rt) };
    });
    return figures;
  }

  private resetSecond(): void {
    for (const n of this.named) {
      if (n.requests === 0) continue;
      n.requests = 0;
      n.errors = 0;
      n.rt.reset();
    }
    this.rt.reset();
    this.lag.reset();
    this.statusCounts.fill(0);
    if (this.errors > 0) this.errorCounts.fill(0);
    this.errors = 0;
    this.requests = 0;
    this.sentCount = 0;
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.droppedCount = 0;
    if (this.llmRecords !== null) this.llmRecords = [];
    this.recordValues = 0;
  }
}
