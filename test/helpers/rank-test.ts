/**
 * The Mann–Whitney U (Wilcoxon rank-sum) test, for timing comparisons that
 * must not depend on a wall-clock threshold: it asks whether one sample
 * tends to be larger than the other, using only the order of the values, so
 * a machine that is uniformly slower (a loaded CI runner) shifts both
 * samples alike and leaves the answer unchanged.
 */

/** The outcome of {@link mannWhitney}. */
export interface RankTestResult {
  /** U of the first sample: how often a value of `a` exceeds a value of `b` (ties count ½). */
  u: number;
  /**
   * The normal approximation of U, tie-corrected: ≈ N(0, 1) when both
   * samples come from one distribution; positive when `a` tends to be larger.
   */
  z: number;
  /** Median of each sample, for reports. */
  medianA: number;
  medianB: number;
}

/** Median of a sample (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of an empty sample");
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Mann–Whitney U test of two independent samples, with the normal
 * approximation (fine from about 20 values a sample) and the correction for
 * ties.
 *
 * @example
 * const { z } = mannWhitney(wrongTokenTimes, unknownClientTimes);
 * expect(Math.abs(z)).toBeLessThan(4);
 */
export function mannWhitney(a: readonly number[], b: readonly number[]): RankTestResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 < 2 || n2 < 2) throw new RangeError("mannWhitney needs at least two values in each sample");
  const all = [...a.map((value) => ({ value, first: true })), ...b.map((value) => ({ value, first: false }))].sort(
    (x, y) => x.value - y.value,
  );
  const n = all.length;
  let rankSumA = 0;
  let tieTerm = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && all[end + 1]!.value === all[start]!.value) end++;
    // Tied values share the mean of the ranks they span (ranks are 1-based).
    const rank = (start + end + 2) / 2;
    const tied = end - start + 1;
    tieTerm += tied ** 3 - tied;
    for (let i = start; i <= end; i++) if (all[i]!.first) rankSumA += rank;
    start = end + 1;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const z = variance > 0 ? (u - mean) / Math.sqrt(variance) : 0;
  return { u, z, medianA: median(a), medianB: median(b) };
}
