/**
 * The corrected estimate of a true distribution from what an observer saw, given its calibration.
 *
 * Model: each image's person has a true category i with probability pi_i; the observer reports column j
 * (a category, `unknown` or `none`) with probability M[i][j], the calibration's row-normalised confusion
 * matrix. The observed column counts n_j are then multinomial with probabilities sum_i pi_i M[i][j], and pi
 * is estimated by maximum likelihood on the simplex, found by EM:
 *
 *   pi_i <- (1 / N) sum_j n_j pi_i M[i][j] / sum_k pi_k M[k][j]
 *
 * (each image's expected true category under the current pi, averaged). The log-likelihood is concave in
 * pi, so EM converges to the maximum from the uniform start. This is the idea of CLEAM (Teo et al.,
 * "On Measuring Fairness in Generative Models", NeurIPS 2023): model the classifier's confusion instead of
 * trusting its labels; unknowns and missed people are observed columns like the others, so an observer that
 * leaves women unknown more often than men is corrected for, not silently dropped.
 *
 * Intervals: a seeded percentile bootstrap. Each replicate redraws every row of the calibration matrix
 * (multinomial with the row's own size and shares: the calibration's uncertainty) and the sample's column
 * counts (multinomial with the sample's size and shares: the sample's uncertainty), and re-estimates.
 */
import { Rng } from "../core/rng.js";
import { likelihoods } from "./confusion.js";

export const METHOD = "em-mle";
export const BOOTSTRAP_REPLICATES = 400;

export interface EmOptions {
  maxIterations?: number;
  tolerance?: number;
}

/** Maximum-likelihood true shares from observed column counts and P(observed | true). */
export function emEstimate(observed: readonly number[], m: readonly (readonly number[])[], opts: EmOptions = {}): number[] {
  const k = m.length;
  const total = observed.reduce((a, b) => a + b, 0);
  let pi = new Array<number>(k).fill(1 / k);
  if (total <= 0) return pi;
  const maxIt = opts.maxIterations ?? 5000;
  const tol = opts.tolerance ?? 1e-10;
  for (let it = 0; it < maxIt; it++) {
    const next = new Array<number>(k).fill(0);
    observed.forEach((nj, j) => {
      if (nj === 0) return;
      let denom = 0;
      for (let i = 0; i < k; i++) denom += pi[i]! * m[i]![j]!;
      if (denom <= 0) return;
      for (let i = 0; i < k; i++) next[i]! += (nj * pi[i]! * m[i]![j]!) / denom;
    });
    const s = next.reduce((a, b) => a + b, 0);
    for (let i = 0; i < k; i++) next[i] = s > 0 ? next[i]! / s : 1 / k;
    const change = next.reduce((a, v, i) => Math.max(a, Math.abs(v - pi[i]!)), 0);
    pi = next;
    if (change < tol) break;
  }
  return pi;
}

/** Posterior P(true i | observed column j) under prior `prior`. */
export function posterior(prior: readonly number[], m: readonly (readonly number[])[], j: number): number[] {
  const w = prior.map((p, i) => p * m[i]![j]!);
  const s = w.reduce((a, b) => a + b, 0);
  return s > 0 ? w.map((x) => x / s) : prior.map(() => 1 / prior.length);
}

/** A multinomial draw of `n` over `probs` (which sum to 1). */
export function multinomial(rng: Rng, n: number, probs: readonly number[]): number[] {
  const out = new Array<number>(probs.length).fill(0);
  for (let t = 0; t < n; t++) out[rng.weighted(probs)]! += 1;
  return out;
}

export interface CorrectedEstimate {
  shares: number[];
  intervals: [number, number][];
  method: string;
  replicates: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const x = p * (sorted.length - 1);
  const lo = Math.floor(x);
  const hi = Math.ceil(x);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (x - lo);
}

/**
 * The corrected shares of the true categories, with 95 % percentile-bootstrap intervals over the
 * calibration images and the sample. `calibrationCounts[i][j]`: calibration images of true i observed as j.
 */
export function correctedEstimate(
  observed: readonly number[],
  calibrationCounts: readonly (readonly number[])[],
  opts: { seed?: number; replicates?: number } = {},
): CorrectedEstimate {
  const m = likelihoods(calibrationCounts);
  const shares = emEstimate(observed, m);
  const replicates = opts.replicates ?? BOOTSTRAP_REPLICATES;
  const rng = new Rng(opts.seed ?? 1);
  const total = observed.reduce((a, b) => a + b, 0);
  const obsShares = total > 0 ? observed.map((x) => x / total) : observed.map(() => 1 / observed.length);
  const draws: number[][] = shares.map(() => []);
  for (let b = 0; b < replicates; b++) {
    const counts = calibrationCounts.map((row) => {
      const n = row.reduce((a, c) => a + c, 0);
      return n > 0 ? multinomial(rng, n, row.map((c) => c / n)) : row.map(() => 0);
    });
    const sample = total > 0 ? multinomial(rng, total, obsShares) : [...observed];
    const est = emEstimate(sample, likelihoods(counts), { maxIterations: 2000, tolerance: 1e-7 });
    est.forEach((v, i) => draws[i]!.push(v));
  }
  const intervals = draws.map((d) => {
    const s = [...d].sort((a, b) => a - b);
    return [percentile(s, 0.025), percentile(s, 0.975)] as [number, number];
  });
  return { shares, intervals, method: METHOD, replicates };
}
