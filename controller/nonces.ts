/** What `remember` found: a new nonce (now kept), a repeat, or no room left. */
export type NonceOutcome = 'new' | 'seen' | 'full';

/** How often expired nonces are swept out when the memory is not full. */
const SWEEP_EVERY_MS = 60_000;
/** When full, sweeping at most this often keeps a flood from costing a full scan per request. */
const FULL_SWEEP_EVERY_MS = 1_000;

/**
 * The nonces of accepted signed requests, each kept until its request's date
 * is too old to be accepted anyway: a replay within that window is refused,
 * and one after it fails on the date. Bounded in time by the accepted clock
 * skew (date age + how far ahead) and in size by `maxEntries`.
 *
 * When full it refuses new nonces rather than evicting old ones: an evicted
 * nonce could be replayed while its date is still good. Only requests whose
 * signature verified are remembered, so filling it takes a valid key, and it
 * drains by itself as dates age out.
 */
export class NonceMemory {
  /** nonce -> epoch ms after which its request's date is refused anyway. */
  private readonly expiries = new Map<string, number>();
  private lastSweepMs = Number.NEGATIVE_INFINITY;

  constructor(readonly maxEntries: number) {}

  get size(): number {
    return this.expiries.size;
  }

  /** True when `nonce` was accepted before and its date is still good. */
  seen(nonce: string, nowMs: number): boolean {
    const expiresMs = this.expiries.get(nonce);
    return expiresMs !== undefined && expiresMs >= nowMs;
  }

  remember(nonce: string, expiresMs: number, nowMs: number): NonceOutcome {
    if (this.seen(nonce, nowMs)) return 'seen';
    const full = this.expiries.size >= this.maxEntries;
    if (nowMs - this.lastSweepMs >= (full ? FULL_SWEEP_EVERY_MS : SWEEP_EVERY_MS)) this.sweep(nowMs);
    if (this.expiries.size >= this.maxEntries) return 'full';
    this.expiries.set(nonce, expiresMs);
    return 'new';
  }

  private sweep(nowMs: number): void {
    for (const [nonce, expiresMs] of this.expiries) {
      if (expiresMs < nowMs) this.expiries.delete(nonce);
    }
    this.lastSweepMs = nowMs;
  }
}
