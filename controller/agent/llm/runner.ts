import type { AgentAssignment, AgentToController, LlmLoad, LlmWork } from '../../../src/contract';
import { StatsRecorder } from '../stats-recorder';
import { LlmClient } from './client';
import { GammaArrivals } from './prng';
import { PromptSource } from './prompts';
import { loadTokenizer } from './tokens';

/** On stop, streams in flight get at most this long to finish before they are cancelled (and not recorded). */
const STOP_GRACE_MS = 2000;

type State = 'loading' | 'running' | 'limited' | 'stopping' | 'stopped';

/**
 * One agent's share of an LLM task: streams requests in one of the three
 * test modes, records every request (sent to the controller with the
 * per-second frame in which it ended) and honours the request limit and
 * load updates like the HTTP runner, ending with one `done`.
 */
export class LlmAgentRunner {
  private state: State = 'loading';
  private readonly work: LlmWork;
  private load: LlmLoad;
  private requestLimit: number | null;
  private totalSent = 0;
  private inFlight = 0;
  private seq = 0;
  private readonly recorder: StatsRecorder;
  private client: LlmClient | null = null;
  private readonly prompts: PromptSource;
  /** Bumped at each (re)start of the drivers: old workers and timers see they are stale. */
  private generation = 0;
  private workers = 0;
  private rateTimer: NodeJS.Timeout | null = null;
  /** rate mode: due requests waiting for an in-flight slot (maxInFlight). */
  private waiting = 0;
  private idleWaiters: (() => void)[] = [];
  /** `start` came (or was never to be waited for): send as soon as the client is open. */
  private startRequested = false;

  constructor(
    private readonly assignment: AgentAssignment & { llm: LlmWork },
    private readonly output: (message: AgentToController) => void,
    private readonly log: (level: 'info' | 'warn' | 'error', message: string) => void,
  ) {
    this.work = assignment.llm;
    this.load = assignment.load as LlmLoad;
    this.requestLimit = assignment.requestLimit;
    this.prompts = new PromptSource(this.work, assignment.agentIndex, assignment.agentCount);
    this.recorder = new StatsRecorder({ inFlight: () => this.inFlight, totalSent: () => this.totalSent }, (frame) => this.output({ type: 'stats', frame }));
    this.recorder.enableLlmRecords();
  }

  get status(): State {
    return this.state;
  }

  /**
   * Loads the tokenizer and opens the client, then sends at once, or (when the
   * round waits for its other agents) at `begin`.
   */
  async prepare(sendAtOnce: boolean): Promise<void> {
    this.startRequested ||= sendAtOnce;
    try {
      await loadTokenizer();
    } catch (err) {
      this.log('error', `cannot load the tokenizer: ${(err as Error).message}`);
    }
    if (this.state !== 'loading') return;
    this.client = new LlmClient({
      url: this.assignment.request.url,
      headers: this.assignment.request.headers,
      timeoutMs: this.assignment.request.timeoutMs,
      connections: this.connectionsFor(this.load),
    });
    this.output({ type: 'ready' });
    if (this.startRequested) this.run();
  }

  /** The controller's `start`; before `prepare` has finished, it runs as soon as that is done. */
  begin(): void {
    if (this.state !== 'loading') return;
    this.startRequested = true;
    // the client is opened by prepare: without it, prepare runs the load when it is done
    if (this.client) this.run();
  }

  applyLoad(load: LlmLoad, requestLimit?: number | null): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    const changed = JSON.stringify(load) !== JSON.stringify(this.load);
    this.load = load;
    if (requestLimit !== undefined) this.requestLimit = requestLimit;
    if (this.state === 'loading') return;
    if (this.state === 'limited' && this.canSend()) {
      this.run();
      return;
    }
    if (changed && this.state === 'running') this.run();
  }

  async stop(reason: string): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.log('info', `stopping: ${reason}`);
    this.state = 'stopping';
    this.halt();
    const left = await this.waitIdle(Math.min(this.assignment.request.timeoutMs, STOP_GRACE_MS));
    if (left > 0) this.log('info', `cancelled ${left} stream(s) still in flight at stop`);
    this.client?.cancelAll();
    this.recorder.flush();
    this.output({ type: 'done', reason: 'stopped', totalSent: this.totalSent });
    this.state = 'stopped';
    await this.client?.close();
  }

  async shutdown(): Promise<void> {
    this.state = 'stopped';
    this.halt();
    this.recorder.stop();
    await this.client?.close();
  }

  // --- drivers -----------------------------------------------------------------------------------

  private connectionsFor(load: LlmLoad): number {
    if (load.testMode === 'rate') return load.maxInFlight ?? 256;
    return load.concurrency;
  }

  private canSend(): boolean {
    return this.requestLimit === null || this.totalSent < this.requestLimit;
  }

  /** (Re)starts sending with the current load; a restart keeps what is in flight. */
  private run(): void {
    this.halt();
    this.state = 'running';
    this.recorder.start();
    const generation = this.generation;
    if (!this.canSend()) {
      this.reachLimit();
      return;
    }
    if (this.load.testMode === 'rate') this.startRate(generation);
    else for (let i = 0; i < Math.max(1, this.load.concurrency); i++) void this.worker(generation);
  }

  private halt(): void {
    this.generation++;
    if (this.rateTimer) clearTimeout(this.rateTimer);
    this.rateTimer = null;
    this.waiting = 0;
  }

  /** concurrency and throughput: a stream sends its next request when the previous one ends. */
  private async worker(generation: number): Promise<void> {
    this.workers++;
    try {
      while (generation === this.generation && this.state === 'running' && this.canSend()) await this.sendOne();
    } finally {
      this.workers--;
    }
    if (generation === this.generation && this.state === 'running' && !this.canSend()) this.reachLimit();
  }

  /** rate: Gamma arrivals from the seeded generator; the first request goes at once. */
  private startRate(generation: number): void {
    const load = this.load;
    const arrivals = new GammaArrivals(load.ratePerS, load.burstiness, load.seed);
    const startMs = performance.now();
    let dueS = 0;
    const tick = (): void => {
      this.rateTimer = null;
      if (generation !== this.generation || this.state !== 'running') return;
      const nowMs = performance.now();
      while (startMs + dueS * 1000 <= nowMs) {
        if (!this.canSend()) {
          if (this.waiting === 0) this.reachLimit();
          return;
        }
        dueS += arrivals.nextIntervalS();
        if (load.maxInFlight !== null && this.inFlight + this.waiting >= load.maxInFlight) {
          // maxConcurrency: the request waits for a slot (as vLLM's benchmark does); its latency counts from its actual send.
          this.waiting++;
        } else {
          void this.sendOne().then(() => this.releaseSlot(generation));
        }
      }
      this.rateTimer = setTimeout(tick, Math.max(1, Math.floor(startMs + dueS * 1000 - performance.now())));
    };
    tick();
  }

  private releaseSlot(generation: number): void {
    if (generation !== this.generation || this.state !== 'running') return;
    if (this.waiting > 0) {
      if (!this.canSend()) {
        this.waiting = 0;
      } else {
        this.waiting--;
        void this.sendOne().then(() => this.releaseSlot(generation));
        return;
      }
    }
    if (!this.canSend() && this.inFlight === 0) this.reachLimit();
  }

  private async sendOne(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.totalSent++;
    this.inFlight++;
    const prepared = this.prompts.next();
    this.recorder.sent(performance.now(), prepared.body.length);
    try {
      const outcome = await client.send(prepared);
      if (outcome && this.state !== 'stopped') {
        const nowMs = performance.now();
        this.recorder.response(nowMs, outcome.record.status, Math.max(0, (outcome.record.endMs - outcome.record.sendMs) * 1000), outcome.bytesIn);
        this.recorder.llmRecord(nowMs, { agent: this.assignment.agentIndex, seq: this.seq++, ...outcome.record });
      }
    } catch (err) {
      this.log('warn', `LLM request failed unexpectedly: ${(err as Error).message}`);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** The limit is reached: wait for the streams in flight, then report `done`. */
  private reachLimit(): void {
    if (this.state !== 'running') return;
    this.state = 'limited';
    const generation = ++this.generation;
    void this.waitIdle(this.assignment.request.timeoutMs + 1000).then(() => {
      if (generation !== this.generation || this.state !== 'limited') return;
      this.recorder.flush();
      this.output({ type: 'done', reason: 'limit', totalSent: this.totalSent });
    });
  }

  private waitIdle(graceMs: number): Promise<number> {
    if (this.inFlight === 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      const onIdle = (): void => {
        clearTimeout(timer);
        resolve(0);
      };
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== onIdle);
        resolve(this.inFlight);
      }, graceMs);
      this.idleWaiters.push(onIdle);
    });
  }
}
