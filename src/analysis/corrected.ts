/**
 * Corrected estimates beside the raw shares: with a calibration of the run's driving observer, every
 * attribute the calibration covers gets `corrected = { shares, intervals, method }` (see
 * src/calibration/estimate.ts), and the summary records which calibration was used and any mismatch.
 */
import { observedImage } from "../calibration/build.js";
import { correctDistributions, coverage } from "../calibration/correct.js";
import { checkCalibrationFits, type Calibration } from "../calibration/schema.js";
import { maxAbsDiff, totalVariation } from "../core/metrics.js";
import type { Taxonomy } from "../core/taxonomy.js";
import { AUDIT_PROVIDER, type CalibrationUse, type CorrectedAttribute, type MeasuredAttempt, type MeasuredEvent, type RunSummary } from "./summary.js";

/** The observer a calibration may correct: its own, or `simulated` (which imitates it). */
const fitsObserver = (cal: Calibration, observer: string): string => (observer === "simulated" ? cal.observer.id : observer);

/**
 * Adds corrected estimates to a run's (or an audit's) summary, from the main subjects of its kept images.
 * InputError (via checkCalibrationFits) when the calibration is of another observer or its categories
 * differ from the run's taxonomy; softer mismatches become warnings.
 */
export function applyCalibration(
  summary: RunSummary,
  events: readonly MeasuredEvent[],
  cal: Calibration,
  source: string,
  taxonomy: Taxonomy,
  observerOptions?: Record<string, unknown>,
): RunSummary {
  const warnings = checkCalibrationFits(cal, fitsObserver(cal, summary.observer), taxonomy, source, observerOptions);
  if (cal.labels.domain && cal.labels.domain !== "generated images" && summary.provider !== AUDIT_PROVIDER) {
    warnings.push(`the calibration was measured on ${cal.labels.domain}, this run's images are generated: calibrate in the domain you measure`);
  }
  const kept = events.filter((e): e is MeasuredAttempt => e.type === "attempt" && e.decision === "kept").sort((a, b) => a.i - b.i);
  const images = kept.map((e) => observedImage(e.observation));
  const attrs = Object.keys(summary.attributes);
  const corrected = correctDistributions(cal, attrs, images);
  const notCovered: Record<string, string> = {};
  const attributes = { ...summary.attributes };
  for (const a of attrs) {
    const c = corrected[a];
    if (!c) {
      const cov = coverage(cal, a);
      if (!cov.ok && (cal.attributes[a] || summary.attributes[a]!.controlled)) notCovered[a] = cov.reason;
      continue;
    }
    const s = summary.attributes[a]!;
    const extra: CorrectedAttribute = { ...c };
    if (s.target) {
      const cats = Object.keys(c.shares);
      const p = cats.map((k) => c.shares[k]!);
      const q = cats.map((k) => s.target![k] ?? 0);
      extra.tv = totalVariation(p, q);
      extra.maxAbsDiff = maxAbsDiff(p, q);
    }
    attributes[a] = { ...s, corrected: extra };
  }
  const use: CalibrationUse = {
    source,
    observer: cal.observer.id,
    labels: `${cal.labels.source} (${cal.labels.images} images)`,
    images: cal.labels.images,
    ...(cal.labels.domain ? { domain: cal.labels.domain } : {}),
    models: cal.observer.models.map((m) => `${m.name}${m.sha256 ? `@${m.sha256}` : ""}`),
    attributes: Object.keys(corrected),
    notCovered,
    warnings,
    matrices: Object.fromEntries(
      Object.values(cal.attributes).map((a) => [
        a.attribute,
        { categories: a.categories, counts: a.counts, n: a.n, accuracy: a.accuracy.value, recall: Object.fromEntries(Object.entries(a.recall).map(([c, r]) => [c, r.value])) },
      ]),
    ),
  };
  return { ...summary, attributes, calibration: use };
}
