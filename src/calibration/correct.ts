/**
 * Applying a calibration: corrected distributions of a set of observed images, the posterior over a
 * person's true category given what the observer said (for steering), and drawing what the observer
 * would say given the truth (the `simulated` observer).
 */
import type { Rng } from "../core/rng.js";
import { likelihoods, observedIndex, type ObservedImage } from "./confusion.js";
import { correctedEstimate, posterior } from "./estimate.js";
import type { Calibration } from "./schema.js";

type AttributeCal = Calibration["attributes"][string];

export interface CorrectedShares {
  shares: Record<string, number>;
  intervals: Record<string, [number, number]>;
  method: string;
  /** Images the estimate is made from (unknowns and misses included). */
  n: number;
}

/**
 * Whether a calibration can correct an attribute: it was calibrated and every category has labelled images
 * (a category without any leaves its row of the confusion matrix unknown). The reason when it cannot.
 */
export function coverage(cal: Calibration, attr: string): { ok: true; cal: AttributeCal } | { ok: false; reason: string } {
  const a = cal.attributes[attr];
  if (!a) return { ok: false, reason: `the calibration has no ${attr}` };
  const empty = a.categories.filter((_, i) => a.counts[i]!.reduce((x, y) => x + y, 0) === 0);
  if (empty.length > 0) return { ok: false, reason: `the calibration has no labelled ${attr} images of ${empty.join(", ")}` };
  return { ok: true, cal: a };
}

/** Observed column counts (categories, unknown, none) of an attribute over a set of images. */
export function observedCounts(a: AttributeCal, images: readonly ObservedImage[]): number[] {
  const counts = new Array<number>(a.categories.length + 2).fill(0);
  for (const img of images) counts[observedIndex(a.categories, img, a.attribute)]! += 1;
  return counts;
}

/** The corrected distribution of every attribute the calibration covers, among `attributes`. */
export function correctDistributions(
  cal: Calibration,
  attributes: readonly string[],
  images: readonly ObservedImage[],
  seed = 1,
): Record<string, CorrectedShares> {
  const out: Record<string, CorrectedShares> = {};
  for (const attr of attributes) {
    const cov = coverage(cal, attr);
    if (!cov.ok) continue;
    const a = cov.cal;
    const est = correctedEstimate(observedCounts(a, images), a.counts, { seed });
    out[attr] = {
      shares: Object.fromEntries(a.categories.map((c, i) => [c, est.shares[i]!])),
      intervals: Object.fromEntries(a.categories.map((c, i) => [c, est.intervals[i]!])),
      method: `${est.method}: maximum likelihood (EM) on the calibration's confusion matrix, unknown and no-person columns included; 95 % percentile bootstrap over calibration images and sample (${est.replicates} replicates)`,
      n: images.length,
    };
  }
  return out;
}

/**
 * The expected true counts one observation implies for a factor's cells: the posterior over the cells given
 * the observed labels, prior `q` (the target). Attributes are taken as read independently given the truth;
 * "no person" is counted once (by the first attribute's row), not once per attribute. Attributes the
 * calibration does not cover count as read (likelihood 1 for the observed category, 0 otherwise; an unknown
 * label leaves them uninformative).
 */
export function cellPosterior(
  cal: Calibration,
  attributes: readonly string[],
  cells: readonly (readonly string[])[],
  q: readonly number[],
  obs: ObservedImage,
): number[] {
  const like = cellLikelihoods(cal, attributes, cells, obs);
  const w = like.map((l, c) => l * q[c]!);
  const s = w.reduce((a, b) => a + b, 0);
  return s > 0 ? w.map((x) => x / s) : [...q];
}

/** L(observation | cell) for every cell of a factor (see cellPosterior). */
export function cellLikelihoods(cal: Calibration, attributes: readonly string[], cells: readonly (readonly string[])[], obs: ObservedImage): number[] {
  const parts = attributes.map((attr) => {
    const cov = coverage(cal, attr);
    return cov.ok ? { a: cov.cal, m: likelihoods(cov.cal.counts) } : undefined;
  });
  const firstCovered = parts.findIndex((p) => p !== undefined);
  return cells.map((cell) => {
    let like = 1;
    attributes.forEach((attr, k) => {
      const part = parts[k];
      if (!part) {
        const v = obs.labels?.[attr];
        if (v !== null && v !== undefined && v !== cell[k]) like = 0;
        return;
      }
      const i = part.a.categories.indexOf(cell[k]!);
      const j = observedIndex(part.a.categories, obs, attr);
      const none = part.a.categories.length + 1;
      if (j === none && k !== firstCovered) return;
      if (j === none) {
        like *= part.m[i]![j]!;
        return;
      }
      // Given that a person was seen: the row without its none column, renormalised.
      const row = part.m[i]!;
      const seen = 1 - row[none]!;
      like *= seen > 0 ? row[j]! / seen : 0;
    });
    return like;
  });
}

/** Posterior over one attribute's categories given an observed column, prior q (for tests and tables). */
export function attributePosterior(a: AttributeCal, q: readonly number[], column: number): number[] {
  return posterior(q, likelihoods(a.counts), column);
}

/**
 * What the calibrated observer would say of a person whose true categories are `truth`: "no person" with the
 * first calibrated attribute's miss rate for its true category, otherwise each calibrated attribute's label
 * drawn from its confusion row given a person was seen (unknown included). Attributes the calibration does
 * not cover are reported as they are.
 */
export function drawObservation(cal: Calibration, truth: Readonly<Record<string, string>>, rng: Rng): ObservedImage {
  const attrs = Object.keys(truth).filter((a) => coverage(cal, a).ok);
  const rows = attrs.map((attr) => {
    const a = cal.attributes[attr]!;
    const row = a.counts[a.categories.indexOf(truth[attr]!)] ?? a.categories.map(() => 0).concat([1, 0]);
    return { a, row };
  });
  if (rows.length > 0) {
    const { a, row } = rows[0]!;
    const none = a.categories.length + 1;
    const total = row.reduce((x, y) => x + y, 0);
    if (rng.next() < row[none]! / total) return { labels: null };
  }
  const labels: Record<string, string | null> = { ...truth };
  rows.forEach(({ a, row }, k) => {
    const seen = row.slice(0, a.categories.length + 1);
    const j = rng.weighted(seen);
    labels[attrs[k]!] = j < a.categories.length ? a.categories[j]! : null;
  });
  return { labels };
}
