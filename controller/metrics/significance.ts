/**
 * The Mann–Whitney U test (Wilcoxon rank-sum), two-sided, on two samples of
 * per-second values. Rank-based, so it makes no assumption of normality:
 * per-second latency percentiles are skewed and a single slow second must not
 * decide (docs/report.md, "Comparing rounds").
 *
 * The p-value is exact (the null distribution of U counted) when both samples
 * have at most EXACT_MAX values and no ties; otherwise it is the normal
 * approximation with the tie correction and a continuity correction.
 */
export interface RankTest {
  /** U of the first sample. */
  u: number;
  /** Two-sided p-value; null when a sample has fewer than MIN_SAMPLES values. */
  p: number | null;
  method: 'exact' | 'normal' | 'too few';
}

/** Below this many seconds a side says nothing about its spread. */
export const MIN_SAMPLES = 3;
const EXACT_MAX = 30;

/** Average ranks (1-based) of the pooled values, with the tie groups' sizes. */
function ranks(values: readonly number[]): { ranks: number[]; ties: number[] } {
  const order = values.map((v, i) => ({ v, i })).sort((x, y) => x.v - y.v);
  const out = new Array<number>(values.length);
  const ties: number[] = [];
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1].v === order[start].v) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) out[order[k].i] = rank;
    if (end > start) ties.push(end - start + 1);
    start = end + 1;
  }
  return { ranks: out, ties };
}

/** counts[u] = number of arrangements of m and n values giving U = u (the exact null distribution). */
function exactCounts(m: number, n: number): number[] {
  // f(m, n)[u] = f(m-1, n)[u-n] + f(m, n-1)[u], built over n for every m
  let prev: number[][] = [];
  for (let i = 0; i <= m; i++) {
    const row: number[][] = [];
    for (let j = 0; j <= n; j++) {
      if (i === 0 || j === 0) {
        row.push([1]);
        continue;
      }
      const a = prev[j];
      const b = row[j - 1];
      const cur = new Array<number>(i * j + 1).fill(0);
      for (let u = 0; u < a.length; u++) cur[u + j] += a[u];
      for (let u = 0; u < b.length; u++) cur[u] += b[u];
      row.push(cur);
    }
    prev = row;
  }
  return prev[n];
}

/** The standard normal's upper tail, P(Z > z) (Abramowitz and Stegun 7.1.26 on erfc; error below 1.5e-7). */
export function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  const upper = erfc / 2;
  return z >= 0 ? upper : 1 - upper;
}

export function mannWhitneyU(a: readonly number[], b: readonly number[]): RankTest {
  const m = a.length;
  const n = b.length;
  if (m < MIN_SAMPLES || n < MIN_SAMPLES) return { u: 0, p: null, method: 'too few' };
  const { ranks: r, ties } = ranks([...a, ...b]);
  let rankSumA = 0;
  for (let i = 0; i < m; i++) rankSumA += r[i];
  const u = rankSumA - (m * (m + 1)) / 2;
  const mean = (m * n) / 2;
  if (ties.length === 0 && m <= EXACT_MAX && n <= EXACT_MAX) {
    const counts = exactCounts(m, n);
    const total = counts.reduce((s, c) => s + c, 0);
    // two-sided: twice the smaller tail at the observed U (the distribution is symmetric about mn/2)
    const low = Math.min(u, m * n - u);
    let tail = 0;
    for (let k = 0; k <= low; k++) tail += counts[k];
    return { u, p: Math.min(1, (2 * tail) / total), method: 'exact' };
  }
  const N = m + n;
  const tieTerm = ties.reduce((s, t) => s + (t * t * t - t), 0) / (N * (N - 1));
  const variance = ((m * n) / 12) * (N + 1 - tieTerm);
  if (variance <= 0) return { u, p: 1, method: 'normal' };
  const z = (Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  return { u, p: Math.min(1, 2 * normalUpperTail(Math.max(0, z))), method: 'normal' };
}
