import type { ComparisonRow } from "../analysis/compare.js";
import { plainTable } from "./plain-table.js";

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
