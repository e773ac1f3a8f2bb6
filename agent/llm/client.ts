import { Pool } from 'undici';
import { roundTo, type LlmRecordTags, type LlmRequestRecord } from '../../src/contract';
import { CAUSE, causeOfError } from '../error-cause';
import { Preconnector } from '../preconnect';
import { warmLlmFrames } from '../warm-up';
import { connectTimeoutFor, ResultSink, STATUS_CONNECTION_FAILED, STATUS_TIMEOUT } from '../sender-core';
import type { AgentLog } from '../lifecycle';
import type { DoneCallback, Sender } from '../load-driver';
import { MAX_RECORD_ITL, measure } from './figures';
import { startLoopbackStream } from './loopback';
import type { PreparedLlmRequest, RequestSource } from './prompts';
import { DEFAULT_MAX_RESPONSE_BYTES, HeldResponses, MAX_EVENT_BYTES, ResponseTooLargeError } from './response-limits';
import { SseParser } from './sse';
import { applyEvent, emptyTimeline, isIncomplete, MAX_ERROR_TEXT, STATUS_STREAM_ERROR } from './timeline';
import { loadTokenizer } from './tokens';
import { toolOutcome } from './tool-calls';

/** Bytes of an error body kept to make that text from. */
const MAX_ERROR_HEAD_BYTES = 4 * MAX_ERROR_TEXT;

export interface LlmClientOptions {
  url: string;
  headers: [string, string][];
  timeoutMs: number;
  agentIndex: number;
  /** The model's tokenizer.json text (llm.tokenizer); the bundled encoding when absent. */
  tokenizer?: { json: string };
  /** Times a failed request is sent again (llm.retries). */
  retries: number;
  /** Bytes one response body may have (llm.maxResponseBytes); DEFAULT_MAX_RESPONSE_BYTES when absent. */
  maxResponseBytes?: number;
  /** llm.warmupRequests: sent one after another by `prepare`, then forgotten; `request` makes each. */
  warmup?: { count: number; request: () => PreparedLlmRequest };
  /** A request like the ones this agent sends: `prepare` sends it to an in-agent server first (startLoopbackStream). */
  sample?: () => PreparedLlmRequest;
}

/** Where the client reports what happened: the stats recorder, with the per-request LLM records. */
export interface LlmResultSink extends ResultSink {
  /** Frames will carry the records (possibly none), so the controller knows the seconds have LLM figures. */
  enableLlmRecords(): void;
  /** A request was sent: it is in flight until llmRecord. */
  llmSent(nowMs: number): void;
  /** A request ended: its record, or null when it ended unrecorded (cancelled at a stop, or failed in the client itself). */
  llmRecord(nowMs: number, record: LlmRequestRecord | null): void;
}

/** Result of one request, with its times on the performance.now() clock. */
interface LlmOutcome {
  record: Omit<LlmRequestRecord, 'agent' | 'seq'>;
  bytesIn: number;
  /** Why it failed (a CAUSE, SPEC 7); CAUSE.none when it succeeded or the service answered with its own error status. */
  cause: number;
  /** The generated text (a session's next turn carries it as the assistant's message). */
  answer: string;
  /** The service's `usage` held a value that is no token count (`usage.prompt_tokens 1.5`): the tokenizer counted instead. */
  badUsage?: string;
}

/**
 * Streams OpenAI-compatible completions over an undici pool. Every chunk is
 * stamped as it is read; the body is parsed incrementally and only the
 * generated text is kept (for token counting when the server sends no usage).
 * Every request is recorded, with its LLM figures, in the second it ended.
 */
export class LlmClient implements Sender {
  onIdle: () => void = () => undefined;
  /** Opened by `prepare`, sized by the load as it is by then. */
  private pool: Pool | null = null;
  private connections = 1;
  /** Connections `prepare` opens before the first send (rate mode: a due request must not wait for a handshake). */
  private preopen = 0;
  private readonly preconnector: Preconnector;
  private readonly origin: string;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly controllers = new Set<AbortController>();
  private inFlightCount = 0;
  private seq = 0;
  private closed = false;
  private readonly maxResponseBytes: number;
  private readonly held = new HeldResponses();
  /** Said once a round: the service's bad usage values, and responses cut at a bound. */
  private saidBadUsage = false;
  private saidTooLarge = false;
  private saidItlLeftOut = false;
  /** The next send's client queue time (rate mode: the driver notes it just before each send; absent in the closed-loop modes). */
  private nextQueueMs: number | undefined;

  constructor(
    private readonly options: LlmClientOptions,
    private readonly prompts: RequestSource,
    private readonly sink: LlmResultSink,
    private readonly log: AgentLog,
  ) {
    const url = new URL(options.url);
    this.origin = url.origin;
    this.preconnector = new Preconnector(new URL(this.origin), connectTimeoutFor(options.timeoutMs));
    this.path = `${url.pathname}${url.search}`;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
    for (const [name, value] of options.headers) {
      const lower = name.toLowerCase();
      if (lower === 'content-length' || lower === 'transfer-encoding') continue;
      headers[lower] = value;
    }
    this.headers = headers;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Connections of the pool, and how many of them to open ahead; only what is set when `prepare` opens it counts. */
  setConnections(count: number, preopen = 0): void {
    this.connections = Math.max(1, count);
    this.preopen = Math.max(0, Math.min(this.connections, preopen));
  }

  /** Loads the tokenizer (a failure is logged: counts then come from `usage` only) and opens the pool. */
  async prepare(): Promise<void> {
    try {
      await loadTokenizer(this.options.tokenizer);
    } catch (err) {
      this.log('error', `cannot load the tokenizer: ${(err as Error).message}`);
    }
    if (this.closed) return;
    await this.warmClientPath();
    warmLlmFrames();
    if (this.preopen > 0) await this.preconnector.fill(this.preopen);
    this.pool = new Pool(this.origin, { connections: this.connections, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 30_000, connect: this.preconnector.connect });
    await this.warmUp();
  }

  /**
   * llm.warmupRequests: before the agent is ready, so before any measured
   * request, and through the stream path without the sink: no record, no
   * count, no second sees them (the connection, the tokenizer and the
   * service's first-request costs are paid here).
   */
  private async warmUp(): Promise<void> {
    const warmup = this.options.warmup;
    if (!warmup || warmup.count <= 0) return;
    let failed = 0;
    let sent = 0;
    for (; sent < warmup.count && !this.closed; sent++) {
      const outcome = await this.stream(warmup.request());
      if (!outcome?.record.success) failed++;
    }
    this.log(failed > 0 ? 'warn' : 'info', `warm-up: ${sent} requests sent first and left out of every figure${failed > 0 ? ` (${failed} failed)` : ''}`);
  }

  /** Requests `warmClientPath` sends to the in-agent server. */
  private static readonly LOOPBACK_REQUESTS = 3;

  /** Warms the client's own path on an in-agent server: no record, no count, and the service never sees it. */
  private async warmClientPath(): Promise<void> {
    const sample = this.options.sample;
    if (!sample) return;
    const loopback = await startLoopbackStream();
    const pool = new Pool(loopback.origin, { connections: 1 });
    try {
      for (let i = 0; i < LlmClient.LOOPBACK_REQUESTS && !this.closed; i++) await this.stream(sample(), pool);
    } finally {
      await pool.destroy().catch(() => undefined);
      await loopback.close();
    }
  }

  /** Rate mode: how long the request about to be sent waited for a slot, ms (QueueNote). */
  noteQueued(queueMs: number | undefined): void {
    this.nextQueueMs = queueMs;
  }

  /**
   * Streams the next prompt. Latency counts from the actual send (`originMs`
   * is not used): see `stream`; a wait before it is the record's `queueMs`.
   */
  send(_originMs: number, nowMs: number, done: DoneCallback | null): void {
    this.inFlightCount++;
    const queueMs = this.nextQueueMs;
    this.nextQueueMs = undefined;
    const prepared = this.prompts.next();
    this.sink.sent(nowMs, prepared.body.length);
    this.sink.llmSent(nowMs);
    void this.streamWithRetries(prepared)
      .then(
        (outcome) => {
          if (!outcome || this.closed) {
            this.sink.llmRecord(performance.now(), null);
            return 0;
          }
          const endMs = performance.now();
          const { record } = outcome;
          this.sayOnce(outcome);
          this.sink.response(endMs, record.status, Math.max(0, (record.endMs - record.sendMs) * 1000), outcome.bytesIn, outcome.cause, -1);
          this.sink.llmRecord(endMs, { agent: this.options.agentIndex, seq: this.seq++, ...record, ...(queueMs !== undefined ? { queueMs: roundTo(queueMs, 3) } : {}) });
          prepared.onAnswer?.(record.success ? outcome.answer : null);
          return record.status;
        },
        (err: Error) => {
          this.sink.llmRecord(performance.now(), null);
          this.log('warn', `LLM request failed unexpectedly: ${err.message}`);
          return STATUS_CONNECTION_FAILED;
        },
      )
      .then((status) => {
        this.inFlightCount--;
        if (this.inFlightCount === 0) this.onIdle();
        done?.(status);
      });
  }

  /** What the service did that the records alone do not tell, said once a round each (an event at the controller). */
  private sayOnce(outcome: LlmOutcome): void {
    if (outcome.badUsage !== undefined && !this.saidBadUsage) {
      this.saidBadUsage = true;
      this.log('warn', `the service sent ${outcome.badUsage}, not a token count: such a request's tokens are counted by the tokenizer`);
    }
    if (outcome.record.itlLeftOut !== undefined && !this.saidItlLeftOut) {
      this.saidItlLeftOut = true;
      const gaps = outcome.record.itlMs.length + outcome.record.itlLeftOut;
      this.log('warn', `an answer had ${gaps} token gaps: a record keeps ${MAX_RECORD_ITL}, its ITL is theirs (itlLeftOut counts the rest)`);
    }
    if (outcome.cause === CAUSE.tooLarge && !this.saidTooLarge) {
      this.saidTooLarge = true;
      this.log('warn', `a response was cut: ${outcome.record.error ?? 'response too large'}; such requests fail (docs/llm.md, "Response limits")`);
    }
  }

  /** Aborts every request in flight; they end unrecorded. */
  cancelAll(): void {
    for (const c of this.controllers) c.abort();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelAll();
    this.preconnector.close();
    await this.pool?.destroy().catch(() => undefined);
  }

  /**
   * llm.retries: a failed request is sent again, up to `retries` times; the
   * record is the last attempt's (its latency counts from that send) and
   * says how many attempts it took.
   */
  private async streamWithRetries(prepared: PreparedLlmRequest): Promise<LlmOutcome | null> {
    let attempts = 0;
    for (;;) {
      attempts++;
      const outcome = await this.stream(prepared);
      if (!outcome || outcome.record.success || attempts > this.options.retries || this.closed) {
        if (outcome && attempts > 1) outcome.record.tags = { ...outcome.record.tags, attempts };
        return outcome;
      }
    }
  }

  /** One request; resolves when it has ended, failed or timed out, or null when cancelled. */
  private async stream(prepared: PreparedLlmRequest, pool: Pool | null = this.pool): Promise<LlmOutcome | null> {
    if (!pool) return null;
    const controller = new AbortController();
    this.controllers.add(controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    const sendPerf = performance.now();
    const sendMs = performance.timeOrigin + sendPerf;
    const timeline = emptyTimeline();
    let status = 0;
    let bytesIn = 0;
    let errorText: string | null = null;
    /**
     * Why the request failed (SPEC 7). A non-200 answer or an SSE error event
     * is the service's own error, `http status` (CAUSE.none); a failure on
     * the wire is classed from its code; an answer over a bound is `response too large`.
     */
    let cause: number = CAUSE.none;
    /** What this response holds of the agent's bound (HeldResponses). */
    let held = 0;
    const maxBytes = this.maxResponseBytes;
    try {
      const res = await pool.request({ path: this.path, method: 'POST', headers: this.headers, body: prepared.body, signal: controller.signal });
      status = res.statusCode;
      const body = res.body as AsyncIterable<Buffer>;
      if (status !== 200) {
        // only the head of an error body is kept (for the record's error text); the rest is counted
        const head: Buffer[] = [];
        let headBytes = 0;
        for await (const chunk of body) {
          bytesIn += chunk.length;
          if (bytesIn > maxBytes) throw new ResponseTooLargeError('a response body', maxBytes);
          if (headBytes < MAX_ERROR_HEAD_BYTES) {
            const part = Buffer.from(chunk.subarray(0, MAX_ERROR_HEAD_BYTES - headBytes));
            head.push(part);
            headBytes += part.length;
          }
        }
        errorText = Buffer.concat(head).toString('utf8').slice(0, MAX_ERROR_TEXT) || `HTTP ${status}`;
      } else {
        const parser = new SseParser(Math.min(MAX_EVENT_BYTES, maxBytes));
        for await (const chunk of body) {
          const nowPerf = performance.now();
          bytesIn += chunk.length;
          if (bytesIn > maxBytes) throw new ResponseTooLargeError('a response body', maxBytes);
          for (const event of parser.feed(chunk)) applyEvent(timeline, event, nowPerf);
          const now = parser.heldBytes + timeline.keptBytes;
          const before = held;
          held = 0; // given back by `change` when it throws
          this.held.change(before, now);
          held = now;
        }
        for (const event of parser.end()) applyEvent(timeline, event, performance.now());
      }
    } catch (err) {
      if (err instanceof ResponseTooLargeError) {
        controller.abort(); // the connection is dropped: the rest is never read
        cause = CAUSE.tooLarge;
        errorText = err.message;
        // the service's own failure status stays; a 200 cut short is no success
        if (status === 200) status = STATUS_CONNECTION_FAILED;
      } else {
        if (controller.signal.aborted && !timedOut) return null; // cancelled at stop: not recorded
        // a stream that breaks after its 200 head is an incomplete stream, whatever broke it
        cause = timedOut ? CAUSE.timeout : status === 200 ? CAUSE.incompleteStream : causeOfError(err as Error, status > 0);
        status = timedOut ? STATUS_TIMEOUT : STATUS_CONNECTION_FAILED;
        errorText = timedOut ? `timed out after ${this.options.timeoutMs} ms` : (err as Error).message;
      }
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
      this.held.release(held);
    }
    const endPerf = performance.now();
    if (status === 200 && errorText === null && isIncomplete(timeline)) {
      cause = CAUSE.incompleteStream;
      status = STATUS_CONNECTION_FAILED;
      errorText = `incomplete stream: it ended after ${timeline.chunkTexts.length} content chunks without finish_reason or [DONE]`;
    }
    if (timeline.error !== null && cause !== CAUSE.tooLarge) {
      cause = CAUSE.none;
      status = timeline.errorStatus ?? STATUS_STREAM_ERROR;
      // the service writes this text: bounded like any other error text
      errorText = timeline.error.slice(0, MAX_ERROR_TEXT);
    }
    const success = status === 200 && errorText === null;
    const m = measure(timeline, sendPerf, endPerf, prepared.promptTokens);
    const tags: LlmRecordTags = { ...prepared.tags };
    if (prepared.offersTools && success) tags.tool = toolOutcome(timeline.toolCalls);
    const record: Omit<LlmRequestRecord, 'agent' | 'seq'> = {
      sendMs: roundTo(sendMs, 3),
      endMs: roundTo(performance.timeOrigin + endPerf, 3),
      ttftMs: success ? m.ttftMs : null,
      e2elMs: success ? m.e2elMs : null,
      itlMs: success ? m.itlMs : [],
      inputTokens: m.inputTokens,
      outputTokens: success ? m.outputTokens : 0,
      tokenSource: m.tokenSource,
      ...(success && m.itlLeftOut !== undefined ? { itlLeftOut: m.itlLeftOut } : {}),
      success,
      status,
      ...(errorText !== null ? { error: errorText } : {}),
      ...(Object.keys(tags).length > 0 ? { tags } : {}),
    };
    return {
      record,
      bytesIn,
      cause,
      answer: timeline.chunkTexts.join(''),
      ...(timeline.badUsage !== null ? { badUsage: timeline.badUsage } : {}),
    };
  }
}
