import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, JsHistogram } from 'hdr-histogram-js';
import type { BitBucketSize, Histogram } from 'hdr-histogram-js';
import type { RtDistributionBucket, RtQuantiles } from '../../src/contract';

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

/** The inverse of encodeHistogram; an empty string decodes to an empty histogram. */
export function decodeHistogram(encoded: string, countWidth: CountWidth = 32, highest = HIGHEST_US): LatencyHistogram {
  if (encoded === '') return createLatencyHistogram(countWidth, highest);
  return decodeFromCompressedBase64(encoded, countWidth as BitBucketSize, false, highest);
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
