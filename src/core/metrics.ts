/**
 * Fairness metrics: how far an observed distribution p of demographic categories is from a
 * target distribution q. Arrays are aligned by category index. Pure functions, no I/O.
 *
 * Functions taking (p, q) expect probability vectors of equal length and throw a RangeError when
 * the lengths differ; they do not check that the vectors sum to 1.
 */
/// <reference path="./jstat.d.ts" />
import jstatPkg from "jstat";

/** Two-sided 95 % normal quantile, Φ⁻¹(0.975). */
const Z95 = 1.959963984540054;

function assertSameLength(a: readonly number[], b: readonly number[], fn: string, names = ["p", "q"]): void {
  if (a.length !== b.length) {
    throw new RangeError(
      `${fn}: ${names[0]} and ${names[1]} must have the same number of categories, got ${a.length} and ${b.length}`,
    );
  }
}

function assertCounts(counts: readonly number[], fn: string): void {
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (!Number.isFinite(c) || c < 0) {
      throw new RangeError(`${fn}: counts must be finite and non-negative, got ${c} at index ${i}`);
    }
  }
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** Each count divided by the total (throws on a negative or non-finite count); all zeros (or empty) gives all zeros. */
export function proportions(counts: readonly number[]): number[] {
  assertCounts(counts, "proportions");
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return counts.map(() => 0);
  return counts.map((c) => c / total);
}

/** Total variation distance ½ Σ |p_i − q_i| over all categories, including those with q_i = 0. */
export function totalVariation(p: readonly number[], q: readonly number[]): number {
  assertSameLength(p, q, "totalVariation");
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += Math.abs(p[i]! - q[i]!);
  return 0.5 * sum;
}

/** Largest per-category gap max_i |p_i − q_i| over all categories; 0 for no categories. */
export function maxAbsDiff(p: readonly number[], q: readonly number[]): number {
  assertSameLength(p, q, "maxAbsDiff");
  let max = 0;
  for (let i = 0; i < p.length; i++) max = Math.max(max, Math.abs(p[i]! - q[i]!));
  return max;
}

/** Fairness discrepancy: the Euclidean (L2) norm ‖p − q‖₂ over all categories. */
export function fairnessDiscrepancy(p: readonly number[], q: readonly number[]): number {
  assertSameLength(p, q, "fairnessDiscrepancy");
  const diffs: number[] = [];
  for (let i = 0; i < p.length; i++) diffs.push(p[i]! - q[i]!);
  return Math.hypot(...diffs); // hypot avoids overflow/underflow in the squares
}

/** Mean of |p_i − q_i| over the categories with q_i > 0 (the targeted ones); 0 if there are none. */
export function meanAbsDeviation(p: readonly number[], q: readonly number[]): number {
  assertSameLength(p, q, "meanAbsDeviation");
  let sum = 0;
  let m = 0;
  for (let i = 0; i < p.length; i++) {
    if (q[i]! > 0) {
      sum += Math.abs(p[i]! - q[i]!);
      m++;
    }
  }
  return m === 0 ? 0 : sum / m;
}

/**
 * Kullback–Leibler divergence KL(p ‖ q) = Σ p_i ln(p_i / q_i) in nats. Terms with p_i = 0 are 0;
 * any p_i > 0 with q_i = 0 gives Infinity. Clamped at 0 to absorb rounding.
 */
export function klDivergence(p: readonly number[], q: readonly number[]): number {
  assertSameLength(p, q, "klDivergence");
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    if (!(pi > 0)) continue;
    const qi = q[i]!;
    if (!(qi > 0)) return Infinity;
    // ln(p/q) = log1p((p − q)/q): accurate when p ≈ q, where ln(p/q) would lose digits.
    sum += pi * Math.log1p((pi - qi) / qi);
  }
  return sum > 0 ? sum : 0;
}

/** Shannon entropy H(p) = −Σ p_i ln p_i in nats, skipping p_i = 0 (0·ln 0 = 0). */
export function entropy(p: readonly number[]): number {
  let h = 0;
  for (const pi of p) if (pi > 0) h -= pi * Math.log(pi);
  return h;
}

/**
 * Entropy relative to its maximum, H(p) / ln k with k = p.length, in [0, 1] (1 = perfectly even).
 * An all-zero (or empty) p gives 0; a single category (k = 1) with mass gives 1, since it is as
 * even as one category can be.
 */
export function normalizedEntropy(p: readonly number[]): number {
  let total = 0;
  for (const pi of p) if (pi > 0) total += pi;
  if (total === 0) return 0;
  if (p.length <= 1) return 1;
  return clamp01(entropy(p) / Math.log(p.length));
}

/** Result of a chi-square goodness-of-fit test. */
export interface ChiSquareResult {
  statistic: number;
  df: number;
  pValue: number;
}

/**
 * Pearson chi-square goodness of fit of observed counts against target q, over the categories with
 * q_i > 0 (df = their number − 1; expected_i = n·q_i, q renormalised over those categories).
 * Any count in a q_i = 0 category gives statistic Infinity and pValue 0; n = 0 or df = 0 gives pValue 1.
 */
export function chiSquareTest(counts: readonly number[], q: readonly number[]): ChiSquareResult {
  assertSameLength(counts, q, "chiSquareTest", ["counts", "q"]);
  assertCounts(counts, "chiSquareTest");
  let n = 0;
  let qTotal = 0;
  let m = 0;
  let outside = false;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    const qi = q[i]!;
    n += c;
    if (qi > 0) {
      qTotal += qi;
      m++;
    } else if (c > 0) {
      outside = true;
    }
  }
  const df = Math.max(m - 1, 0);
  if (n === 0) return { statistic: 0, df, pValue: 1 };
  if (outside) return { statistic: Infinity, df, pValue: 0 };

  let statistic = 0;
  for (let i = 0; i < counts.length; i++) {
    const qi = q[i]!;
    if (!(qi > 0)) continue;
    const expected = (n * qi) / qTotal;
    const d = counts[i]! - expected;
    statistic += (d * d) / expected;
  }
  if (df === 0 || statistic <= 0) return { statistic, df, pValue: 1 };
  const pValue = clamp01(1 - jstatPkg.chisquare.cdf(statistic, df));
  return { statistic, df, pValue };
}

/** A closed interval [low, high]. */
export interface Interval {
  low: number;
  high: number;
}

/**
 * Wilson score interval for a binomial proportion successes/n (95 % by default), clamped to [0, 1].
 * n = 0 gives [0, 1]. Throws unless 0 ≤ successes ≤ n and z > 0.
 */
export function wilsonInterval(successes: number, n: number, z: number = Z95): Interval {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`wilsonInterval: n must be finite and >= 0, got ${n}`);
  if (!Number.isFinite(successes) || successes < 0 || successes > n) {
    throw new RangeError(`wilsonInterval: successes must be in [0, n] = [0, ${n}], got ${successes}`);
  }
  if (!Number.isFinite(z) || z <= 0) throw new RangeError(`wilsonInterval: z must be finite and > 0, got ${z}`);
  if (n === 0) return { low: 0, high: 1 };
  const phat = successes / n;
  const z2n = (z * z) / n;
  const denom = 1 + z2n;
  const center = (phat + z2n / 2) / denom;
  const half = (z / denom) * Math.sqrt((phat * (1 - phat)) / n + z2n / (4 * n));
  // The bounds are exactly 0 / 1 at the extremes; set them so rounding does not leave 1e-17.
  const low = successes === 0 ? 0 : clamp01(center - half);
  const high = successes === n ? 1 : clamp01(center + half);
  return { low, high };
}

/** Every metric of this module for observed counts against target q. */
export interface DistributionMetrics {
  tv: number;
  maxAbsDiff: number;
  fd: number;
  kl: number;
  mad: number;
  normalizedEntropy: number;
  chiSquare: ChiSquareResult;
  /** Total count. */
  n: number;
  /** Observed proportions. */
  p: number[];
  /** 95 % Wilson interval of each category's proportion. */
  intervals: Interval[];
}

/** Computes all the metrics above from observed counts and target q. */
export function compareDistribution(counts: readonly number[], q: readonly number[]): DistributionMetrics {
  assertSameLength(counts, q, "compareDistribution", ["counts", "q"]);
  const p = proportions(counts);
  let n = 0;
  for (const c of counts) n += c;
  return {
    tv: totalVariation(p, q),
    maxAbsDiff: maxAbsDiff(p, q),
    fd: fairnessDiscrepancy(p, q),
    kl: klDivergence(p, q),
    mad: meanAbsDeviation(p, q),
    normalizedEntropy: normalizedEntropy(p),
    chiSquare: chiSquareTest(counts, q),
    n,
    p,
    intervals: counts.map((c) => wilsonInterval(c, n)),
  };
}

/**
 * Total variation between the running proportions and q after each item of cellSequence (category
 * indices of the kept items, in order), in O(k) per item. An entry of -1 (unknown category) is not
 * counted and repeats the previous value, or 1 (the worst possible TV) if no item is known yet.
 * Any other index outside [0, k) throws a RangeError.
 */
export function convergenceSeries(cellSequence: readonly number[], q: readonly number[]): number[] {
  const k = q.length;
  const counts = new Array<number>(k).fill(0);
  const out: number[] = [];
  let t = 0;
  let prev = 1;
  for (let j = 0; j < cellSequence.length; j++) {
    const c = cellSequence[j]!;
    if (c === -1) {
      out.push(prev);
      continue;
    }
    if (!Number.isInteger(c) || c < 0 || c >= k) {
      throw new RangeError(`convergenceSeries: item ${j} has category ${c}, expected -1 or an integer in [0, ${k})`);
    }
    counts[c]!++;
    t++;
    // Same arithmetic as totalVariation(proportions(counts), q), so the results agree exactly.
    let sum = 0;
    for (let i = 0; i < k; i++) sum += Math.abs(counts[i]! / t - q[i]!);
    prev = 0.5 * sum;
    out.push(prev);
  }
  return out;
}
