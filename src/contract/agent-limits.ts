/**
 * What an agent may send at the most, whatever it is: the bounds every
 * parser of an agent's messages (protocol.ts, llm-protocol.ts, pool.ts)
 * holds its fields to.
 */

/** Bounds of what an agent may send; each is far above what a real agent sends. */
export const AGENT_LIMITS = {
  idChars: 256,
  tokenChars: 1024,
  logChars: 64 * 1024,
  llmErrorChars: 64 * 1024,
  /** A full 1 µs..60 s histogram, 3 digits, compressed, is under 200 KB of base64. */
  histogramChars: 256 * 1024,
  statusCodes: 1000,
  /**
   * One frame after hello. A stats frame of an LLM task carries every request
   * that ended in its second with its inter-token gaps (about 20 bytes a
   * token); an agent whose second holds more records than fit splits them
   * over several frames of that second.
   */
  frameBytes: 32 * 1024 * 1024,
  /**
   * Most responses, sends, drops or LLM records one frame may count: about 25
   * times what one agent sends in a second at best (some 40 000), so that no
   * sum of frames can leave the safe integers or swamp a round's figures.
   */
  frameCount: 1_000_000,
  /** Most token gaps one frame may count (the ITLGap histogram): 50 times 200 streams at 1000 tokens/s. */
  frameGaps: 10_000_000,
  /** Most bytes in or out one frame may count (1 TiB). */
  frameTrafficBytes: 2 ** 40,
  /**
   * Most record values (recordValueCount) one agent's LLM records of one
   * second may hold: far over an honest second (200 streams at 500 tokens/s
   * are 100 000 gaps); the agent trims inter-token gaps past it (itlLeftOut),
   * and the controller holds a few seconds of it per agent at the most.
   */
  secondRecordValues: 250_000,
} as const;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Compressed HDR histogram, base64; empty means no samples. */
export function isHistogram(value: unknown): value is string {
  return typeof value === 'string' && value.length <= AGENT_LIMITS.histogramChars && value.length % 4 === 0 && BASE64.test(value);
}
