/** Terminal tables of a calibration: confusion matrix, accuracy and recall with intervals, per-group accuracy. */
import type { Calibration } from "../calibration/schema.js";
import { observedColumns } from "../calibration/confusion.js";
import type { RunSummary } from "../analysis/summary.js";
import { plainTable } from "./plain-table.js";

type Rate = Calibration["attributes"][string]["accuracy"];

const pct = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? "n/a" : `${(100 * x).toFixed(0)} %`);
const rateText = (r: Rate): string => `${pct(r.value)} [${pct(r.interval[0])}, ${pct(r.interval[1])}] of ${r.n}`;

/** Observers that find something narrower than a person, and fall back to a whole-image estimate without it. */
const FINDS: Record<string, { noun: string; fallback: string }> = { faces: { noun: "face", fallback: "whole-image fallback" } };

/**
 * How often the observer found someone itself, fell back, or returned nobody: faces counts faces found, as the
 * faces bench does (BENCHMARKS.md section 5), not its whole-image skin fallback. Calibrations made before the two
 * were counted apart only know that something was returned, and say so.
 */
function foundText(observer: string, a: Calibration["attributes"][string]): string {
  const finds = FINDS[observer] ?? { noun: "person", fallback: "fallback" };
  if (a.foundRate === undefined || a.fallbackRate === undefined) return `${finds.noun} or ${finds.fallback} returned ${pct(a.detectionRate)}`;
  const nothing = a.detectionRate === null ? null : 1 - a.detectionRate;
  const fallback = FINDS[observer] !== undefined || (a.fallbackRate ?? 0) > 0 ? `; ${finds.fallback} ${pct(a.fallbackRate)} (no ${finds.noun} found)` : "";
  return `${finds.noun} found ${pct(a.foundRate)}${fallback}; nothing ${pct(nothing)}`;
}

export function formatCalibration(cal: Calibration): string {
  const out: string[] = [];
  const models = cal.observer.models.map((m) => `${m.name}${m.sha256 ? ` ${m.sha256}` : ""}`).join(", ");
  out.push(
    `calibration of observer ${cal.observer.id}${cal.observer.library ? ` (${cal.observer.library}${models ? `; ${models}` : ""})` : ""}`,
    `labels: ${cal.labels.source}, ${cal.labels.images} images of ${cal.labels.folder}; taxonomy ${cal.taxonomy.fingerprint}`,
  );
  for (const a of Object.values(cal.attributes)) {
    out.push("", `${a.attribute}: accuracy ${rateText(a.accuracy)}; when read ${rateText(a.accuracyWhenRead)}; unknown ${pct(a.unknownRate)}; ${foundText(cal.observer.id, a)}`);
    const left = cal.labels.leftOut[a.attribute];
    if (left && Object.keys(left).length > 0) {
      const n = Object.values(left).reduce((x, y) => x + y, 0);
      out.push(`  ${n} labels left out: they lie in no single ${a.attribute} bin (${Object.entries(left).map(([v, c]) => `${v}: ${c}`).join(", ")})`);
    }
    const m = plainTable(["true \\ observed", ...observedColumns(a.categories), "recall [95 %]"]);
    a.categories.forEach((c, i) => m.push([c, ...a.counts[i]!.map(String), rateText(a.recall[c]!)]));
    out.push(m.toString());
    if (a.groups.length > 0) {
      const g = plainTable(["group", "value", "n", `${a.attribute} accuracy [95 %]`, "unknown", "no person"]);
      for (const row of a.groups) g.push([row.group, row.value, String(row.n), `${pct(row.accuracy.value)} [${pct(row.accuracy.interval[0])}, ${pct(row.accuracy.interval[1])}]`, pct(row.unknown), pct(row.missed)]);
      out.push(g.toString());
    }
  }
  return out.join("\n");
}

/** Raw beside corrected shares of every attribute a calibration corrected, with the calibration's warnings. */
export function correctedText(s: RunSummary): string {
  const use = s.calibration;
  if (!use) return "";
  const parts: string[] = [`Corrected for ${use.observer}'s errors with ${use.source} (${use.labels}${use.domain ? `, ${use.domain}` : ""})`];
  for (const w of use.warnings) parts.push(`  warning: ${w}`);
  for (const [a, why] of Object.entries(use.notCovered)) parts.push(`  ${a}: not corrected (${why})`);
  for (const a of Object.values(s.attributes)) {
    const c = a.corrected;
    if (!c) continue;
    const known = Object.values(a.observed).reduce((x, y) => x + y, 0);
    const head = a.target ? ["category", "target", "raw share", "corrected", "95% interval"] : ["category", "raw share", "corrected", "95% interval"];
    const t = plainTable(head);
    for (const cat of Object.keys(c.shares)) {
      const raw = known > 0 ? (a.observed[cat] ?? 0) / known : Number.NaN;
      const iv = c.intervals[cat]!;
      const row = [cat, pct(raw), pct(c.shares[cat]), `${pct(iv[0])} - ${pct(iv[1])}`];
      t.push(a.target ? [cat, pct(a.target[cat] ?? 0), ...row.slice(1)] : row);
    }
    const dist = c.tv !== undefined ? `  corrected TV ${c.tv.toFixed(3)}  max|p-q| ${c.maxAbsDiff!.toFixed(3)} (raw TV ${a.tv?.toFixed(3) ?? "-"})` : "";
    parts.push(`${a.label} · ${a.attribute} (raw over ${known} read, corrected over ${c.n} images, unknowns and misses included)\n${t.toString()}${dist ? `\n${dist}` : ""}`);
  }
  return `\n\n${parts.join("\n")}`;
}
