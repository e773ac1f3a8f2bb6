import { DEFAULTS, type ErrorClass } from '../../src/contract';

/**
 * What one LLM response may make the agent hold, and the agent's whole share.
 * The service under test writes these bytes: without a bound, endless `data:`
 * lines grew an agent to 2.5 GB in 14 s (the Kubernetes agent limit is 1Gi).
 * A request over a bound ends at once as a failure of class `response too
 * large`; the connection is dropped (docs/llm.md, "Response limits").
 */

/** Bytes of one response body, SSE or not, unless the task's `llm.maxResponseBytes` says otherwise. */
export const DEFAULT_MAX_RESPONSE_BYTES = DEFAULTS.llmMaxResponseBytes;
/** One SSE line, or the data of one event not ended yet: no server sends a single event this large. */
export const MAX_EVENT_BYTES = 4 * 1024 * 1024;
/**
 * What every response in flight holds together (their unfinished lines and
 * events, and the generated text kept for counting and for sessions), so the
 * agent stays well under 1 GiB however many streams it runs.
 */
export const AGENT_HELD_RESPONSE_BYTES = 256 * 1024 * 1024;
/** What a kept chunk costs beside its text (its time, its string and array slots). */
export const CHUNK_OVERHEAD_BYTES = 48;
/**
 * What a kept piece costs beside its bytes: a data line is a string and a
 * slice of its line (an endless run of short `data:` lines held twice their
 * bytes before this was counted), a pending piece a Buffer.
 */
export const PIECE_OVERHEAD_BYTES = 96;

/** Why a response was cut: the cause class the request is counted under. */
export const RESPONSE_TOO_LARGE: ErrorClass = 'response too large';

/** A response went over one of the bounds above; `errorClass` is what the request failed of. */
export class ResponseTooLargeError extends Error {
  readonly errorClass = RESPONSE_TOO_LARGE;

  constructor(what: string, limit: number) {
    super(`${RESPONSE_TOO_LARGE}: ${what} over ${limit} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

/** The agent-wide bound: each response says how much it holds now; the one that passes the bound fails. */
export class HeldResponses {
  private total = 0;

  constructor(readonly limit = AGENT_HELD_RESPONSE_BYTES) {}

  get bytes(): number {
    return this.total;
  }

  /** A response's holding changed from `before` to `after` bytes; throws (after giving it back) when the agent would hold too much. */
  change(before: number, after: number): void {
    this.total += after - before;
    if (after > before && this.total > this.limit) {
      this.total -= after;
      throw new ResponseTooLargeError("the agent's responses in flight holding", this.limit);
    }
  }

  /** The response ended: what it held is free. */
  release(held: number): void {
    this.total -= held;
  }
}
