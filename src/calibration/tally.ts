/**
 * Steering on the corrected estimate: a tally that counts each kept image as the expected true counts its
 * observation implies, instead of one count in the observed cell.
 *
 * Rule. For an observation o (the main subject's labels, unknowns and "no person" included) each factor's
 * cells receive the posterior P(cell | o, request) = prior_r(cell) L(o | cell) / sum, where L is the
 * calibration's confusion rows (attributes read independently given the truth) and prior_r is what the model
 * really draws when asked for request r: estimated by EM from the observations of every image generated for
 * that request (kept or set apart), starting from the target q with PRIOR_WEIGHT pseudo-images. So the prior is
 * the model's compliance corrected for the observer's errors; with no evidence it is the target. The counts of
 * all kept images are recomputed whenever a prior changes. An image is kept when, in every factor, adding its
 * posterior brings the expected counts closer (L1) to the bins; the set is complete at N kept images, at which
 * point the expected true counts of the kept set are the bins within a fraction of an image per cell.
 *
 * Cost: an image whose label the observer often gets wrong carries less than one count toward its cell, and
 * images that would move the counts away from the bins are set apart, so corrected steering needs more
 * generations per kept image when the observer is poor (BENCHMARKS.md, section calibration).
 */
import type { Request } from "../core/request.js";
import { Tally } from "../core/tally.js";
import type { Target } from "../core/target.js";
import { cellLikelihoods } from "./correct.js";
import type { ObservedImage } from "./confusion.js";
import type { Calibration } from "./schema.js";

/** Pseudo-images of the target in each request's prior. */
export const PRIOR_WEIGHT = 2;
const EM_ROUNDS = 50;

/** The main subject's labels as the engine hands them over: {} when no person was seen. */
function asObserved(labels: Readonly<Record<string, string | null>>): ObservedImage {
  return Object.keys(labels).length === 0 ? { labels: null } : { labels: { ...labels } };
}

const normalise = (w: number[], fallback: readonly number[]): number[] => {
  const s = w.reduce((a, b) => a + b, 0);
  return s > 0 ? w.map((x) => x / s) : [...fallback];
};

/** Per factor, images seen per request key and the prior estimated from them. */
interface RequestStats {
  likes: number[][];
  prior: number[];
}

export class CorrectedTally extends Tally {
  private readonly stats: Map<string, RequestStats>[];
  private readonly keptImages: { likes: number[][]; key: string[] }[] = [];
  /** The kept images counted by their observed labels: what event lines record (whole counts; the corrected ones are recomputed from the events). */
  private readonly raw: Tally;

  constructor(
    target: Target,
    private readonly calibration: Calibration,
  ) {
    super(target);
    this.stats = target.factors.map(() => new Map());
    this.raw = new Tally(target);
  }

  override snapshot(): Record<string, Record<string, number>> {
    return this.raw.snapshot();
  }

  private likelihoods(labels: Readonly<Record<string, string | null>>): number[][] {
    const obs = asObserved(labels);
    return this.target.factors.map((f) => cellLikelihoods(this.calibration, f.attributes, f.cells, obs));
  }

  /** Which prior an image of this request uses in factor f: the requested cell, or all undirected requests. */
  private keyOf(f: number, request: Request | undefined): string {
    if (!request || request.kind !== "direct") return "*";
    const c = this.cellOf(f, request.cells);
    return c >= 0 ? String(c) : "*";
  }

  private prior(f: number, key: string): number[] {
    return this.stats[f]!.get(key)?.prior ?? this.target.factors[f]!.q;
  }

  /** The expected true counts per cell of factor f that these labels imply, for an image of this request. */
  posterior(f: number, labels: Readonly<Record<string, string | null>>, request?: Request): number[] {
    const like = this.likelihoods(labels)[f]!;
    const prior = this.prior(f, this.keyOf(f, request));
    return normalise(like.map((l, c) => l * prior[c]!), prior);
  }

  override seen(labels: Readonly<Record<string, string | null>>, request: Request): void {
    const likes = this.likelihoods(labels);
    this.target.factors.forEach((factor, f) => {
      const key = this.keyOf(f, request);
      const s = this.stats[f]!.get(key) ?? { likes: [], prior: [...factor.q] };
      s.likes.push(likes[f]!);
      // EM for the true shares of this request's images, the target as PRIOR_WEIGHT pseudo-images.
      let pi = s.prior;
      for (let r = 0; r < EM_ROUNDS; r++) {
        const acc = factor.q.map((q) => PRIOR_WEIGHT * q);
        for (const l of s.likes) normalise(l.map((x, c) => x * pi[c]!), pi).forEach((w, c) => (acc[c]! += w));
        pi = normalise(acc, factor.q);
      }
      s.prior = pi;
      this.stats[f]!.set(key, s);
    });
    this.recount();
  }

  /** Counts of the kept images under the current priors. */
  private recount(): void {
    this.target.factors.forEach((_, f) => {
      const row = this.counts[f]!;
      row.fill(0);
      for (const img of this.keptImages) {
        const prior = this.prior(f, img.key[f]!);
        normalise(img.likes[f]!.map((l, c) => l * prior[c]!), prior).forEach((w, c) => (row[c]! += w));
      }
    });
  }

  override add(labels: Readonly<Record<string, string | null>>, request?: Request): void {
    this.kept += 1;
    this.raw.add(labels);
    this.keptImages.push({ likes: this.likelihoods(labels), key: this.target.factors.map((_, f) => this.keyOf(f, request)) });
    this.recount();
  }

  /** Kept when, in every factor, the image's expected counts bring the tally closer (L1) to the bins. */
  override fits(labels: Readonly<Record<string, string | null>>, request?: Request): boolean {
    if (this.kept >= this.target.n) return false;
    return this.target.factors.every((_, f) => {
      const w = this.posterior(f, labels, request);
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
