import { LLM_METRICS, type LlmMetricKey, type LlmRequestRecord, type LlmSloSpec } from '../../../src/contract';
import { meetsSlo } from '../../../src/measure/llm-request';
import { requestGaps, requestValues } from '../../../src/measure/llm-second';

/**
 * Requests as columns: what the exact (records) path needs of each one, in
 * typed arrays — send and end, the one-value table metrics (NaN where a
 * request has none), whether it succeeded, counted tokens from usage and met
 * the SLO, and its token gaps (`ITLGap`, 4 bytes each). About 87 bytes a
 * request and 4 a gap, so `bench recompute` of a million 128-token answers
 * needs some 600 MB, not the records themselves.
 */
export class LlmRecordColumns {
  n = 0;
  send = new Float64Array(0);
  end = new Float64Array(0);
  readonly values = new Map<LlmMetricKey, Float64Array>();
  ok = new Uint8Array(0);
  usage = new Uint8Array(0);
  good = new Uint8Array(0);
  /** Every token gap of the successful requests (`ITLGap`), request after request: 4 bytes a gap. */
  gaps = new Float32Array(0);
  gapCount = 0;
  /** Where request i's gaps start in `gaps`, and how many it has. */
  gapStart = new Float64Array(0);
  gapLength = new Uint32Array(0);

  constructor(private readonly slo: LlmSloSpec | undefined) {
    for (const key of LLM_METRICS) this.values.set(key, new Float64Array(0));
  }

  static of(records: readonly LlmRequestRecord[], slo: LlmSloSpec | undefined): LlmRecordColumns {
    const columns = new LlmRecordColumns(slo);
    for (const r of records) columns.add(r);
    return columns;
  }

  add(r: LlmRequestRecord): void {
    if (this.n === this.send.length) this.grow(Math.max(1024, this.n * 2));
    const i = this.n++;
    this.send[i] = r.sendMs;
    this.end[i] = r.endMs;
    const values = requestValues(r);
    for (const key of LLM_METRICS) (this.values.get(key) as Float64Array)[i] = values[key] ?? Number.NaN;
    this.ok[i] = r.success ? 1 : 0;
    this.usage[i] = r.success && r.tokenSource === 'usage' ? 1 : 0;
    this.good[i] = meetsSlo(r, this.slo) ? 1 : 0;
    const gaps = requestGaps(r);
    if (this.gapCount + gaps.length > this.gaps.length) {
      const wider = new Float32Array(Math.max(4096, (this.gapCount + gaps.length) * 2));
      wider.set(this.gaps.subarray(0, this.gapCount));
      this.gaps = wider;
    }
    this.gapStart[i] = this.gapCount;
    this.gapLength[i] = gaps.length;
    this.gaps.set(gaps, this.gapCount);
    this.gapCount += gaps.length;
  }

  /** The values of one metric over some requests (all when `which` is absent), sorted, without the missing ones. */
  sortedValues(key: LlmMetricKey, which?: Uint32Array): Float64Array {
    if (key === 'ITLGap') return this.sortedGaps(which);
    const column = this.values.get(key) as Float64Array;
    const count = which ? which.length : this.n;
    const out = new Float64Array(count);
    let k = 0;
    for (let j = 0; j < count; j++) {
      const v = column[which ? which[j] : j];
      if (!Number.isNaN(v)) out[k++] = v;
    }
    return out.subarray(0, k).sort();
  }

  /** Every gap of some requests (all when `which` is absent), sorted. */
  private sortedGaps(which?: Uint32Array): Float64Array {
    if (!which) return Float64Array.from(this.gaps.subarray(0, this.gapCount)).sort();
    let total = 0;
    for (const i of which) total += this.gapLength[i];
    const out = new Float64Array(total);
    let k = 0;
    for (const i of which) {
      out.set(this.gaps.subarray(this.gapStart[i], this.gapStart[i] + this.gapLength[i]), k);
      k += this.gapLength[i];
    }
    return out.sort();
  }

  private grow(capacity: number): void {
    const widen = <T extends Float64Array | Uint8Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a.subarray(0, this.n));
      return b;
    };
    this.send = widen(this.send, (c) => new Float64Array(c));
    this.end = widen(this.end, (c) => new Float64Array(c));
    for (const key of LLM_METRICS) this.values.set(key, widen(this.values.get(key) as Float64Array, (c) => new Float64Array(c)));
    this.ok = widen(this.ok, (c) => new Uint8Array(c));
    this.usage = widen(this.usage, (c) => new Uint8Array(c));
    this.good = widen(this.good, (c) => new Uint8Array(c));
    this.gapStart = widen(this.gapStart, (c) => new Float64Array(c));
    this.gapLength = widen(this.gapLength, (c) => new Uint32Array(c));
  }
}
