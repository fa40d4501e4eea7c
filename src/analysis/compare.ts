import { attributeShift } from "./effects.js";
import type { RunSummary } from "./summary.js";

export interface CrossEffect {
  attribute: string;
  /** TV between this run's distribution of the attribute and the `none` run's. */
  tvVsNone: number;
  /** Normalised entropy of this run minus that of the `none` run (negative = less diverse). */
  entropyChange: number;
}

export interface ComparisonRow {
  policy: string;
  summary: RunSummary;
  /** Side effects on attributes this run did not control, against the `none` run of the same prompt. */
  crossEffects: CrossEffect[];
}

/** Cross-attribute effects of every run against the `none` run of the same prompt (when one is among them). */
export function compareRuns(runs: { label: string; summary: RunSummary }[]): ComparisonRow[] {
  const base = runs.find((r) => r.summary.policy === "none")?.summary;
  return runs.map(({ label, summary }) => {
    const crossEffects: CrossEffect[] = [];
    if (base) {
      for (const [attr, a] of Object.entries(summary.attributes)) {
        if (a.controlled) continue;
        const b = base.attributes[attr];
        if (!b) continue;
        const { tvVsNone, entropyChange } = attributeShift(a.observed, b.observed);
        crossEffects.push({ attribute: attr, tvVsNone, entropyChange });
      }
    }
    return { policy: label, summary, crossEffects };
  });
}
