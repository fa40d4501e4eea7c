import { normalizedEntropy, proportions, totalVariation } from "../core/metrics.js";
import type { RunSummary } from "./summary.js";
import { plainTable } from "./table.js";

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
        const cats = Object.keys(a.observed);
        const p = proportions(cats.map((c) => a.observed[c] ?? 0));
        const q = proportions(cats.map((c) => b.observed[c] ?? 0));
        crossEffects.push({ attribute: attr, tvVsNone: totalVariation(p, q), entropyChange: normalizedEntropy(p) - normalizedEntropy(q) });
      }
    }
    return { policy: label, summary, crossEffects };
  });
}

const f3 = (x: number | null | undefined): string => (x === null || x === undefined ? "-" : x.toFixed(3));

/** Policies side by side: per controlled attribute TV and max |p-q|, exactness, cost, and side effects. */
export function formatComparison(rows: ComparisonRow[]): string {
  const first = rows[0]?.summary;
  if (!first) return "nothing to compare";
  const controlled = Object.values(first.attributes).filter((a) => a.controlled).map((a) => a.attribute);
  const head = ["policy", "kept", "gen/kept", "exact", ...controlled.flatMap((a) => [`TV ${a}`, `max|p-q| ${a}`])];
  const t = plainTable(head);
  for (const r of rows) {
    const s = r.summary;
    t.push([
      r.policy,
      `${s.kept}/${s.n}`,
      s.generationsPerKept === null ? "-" : s.generationsPerKept.toFixed(2),
      s.exact ? "yes" : "no",
      ...controlled.flatMap((a) => [f3(s.attributes[a]?.tv), f3(s.attributes[a]?.maxAbsDiff)]),
    ]);
  }
  const parts = [`prompt ${JSON.stringify(first.prompt)}, N = ${first.n}, seed ${first.seed}`, t.toString()];
  const attrs = [...new Set(rows.flatMap((r) => r.crossEffects.map((c) => c.attribute)))];
  if (attrs.length > 0) {
    const ct = plainTable(["policy", ...attrs.map((a) => `${a}: TV vs none / Δentropy`)]);
    for (const r of rows) {
      ct.push([r.policy, ...attrs.map((a) => {
        const c = r.crossEffects.find((x) => x.attribute === a);
        return c ? `${c.tvVsNone.toFixed(3)} / ${c.entropyChange >= 0 ? "+" : ""}${c.entropyChange.toFixed(3)}` : "-";
      })]);
    }
    parts.push("Side effects on attributes that were not controlled (against the `none` run):", ct.toString());
  }
  parts.push("Run folders:", ...rows.map((r) => `  ${r.policy.padEnd(10)} ${r.summary.runDir}`));
  return parts.join("\n");
}
