import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import {
  createLatencyHistogram,
  DecodeBudget,
  decodeHistogram,
  encodeHistogram,
  FRAME_INFLATE_BUDGET_BYTES,
  HIGHEST_US,
  HistogramRefused,
  maxInflatedBytes,
  recordUs,
} from '../../src/measure/histogram';
import { LLM_HIGHEST } from '../../src/measure/llm-second';
import { hostileHistogram, zigZagWord } from '../helpers/agent-frames';

describe('histogram decoding: what the text claims is checked, and what it costs is bounded', () => {
  test.each([
    [32, HIGHEST_US],
    [64, HIGHEST_US],
    [32, LLM_HIGHEST],
  ] as const)('a real histogram (%i-bit counts, up to %i) decodes to what the library decodes', (width, highest) => {
    const h = createLatencyHistogram(width, highest);
    let x = 7;
    for (let i = 0; i < 5000; i++) {
      x = (x * 48271) % 2147483647;
      recordUs(h, (x % 1_000_000) * (i % 7 === 0 ? 1000 : 1), highest);
    }
    h.recordValueWithCount(123, width === 64 ? 2 ** 40 : 2 ** 31 - 1 - 10);
    const encoded = encodeHistogram(h);
    const ours = decodeHistogram(encoded, width, highest);
    const theirs = decodeFromCompressedBase64(encoded, width, false, highest);
    expect(ours.totalCount).toBe(theirs.totalCount);
    expect(ours.totalCount).toBe(h.totalCount);
    for (const p of [0, 1, 50, 90, 99, 99.9, 100]) expect(ours.getValueAtPercentile(p)).toBe(theirs.getValueAtPercentile(p));
    expect(ours.mean).toBe(theirs.mean);
    expect(decodeHistogram('', width, highest).totalCount).toBe(0);
  });

  test('a zlib bomb (a few KB inflating to 50 MB) is refused at the layout\'s size, without inflating it', () => {
    const bomb = hostileHistogram({ words: Buffer.alloc(50 * 1024 * 1024) });
    expect(bomb.length).toBeLessThan(256 * 1024);
    expect(() => decodeHistogram(bomb)).toThrow(new HistogramRefused(`inflates to more than ${maxInflatedBytes()} bytes, the most a histogram of this range takes`));
  });

  test.each([
    ['a wider range', { highest: 2 ** 50 }, /has a range \(1\.\.1125899906842624, 3 digits\)/],
    ['more digits', { digits: 5 }, /5 digits\) other than 1\.\.60000000, 3 digits/],
    ['another lowest value', { lowest: 1000 }, /has a range \(1000\.\./],
    ['a payload length that is not its own', { payloadLength: 1_000_000 }, /says its payload is 1000000 bytes but carries 1/],
    ['a compressed length that is not its own', { compressedLength: 2 ** 30 }, /says it holds 1073741824 compressed bytes/],
    ['a run of empty buckets past the last one', { words: zigZagWord(-(2 ** 40)) }, /skips past its last bucket \(17408\)/],
    ['a count beyond the last bucket', { words: Buffer.concat([zigZagWord(-17408), zigZagWord(1)]) }, /count beyond its last bucket/],
    ['a bucket over 32 bits', { words: zigZagWord(2 ** 33) }, /bucket count of 8589934592, over 2147483647/],
    ['a word cut short', { words: Buffer.from([0xff]) }, /ends inside a word/],
    ['not a histogram', { cookie: 0x12345678 }, /is not an HdrHistogram V2 histogram/],
  ])('%s is refused', (_what, spec, message) => {
    expect(() => decodeHistogram(hostileHistogram(spec))).toThrow(message);
  });

  test('not base64 of a histogram at all is refused', () => {
    expect(() => decodeHistogram('AAAA')).toThrow(HistogramRefused);
    expect(() => decodeHistogram(Buffer.from('hello world, not zlib').toString('base64'))).toThrow(HistogramRefused);
  });

  test('a frame\'s budget is shared by its histograms: once spent, the next one is refused', () => {
    const full = createLatencyHistogram();
    // every bucket filled: the largest a real one gets
    for (let v = 1; v < HIGHEST_US; v = Math.ceil(v * 1.0005) + 1) full.recordValueWithCount(v, 100000);
    const encoded = encodeHistogram(full);
    const budget = new DecodeBudget();
    let decoded = 0;
    expect(() => {
      for (; decoded < 100; decoded++) decodeHistogram(encoded, 32, HIGHEST_US, budget);
    }).toThrow(/past what is left of the frame's budget/);
    expect(decoded).toBeGreaterThan(0);
    expect(decoded).toBeLessThan(FRAME_INFLATE_BUDGET_BYTES / 1000);
  });
});
