import { TRACE_START_LEAD_MS, type AgentAssignment, type LlmLoad, type LlmWork, type LoadShape, type TraceRecord } from '../../src/contract';
import type { AgentLog } from '../lifecycle';
import type { LoadContext, LoadDriver, Workload } from '../load-driver';
import { mostDueWithin } from '../schedule';
import { LlmClient, LlmResultSink } from './client';
import { GammaArrivals } from './prng';
import { PromptSource, RequestSource, requestFor } from './prompts';
import { SessionsDriver, TurnQueue } from './sessions';

/** rate mode without maxConcurrency: connections the pool may open. */
const RATE_MODE_CONNECTIONS = 256;

const sameLoad = (a: LlmLoad, b: LlmLoad): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * concurrency and throughput: `concurrency` streams, each sending its next
 * request when the previous one ends. pressure: `startConcurrency` streams at
 * first, one more each time the linear ramp to `concurrency` over `rampMs`
 * passes a whole stream, then held.
 */
class LlmStreams implements LoadDriver<LlmLoad> {
  private active = false;
  private streams = 0;
  private startMs = 0;
  private rampTimer: NodeJS.Timeout | null = null;
  // Each stream is a chain of sends: the end of one request sends the next.
  private readonly next = (): void => {
    if (!this.active) return;
    const nowMs = performance.now();
    if (!this.context.trySend(nowMs, nowMs, this.next)) this.stop();
  };
  private readonly ramp = (): void => {
    this.rampTimer = null;
    if (!this.active) return;
    const target = Math.max(1, this.load.concurrency);
    const start = Math.min(target, this.load.startConcurrency ?? target);
    const rampMs = this.load.rampMs ?? 0;
    const elapsed = performance.now() - this.startMs;
    const due = rampMs > 0 && elapsed < rampMs ? start + Math.floor(((target - start) * elapsed) / rampMs) : target;
    while (this.streams < due && this.active) {
      this.streams++;
      this.next();
    }
    if (this.streams < target && this.active) {
      // the moment the ramp reaches the next whole stream
      const nextAtMs = ((this.streams + 1 - start) * rampMs) / (target - start);
      this.rampTimer = setTimeout(this.ramp, Math.max(1, Math.ceil(nextAtMs - elapsed)));
    }
  };

  constructor(private readonly context: LoadContext, private readonly load: LlmLoad) {}

  start(): void {
    this.active = true;
    this.startMs = performance.now();
    this.ramp();
  }

  /** Any change restarts the streams (what is in flight carries on). */
  update(load: LlmLoad): boolean {
    return sameLoad(load, this.load);
  }

  stop(): void {
    this.active = false;
    if (this.rampTimer) clearTimeout(this.rampTimer);
    this.rampTimer = null;
  }
}

/** What the rate driver tells the client about the request it is about to send. */
export interface QueueNote {
  /** The next request's client queue time, ms (0: it went at its scheduled time). */
  noteQueued(queueMs: number | undefined): void;
}

/** Due times of a schedule, seconds from its start, in order; Infinity once it has no more. */
interface DueTimes {
  nextS(): number;
}

/** Gamma arrivals: the first at 0, then cumulative seeded intervals. */
function gammaTimes(load: LlmLoad): DueTimes {
  const arrivals = new GammaArrivals(load.ratePerS, load.burstiness, load.seed);
  let t = 0;
  return {
    nextS: () => {
      const due = t;
      t += arrivals.nextIntervalS();
      return due;
    },
  };
}

/**
 * A trace's records of this agent (i, i + n, i + 2n, ...: the same requests
 * PromptSource gives), each at its own offset; from the `sent`-th of them
 * when the lane is taken over mid-round.
 */
function traceTimes(records: readonly TraceRecord[], agentIndex: number, agentCount: number, sent: number): DueTimes {
  let k = agentIndex + sent * agentCount;
  return {
    nextS: () => {
      if (k >= records.length) return Infinity;
      const due = records[k].atMs / 1000;
      k += agentCount;
      return due;
    },
  };
}

/**
 * rate: Gamma arrivals from the seeded generator (same seed, same schedule);
 * the first request goes at once. With maxConcurrency a due request waits for
 * a free slot, first come first served, so requests leave in the order they
 * fell due and the k-th send is the k-th arrival: a second generator with the
 * same seed, stepped once a send, gives each send its scheduled time. The
 * wait for a slot is the request's client queue time; the lateness of every
 * send against its schedule (that wait, or the timer's own delay) is its
 * send lag, which the generator gate judges as it does the HTTP open loop's.
 */
class LlmArrivals implements LoadDriver<LlmLoad> {
  private active = false;
  private timer: NodeJS.Timeout | null = null;
  /** Due requests waiting for an in-flight slot (maxInFlight). */
  private waiting = 0;
  private startMs = 0;
  /** The next arrival, and the scheduled time of the next send (both seconds from the start). */
  private dueS: number;
  private sendDueS: number;
  private readonly tick = (): void => {
    this.timer = null;
    if (!this.active) return;
    const nowMs = performance.now();
    while (this.startMs + this.dueS * 1000 <= nowMs) {
      this.dueS = this.arrivals.nextS();
      const maxInFlight = this.load.maxInFlight;
      // maxConcurrency: the request waits for a slot (as vLLM's benchmark does); its latency counts from its actual send.
      if (maxInFlight !== null && this.context.inFlight + this.waiting >= maxInFlight) this.waiting++;
      else if (!this.sendNow(false)) return;
    }
    // a trace's last record is sent: nothing more is due (the request limit ends the agent's share)
    if (this.dueS === Infinity) return;
    this.timer = setTimeout(this.tick, Math.max(1, Math.floor(this.startMs + this.dueS * 1000 - performance.now())));
  };
  private readonly releaseSlot = (): void => {
    if (!this.active || this.waiting === 0) return;
    this.waiting--;
    this.sendNow(true);
  };

  /**
   * `arrivals` and `sends`: two cursors over the same schedule (arrivals as
   * they fall due, sends as they leave); `leadMs`: the schedule's zero, ms
   * after the start.
   */
  constructor(
    private readonly context: LoadContext,
    private readonly load: LlmLoad,
    private readonly client: QueueNote,
    private readonly arrivals: DueTimes,
    private readonly sends: DueTimes,
    private readonly leadMs = 0,
  ) {
    this.dueS = arrivals.nextS();
    this.sendDueS = sends.nextS();
  }

  start(): void {
    this.active = true;
    // a trace lane taken over mid-round runs on the round's clock: its records already due go at once
    this.startMs = performance.now() + this.leadMs - (this.load.trace?.atMs ?? 0);
    this.tick();
  }

  /**
   * Any change restarts the schedule (what is in flight carries on), except
   * where a trace lane stands: the lane goes on from its own next record.
   */
  update(load: LlmLoad): boolean {
    return sameLoad({ ...load, trace: undefined }, { ...this.load, trace: undefined });
  }

  stop(): void {
    this.active = false;
    this.waiting = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Sends the next request of the schedule; `held`: it waited for a slot. */
  private sendNow(held: boolean): boolean {
    const nowMs = performance.now();
    const scheduledMs = this.startMs + this.sendDueS * 1000;
    const lateMs = Math.max(0, nowMs - scheduledMs);
    // only a wait for a slot is queue time: a timer's lateness at an unheld send is send lag alone
    this.client.noteQueued(held ? lateMs : 0);
    // the schedule's end is judged on the actual send, so that a backlog held by maxConcurrency ends with the run
    if (!this.context.trySend(nowMs, nowMs, this.releaseSlot)) {
      this.client.noteQueued(undefined);
      this.stop();
      return false;
    }
    this.sendDueS = this.sends.nextS();
    this.context.sendLag(nowMs, lateMs * 1000);
    return true;
  }
}

/**
 * One agent's share of an LLM task: streamed requests in one of the three
 * test modes, each recorded with its LLM figures.
 */
export class LlmWorkload implements Workload<LlmLoad> {
  readonly sender: LlmClient;
  /** sessions mode: the turns its driver queues for the client. */
  private readonly turns: TurnQueue | null;
  /** The other modes: the dataset's entries of this agent. */
  private readonly prompts: PromptSource | null;

  constructor(private readonly assignment: AgentAssignment, private readonly work: LlmWork, sink: LlmResultSink, log: AgentLog) {
    sink.enableLlmRecords();
    this.turns = work.run?.kind === 'sessions' ? new TurnQueue() : null;
    this.prompts = this.turns ? null : new PromptSource(work, assignment.agentIndex, assignment.agentCount);
    const prompts: RequestSource = this.turns ?? (this.prompts as PromptSource);
    const { url, headers, timeoutMs } = assignment.request;
    const options = { url, headers, timeoutMs, agentIndex: assignment.agentIndex, retries: work.retries ?? 0,
      ...(work.maxResponseBytes !== undefined ? { maxResponseBytes: work.maxResponseBytes } : {}),
      ...(work.tokenizer ? { tokenizer: work.tokenizer } : {}),
      // the agent's own first dataset entry, as its first measured request will be
      sample: () => requestFor(work, assignment.agentIndex),
      ...(work.warmupRequests ? { warmup: { count: work.warmupRequests, request: () => requestFor(work, assignment.agentIndex) } } : {}) };
    this.sender = new LlmClient(options, prompts, sink, log);
  }

  accepts(load: LoadShape): load is LlmLoad {
    return load.kind === 'llm';
  }

  fit(load: LlmLoad): void {
    const connections = load.connections ?? (load.testMode === 'rate' ? (load.maxInFlight ?? RATE_MODE_CONNECTIONS) : load.concurrency);
    this.sender.setConnections(connections, load.testMode === 'rate' ? this.busiestSecond(load) : 0);
  }

  /**
   * Rate mode: the most requests this agent sends within one second (a
   * trace's busiest second; a Gamma schedule's mean rate), which `prepare`
   * opens connections for, so a burst's sends are not held by handshakes.
   */
  private busiestSecond(load: LlmLoad): number {
    const source = this.work.source;
    if (source.kind !== 'trace') return Math.ceil(load.ratePerS);
    return mostDueWithin(source.records.map((r) => r.atMs), 1000, this.assignment.agentIndex, this.assignment.agentCount);
  }

  createDriver(load: LlmLoad, context: LoadContext): LoadDriver<LlmLoad> {
    const run = this.work.run;
    if (run?.kind === 'sessions' && this.turns) return new SessionsDriver(context, load, this.work, run, this.turns, this.assignment.agentIndex, this.assignment.agentCount);
    if (load.testMode !== 'rate') return new LlmStreams(context, load);
    const source = this.work.source;
    const { agentIndex, agentCount } = this.assignment;
    // a trace lane goes on where this agent's prompts stand, or where the seat's earlier agents left it
    const from = source.kind === 'trace' ? (this.prompts?.startAt(load.trace?.sent ?? 0) ?? 0) : 0;
    const times = (): DueTimes => (source.kind === 'trace' ? traceTimes(source.records, agentIndex, agentCount, from) : gammaTimes(load));
    return new LlmArrivals(context, load, this.sender, times(), times(), source.kind === 'trace' ? TRACE_START_LEAD_MS : 0);
  }
}
