/**
 * Steering on the corrected estimate: a tally that counts each kept image as the expected true counts its
 * observation implies, instead of one count in the observed cell.
 *
 * Rule. For an observation o (the main subject's labels, unknowns and "no person" included), each factor's
 * cells receive the posterior P(cell | o) = q(cell) L(o | cell) / sum, with q the target as prior and L the
 * calibration's confusion rows (attributes read independently given the truth). An image is kept when, in
 * every factor, adding its posterior brings the expected counts closer to the bins (L1 distance); the set is
 * complete at N kept images. With q as prior the expected counts equal the bins exactly when q is a fixed
 * point of the EM map of the kept set's observations, i.e. when the maximum-likelihood corrected estimate of
 * the kept set is the target: the loop stops on the corrected estimate, not on the raw labels.
 *
 * Cost: an image whose label the observer often gets wrong carries less than one count toward its cell, so
 * cells the observer misreads need more images, and images that would overshoot are set apart: more
 * generations per kept image than raw steering (measured in BENCHMARKS.md, section calibration).
 */
import { Tally } from "../core/tally.js";
import type { Target } from "../core/target.js";
import { cellPosterior } from "./correct.js";
import type { ObservedImage } from "./confusion.js";
import type { Calibration } from "./schema.js";

/** The main subject's labels as the engine hands them over: {} when no person was seen. */
function asObserved(labels: Readonly<Record<string, string | null>>): ObservedImage {
  return Object.keys(labels).length === 0 ? { labels: null } : { labels: { ...labels } };
}

export class CorrectedTally extends Tally {
  constructor(
    target: Target,
    private readonly calibration: Calibration,
  ) {
    super(target);
  }

  /** The expected true counts per cell of factor f that these labels imply. */
  posterior(f: number, labels: Readonly<Record<string, string | null>>): number[] {
    const factor = this.target.factors[f]!;
    return cellPosterior(this.calibration, factor.attributes, factor.cells, factor.q, asObserved(labels));
  }

  override add(labels: Readonly<Record<string, string | null>>): void {
    this.kept += 1;
    this.target.factors.forEach((_, f) => {
      this.posterior(f, labels).forEach((w, c) => (this.counts[f]![c]! += w));
    });
  }

  /** Kept when, in every factor, the image's expected counts bring the tally closer (L1) to the bins. */
  override fits(labels: Readonly<Record<string, string | null>>): boolean {
    if (this.kept >= this.target.n) return false;
    return this.target.factors.every((_, f) => {
      const w = this.posterior(f, labels);
      let before = 0;
      let after = 0;
      w.forEach((wc, c) => {
        const d = this.remaining(f, c);
        before += Math.abs(d);
        after += Math.abs(d - wc);
      });
      return after < before - 1e-9;
    });
  }

  /** Complete at N kept images: every kept image moved the expected counts toward the bins. */
  override complete(): boolean {
    return this.kept >= this.target.n;
  }
}
