import { inflateSync } from 'node:zlib';
import { build, encodeIntoCompressedBase64, JsHistogram } from 'hdr-histogram-js';
import type { BitBucketSize, Histogram } from 'hdr-histogram-js';
import { roundTo } from '../contract';
import type { PercentilePoint, RtDistributionBucket, RtQuantiles } from '../contract';

/**
 * HDR histograms of latencies in MICROSECONDS, shared by the agents (which
 * record and ship them compressed) and the controller (which merges them).
 * Merging adds bucket counts, so a merged percentile is exactly the
 * percentile of the union of the samples, never an average of percentiles.
 */
export type LatencyHistogram = Histogram;

export const LOWEST_US = 1;
/** 60 s: longer samples are clamped to this value (http.timeout may be up to 600 s). */
export const HIGHEST_US = 60_000_000;
export const SIGNIFICANT_DIGITS = 3;

/**
 * Per-second histograms use 32-bit counts (a bucket cannot reach 2^31 in one
 * second); whole-round merges use 64-bit (float, exact to 2^53) counts so
 * that no run length can overflow a bucket.
 */
export type CountWidth = 32 | 64;

/** `highest`: the largest value kept (others are clamped to it); every histogram that is merged with another must share it. */
export function createLatencyHistogram(countWidth: CountWidth = 32, highest = HIGHEST_US): LatencyHistogram {
  return build({
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: highest,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    bitBucketSize: countWidth as BitBucketSize,
    // A fixed range keeps every histogram on the same bucket layout, so merges take the fast path.
    autoResize: false,
    useWebAssembly: false,
  });
}

/** Records one sample, clamped to [0, HIGHEST_US] so an out-of-range value never throws on the load path. */
export function recordUs(histogram: LatencyHistogram, valueUs: number, highest = HIGHEST_US): void {
  const clamped = valueUs <= 0 ? 0 : valueUs >= highest ? highest : Math.round(valueUs);
  histogram.recordValue(clamped);
}

/** Compressed base64 (the HdrHistogram V2 format, readable by other HDR implementations). */
export function encodeHistogram(histogram: LatencyHistogram): string {
  return encodeIntoCompressedBase64(histogram);
}

/** An encoded histogram that is not one of ours: what it claims, or what decoding it would cost, is refused. */
export class HistogramRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HistogramRefused';
  }
}

/**
 * How many bytes of histograms one frame may inflate. Nine histograms of a
 * frame, each with every bucket of its range filled, would take about 1 MB;
 * a real second's take a few KB. Decoding costs time in proportion to these
 * bytes, so this bounds the CPU one frame can cost (a few ms).
 */
export const FRAME_INFLATE_BUDGET_BYTES = 1024 * 1024;

/** What the histograms of one frame may still inflate to; shared by all of them, spent as each is decoded. */
export class DecodeBudget {
  constructor(public bytesLeft = FRAME_INFLATE_BUDGET_BYTES) {}
}

// The HdrHistogram V2 format (as hdr-histogram-js writes it): a compressed
// envelope (cookie, compressed length, zlib data) around a 40-byte header
// (cookie, payload length, normalizing offset, significant digits, lowest,
// highest, conversion ratio) and ZigZag LEB128 words: a count, or a negative
// run of empty buckets.
const V2_COOKIE_BASE = 0x1c849303;
const V2_COMPRESSED_COOKIE_BASE = 0x1c849304;
const ENVELOPE_BYTES = 8;
const HEADER_BYTES = 40;
const MAX_WORD_BYTES = 9;
/** A bucket of a per-second (32-bit) histogram holds less than 2^31; a 64-bit one a safe integer. */
const MAX_BUCKET_COUNT: Readonly<Record<CountWidth, number>> = { 32: 2 ** 31 - 1, 64: Number.MAX_SAFE_INTEGER };

const bucketsOf = new Map<number, number>();
/** Buckets of the one layout every histogram of this `highest` has. */
function bucketCount(highest: number): number {
  let n = bucketsOf.get(highest);
  if (n === undefined) {
    n = (createLatencyHistogram(32, highest) as JsHistogram).countsArrayLength;
    bucketsOf.set(highest, n);
  }
  return n;
}

/** The largest a histogram of this layout can legitimately be once inflated: its header and one widest word a bucket. */
export function maxInflatedBytes(highest = HIGHEST_US): number {
  return HEADER_BYTES + bucketCount(highest) * MAX_WORD_BYTES;
}

/** Reads one ZigZag LEB128-64b9B word at `at`; undefined when it runs past `end`. */
function readWord(data: Buffer, at: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  let i = at;
  for (let n = 0; n < MAX_WORD_BYTES; n++) {
    if (i >= end) return undefined;
    const byte = data[i++];
    // the ninth byte carries 8 bits
    value += (n === MAX_WORD_BYTES - 1 ? byte : byte & 0x7f) * scale;
    if (n === MAX_WORD_BYTES - 1 || (byte & 0x80) === 0) break;
    scale *= 128;
  }
  return { value: value % 2 === 0 ? value / 2 : -(value + 1) / 2, next: i };
}

/**
 * Reads the inflated bytes into a new histogram of our layout (1 µs lowest,
 * 3 digits, `highest`): a header of another range, a length or a bucket index
 * that does not fit, or a count over the width is refused, so that nothing is
 * allocated from what the bytes claim and the walk goes no further than them.
 */
function readInflated(raw: Buffer, countWidth: CountWidth, highest: number): LatencyHistogram {
  if (raw.length < HEADER_BYTES) throw new HistogramRefused(`holds ${raw.length} bytes, less than a histogram's header`);
  if ((raw.readInt32BE(0) & ~0xf0) !== V2_COOKIE_BASE) throw new HistogramRefused('is not an HdrHistogram V2 histogram');
  const payload = raw.readInt32BE(4);
  if (payload !== raw.length - HEADER_BYTES) throw new HistogramRefused(`says its payload is ${payload} bytes but carries ${raw.length - HEADER_BYTES}`);
  const digits = raw.readInt32BE(12);
  const lowest = raw.readInt32BE(16) * 2 ** 32 + raw.readUInt32BE(20);
  const claimedHighest = raw.readInt32BE(24) * 2 ** 32 + raw.readUInt32BE(28);
  if (digits !== SIGNIFICANT_DIGITS || lowest !== LOWEST_US || claimedHighest < 2 || claimedHighest > highest) {
    throw new HistogramRefused(`has a range (${lowest}..${claimedHighest}, ${digits} digits) other than ${LOWEST_US}..${highest}, ${SIGNIFICANT_DIGITS} digits`);
  }
  const histogram = createLatencyHistogram(countWidth, highest) as JsHistogram;
  const buckets = histogram.countsArrayLength;
  const maxCount = MAX_BUCKET_COUNT[countWidth];
  let index = 0;
  let total = 0;
  for (let at = HEADER_BYTES; at < raw.length; ) {
    const word = readWord(raw, at, raw.length);
    if (!word) throw new HistogramRefused('ends inside a word');
    at = word.next;
    if (word.value < 0) {
      index -= word.value;
      if (index > buckets) throw new HistogramRefused(`skips past its last bucket (${buckets})`);
      continue;
    }
    if (index >= buckets) throw new HistogramRefused(`has a count beyond its last bucket (${buckets})`);
    if (word.value > maxCount) throw new HistogramRefused(`has a bucket count of ${word.value}, over ${maxCount}`);
    total += word.value;
    if (total > Number.MAX_SAFE_INTEGER) throw new HistogramRefused('counts more samples than a safe integer');
    if (word.value > 0) histogram.setCountAtIndex(index, word.value);
    index++;
  }
  histogram.establishInternalTackingValues(index);
  return histogram;
}

/**
 * The inverse of encodeHistogram; an empty string decodes to an empty
 * histogram. Whatever the text claims, decoding inflates at most what a
 * histogram of this layout can be (and what is left of `budget`), and
 * builds one histogram of our own layout: a payload that does not fit is
 * refused (HistogramRefused) before anything is allocated for it.
 */
export function decodeHistogram(encoded: string, countWidth: CountWidth = 32, highest = HIGHEST_US, budget?: DecodeBudget): LatencyHistogram {
  if (encoded === '') return createLatencyHistogram(countWidth, highest);
  const data = Buffer.from(encoded, 'base64');
  if (data.length < ENVELOPE_BYTES || (data.readInt32BE(0) & ~0xf0) !== V2_COMPRESSED_COOKIE_BASE) throw new HistogramRefused('is not a compressed HdrHistogram V2 histogram');
  const compressed = data.readInt32BE(4);
  if (compressed !== data.length - ENVELOPE_BYTES) throw new HistogramRefused(`says it holds ${compressed} compressed bytes but carries ${data.length - ENVELOPE_BYTES}`);
  const layoutCap = maxInflatedBytes(highest);
  const cap = budget ? Math.min(layoutCap, budget.bytesLeft) : layoutCap;
  let raw: Buffer;
  try {
    raw = inflateSync(data.subarray(ENVELOPE_BYTES), { maxOutputLength: Math.max(1, cap) });
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE') throw new HistogramRefused(`does not inflate: ${(err as Error).message}`);
    // it was inflated up to the cap before it was refused: that work is spent
    if (budget) budget.bytesLeft -= cap;
    throw new HistogramRefused(cap < layoutCap ? `inflates past what is left of the frame's budget (${FRAME_INFLATE_BUDGET_BYTES} bytes)` : `inflates to more than ${layoutCap} bytes, the most a histogram of this range takes`);
  }
  if (budget) budget.bytesLeft -= raw.length;
  return readInflated(raw, countWidth, highest);
}

/**
 * The recorded values at some 0-based ranks (ascending) of the sorted
 * sample, each the middle of the bucket that holds it (within half the
 * bucket's width, 0.05% at 3 significant digits), in one pass over the
 * buckets. The building block of percentiles interpolated between ranks.
 */
export function valuesAtRanks(histogram: LatencyHistogram, ranks: readonly number[]): number[] {
  const h = histogram as unknown as JsHistogram;
  const out: number[] = [];
  let k = 0;
  let below = 0;
  for (let i = 0; i < h.countsArrayLength && k < ranks.length; i++) {
    below += h.getCountAtIndex(i);
    while (k < ranks.length && ranks[k] < below) {
      out.push(h.medianEquivalentValue(h.valueFromIndex(i)));
      k++;
    }
  }
  // ranks past the recorded count (none when the count is right) take the highest recorded value
  while (out.length < ranks.length) out.push(h.maxValue);
  return out;
}

/** Adds the samples of `source` (a histogram or its encoding) to `target`. */
export function mergeInto(target: LatencyHistogram, source: string | LatencyHistogram, highest = HIGHEST_US): void {
  if (typeof source === 'string') {
    if (source === '') return;
    target.add(decodeHistogram(source, 32, highest));
    return;
  }
  if (source.totalCount > 0) target.add(source);
}

/** µs -> ms, rounded to 3 decimals (i.e. whole µs). */
export function usToMs(valueUs: number): number {
  return Math.round(valueUs) / 1000;
}

export const EMPTY_QUANTILES: Readonly<RtQuantiles> = Object.freeze({
  Avg: 0,
  Min: 0,
  Max: 0,
  TP50: 0,
  TP75: 0,
  TP90: 0,
  TP95: 0,
  TP99: 0,
  TP999: 0,
});

/**
 * Quantiles in ms. Min and Max come from the bucket counts (percentiles 0 and
 * 100), not from the exact extremes the recording histogram tracked, so a
 * merged or decoded histogram reports the same figures as the union of its
 * samples would.
 */
export function quantilesMs(histogram: LatencyHistogram): RtQuantiles {
  if (histogram.totalCount === 0) return { ...EMPTY_QUANTILES };
  const at = (percentile: number): number => usToMs(histogram.getValueAtPercentile(percentile));
  return {
    Avg: usToMs(histogram.mean),
    Min: at(0),
    Max: at(100),
    TP50: at(50),
    TP75: at(75),
    TP90: at(90),
    TP95: at(95),
    TP99: at(99),
    TP999: at(99.9),
  };
}

/** One percentile in ms, 0 for an empty histogram. */
export function percentileMs(histogram: LatencyHistogram, percentile: number): number {
  return histogram.totalCount === 0 ? 0 : usToMs(histogram.getValueAtPercentile(percentile));
}

/** Upper edges (exclusive) of the RT interval distribution, in µs; the last range is open. */
const RT_EDGES_US = [10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000] as const;
export const RT_RANGES: readonly string[] = [
  '[0,10)',
  '[10,20)',
  '[20,50)',
  '[50,100)',
  '[100,200)',
  '[200,500)',
  '[500,1000)',
  '[1000,2000)',
  '[2000,+inf)',
];

function asJs(histogram: LatencyHistogram): JsHistogram {
  if (!(histogram instanceof JsHistogram)) throw new Error('expected a JS (non-WebAssembly) histogram');
  return histogram;
}

/**
 * Counts per RT range. Each HDR bucket is placed by its middle value: an edge
 * that is not a bucket boundary (1000 ms lies inside a 512 µs wide bucket)
 * goes with the side that holds most of the bucket, so only samples within
 * 0.05% of an edge can land in the neighbouring range.
 */
export function rtDistribution(histogram: LatencyHistogram): RtDistributionBucket[] {
  const counts = new Array<number>(RT_RANGES.length).fill(0);
  if (histogram.totalCount > 0) {
    const js = asJs(histogram);
    const iterator = js.recordedValuesIterator;
    iterator.reset();
    let range = 0;
    while (iterator.hasNext()) {
      const step = iterator.next();
      const middleUs = js.medianEquivalentValue(step.valueIteratedTo);
      // Values come in ascending order, so the range index only moves forward.
      while (range < RT_EDGES_US.length && middleUs >= RT_EDGES_US[range]) range++;
      counts[range] += step.countAtValueIteratedTo;
    }
  }
  return RT_RANGES.map((Range, i) => ({ Range, Count: counts[i] }));
}

/** Points per decade of 1/(1-p) on the percentile-distribution curve, and its last decade (99.999). */
const CURVE_STEPS_PER_DECADE = 20;
const CURVE_DECADES = 5;

/**
 * The histogram as a percentile distribution, the curve HdrHistogram users
 * plot on a log axis of 1/(1-p): percentile 0 … 99.999, evenly spaced on that
 * axis (20 points a decade), plus 100 (the maximum). Empty for an empty histogram.
 */
export function percentileCurve(histogram: LatencyHistogram): PercentilePoint[] {
  if (histogram.totalCount === 0) return [];
  const points: PercentilePoint[] = [];
  for (let k = 0; k <= CURVE_STEPS_PER_DECADE * CURVE_DECADES; k++) {
    const percentile = roundTo(100 * (1 - 10 ** (-k / CURVE_STEPS_PER_DECADE)), 6);
    points.push({ Percentile: percentile, Ms: usToMs(histogram.getValueAtPercentile(percentile)) });
  }
  points.push({ Percentile: 100, Ms: usToMs(histogram.getValueAtPercentile(100)) });
  return points;
}
