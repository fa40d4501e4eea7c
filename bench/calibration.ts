/**
 * Section `calibration`: steering under observer error, on the simulated model. The `simulated` observer draws
 * every observation from a calibration's confusion matrix given what `sim` really rendered, so a run steered on
 * raw labels and one steered on the corrected estimate (src/calibration/tally.ts) can be compared with the
 * truth. Gender: the calibration of `faces` measured on the 540 FairFace photographs. Race: a hand-built
 * calibration (no pixel observer here sees race), documented in HAND_RACE below.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../src/api.js";
import { buildCalibration } from "../src/calibration/build.js";
import { rate } from "../src/calibration/confusion.js";
import type { Calibration } from "../src/calibration/schema.js";
import { maxAbsDiff, totalVariation } from "../src/core/metrics.js";
import { builtinTaxonomy, getAttribute } from "../src/core/taxonomy.js";
import type { AttemptEvent } from "../src/store/events.js";
import { RunFolder } from "../src/store/run-folder.js";
import { FAIRFACE_DIR, fairfaceObservations, HELDOUT_SPLITS, heldOutBench, heldOutTable } from "./calibration-heldout.js";
import { fmt, mdTable, mean, progress } from "./util.js";

export const CAL_SIZES = [50, 100, 400] as const;
export const CAL_SEEDS = 10;
export const CAL_PROMPT = "a photo of the face of a software developer";

/**
 * The hand-built race calibration: 100 imagined labelled faces per group; 70 read right, 10 unknown, 20 read
 * as the neighbouring groups below (the confusions published for FairFace-style classifiers: Latino and
 * Middle Eastern with White, East and Southeast Asian with each other, Indian with Middle Eastern and
 * Southeast Asian). Assumed, not measured.
 */
export const HAND_RACE: Record<string, Record<string, number>> = {
  white: { white: 70, latino_hispanic: 10, middle_eastern: 10 },
  black: { black: 75, latino_hispanic: 10, indian: 5 },
  latino_hispanic: { latino_hispanic: 55, white: 25, middle_eastern: 10 },
  east_asian: { east_asian: 70, southeast_asian: 20 },
  southeast_asian: { southeast_asian: 55, east_asian: 25, indian: 10 },
  indian: { indian: 65, middle_eastern: 15, southeast_asian: 10 },
  middle_eastern: { middle_eastern: 55, white: 25, indian: 10 },
};

function handRace(): Calibration["attributes"][string] {
  const cats = getAttribute(builtinTaxonomy(), "race").categories.map((c) => c.id);
  const counts = cats.map((t) => [...cats.map((o) => HAND_RACE[t]![o] ?? 0), 10, 0]);
  const n = counts.flat().reduce((a, b) => a + b, 0);
  const right = cats.reduce((s, _, i) => s + counts[i]![i]!, 0);
  return {
    attribute: "race",
    categories: cats,
    counts,
    n,
    accuracy: rate(right, n),
    accuracyWhenRead: rate(right, n - 10 * cats.length),
    recall: Object.fromEntries(cats.map((c, i) => [c, rate(counts[i]![i]!, 100)])),
    unknownRate: 0.1,
    detectionRate: 1,
    groups: [],
  };
}

/** faces on the 540 FairFace photographs (cached observations), plus the hand-built race rows. */
export async function benchCalibration(): Promise<Calibration | undefined> {
  const data = await fairfaceObservations();
  if (!data) return undefined;
  const cal = buildCalibration({
    labels: data.labels,
    observations: data.observations,
    sees: ["gender", "age", "skin_tone"],
    taxonomy: builtinTaxonomy(),
    observer: { id: "faces", options: {}, models: [] },
    source: "fairface-540/ground_truth.json",
    folder: "fairface-540",
    rows: data.labels.images.length,
    domain: "photographs",
    createdAt: new Date(0).toISOString(),
    version: "bench",
  });
  // Steering measured on age is out of scope here; keep gender (measured) and race (hand-built).
  return { ...cal, attributes: { gender: cal.attributes.gender!, race: handRace() } };
}

export interface SteerCell {
  target: string;
  steer: "raw" | "corrected";
  n: number;
  truthTv: number[];
  truthMax: number[];
  /** |p - q| of the female share in the truth (gender target). */
  femaleErr: number[];
  gpk: number[];
  complete: number;
}

const TARGETS: { id: string; label: string; settings: { attributes?: string[]; joint?: string[][] } }[] = [
  { id: "gender", label: "gender uniform", settings: { attributes: ["gender"] } },
  { id: "race+gender", label: "race x gender uniform (14 cells)", settings: { joint: [["race", "gender"]] } },
];

export async function calibrationBench(): Promise<{ cells: SteerCell[]; cal: Calibration } | undefined> {
  const cal = await benchCalibration();
  if (!cal) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "debiaspi-calbench-"));
  const calFile = join(dir, "cal.json");
  writeFileSync(calFile, JSON.stringify(cal));
  const cells: SteerCell[] = [];
  try {
    for (const t of TARGETS) {
      for (const n of CAL_SIZES) {
        for (const steer of ["raw", "corrected"] as const) {
          const cell: SteerCell = { target: t.id, steer, n, truthTv: [], truthMax: [], femaleErr: [], gpk: [], complete: 0 };
          for (let s = 0; s < CAL_SEEDS; s++) {
            const out = await run(
              { prompt: CAL_PROMPT, n, ...t.settings, policy: "debiaspi", provider: "sim", observer: "simulated", calibration: calFile, steer, seed: 7919 * (s + 1) + n, concurrency: 1, out: dir, sim: { render: false } },
              {},
            );
            const folder = RunFolder.load(out.summary.runDir);
            const kept = folder.events.filter((e): e is AttemptEvent => e.type === "attempt" && e.decision === "kept");
            const attrs = t.id === "gender" ? ["gender"] : ["race", "gender"];
            const tax = builtinTaxonomy();
            const cats = attrs.map((a) => getAttribute(tax, a).categories.map((c) => c.id));
            const cellsOf: string[][] = cats.reduce<string[][]>((acc, cs) => acc.flatMap((p) => cs.map((c) => [...p, c])), [[]]);
            const counts = cellsOf.map(() => 0);
            for (const e of kept) {
              const truth = e.meta?.truth as Record<string, string>;
              const k = cellsOf.findIndex((cell) => cell.every((c, i) => truth[attrs[i]!] === c));
              if (k >= 0) counts[k]! += 1;
            }
            const p = counts.map((c) => c / Math.max(1, kept.length));
            const q = cellsOf.map(() => 1 / cellsOf.length);
            cell.truthTv.push(totalVariation(p, q));
            cell.truthMax.push(maxAbsDiff(p, q));
            const female = kept.filter((e) => (e.meta?.truth as Record<string, string>).gender === "female").length / Math.max(1, kept.length);
            cell.femaleErr.push(Math.abs(female - 0.5));
            cell.gpk.push(out.summary.generationsPerKept ?? Number.NaN);
            if (out.summary.status === "complete") cell.complete += 1;
            rmSync(out.summary.runDir, { recursive: true, force: true });
          }
          cells.push(cell);
          progress(`calibration: ${t.id} N=${n} steer ${steer}: truth TV ${fmt(mean(cell.truthTv))}, |female - 0.5| ${fmt(mean(cell.femaleErr))}, gen/kept ${fmt(mean(cell.gpk), 2)}`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { cells, cal };
}

export function calibrationSteerTable(cells: readonly SteerCell[]): string {
  return mdTable(
    ["target", "N", "steered on", "truth TV (mean)", "truth max abs(p-q) (mean)", "truth abs(female - 0.5) (mean, worst)", "gen/kept (mean)", "complete"],
    cells.map((c) => [
      c.target,
      String(c.n),
      c.steer === "raw" ? "raw labels" : "corrected estimate",
      fmt(mean(c.truthTv)),
      fmt(mean(c.truthMax)),
      `${fmt(mean(c.femaleErr))}, ${fmt(Math.max(...c.femaleErr))}`,
      fmt(mean(c.gpk), 2),
      `${c.complete}/${c.truthTv.length}`,
    ]),
    ["l", "r", "l", "r", "r", "r", "r", "r"],
  );
}

if (process.argv[1]?.endsWith("calibration.js")) {
  const res = await calibrationBench();
  process.stdout.write(res ? `${calibrationSteerTable(res.cells)}\n` : "no FairFace data\n");
}

/** The Markdown of the section: held-out correction on real photographs, then steering under simulated observer error. */
export async function calibrationSection(): Promise<string> {
  const held = await heldOutBench();
  const res = await calibrationBench();
  if (!held || !res) return `## 9. Calibration\n\nSkipped: no FairFace data at ${FAIRFACE_DIR} (set DEBIASPI_FAIRFACE).\n`;
  const g = res.cal.attributes.gender!;
  const at100 = (steer: string): SteerCell => res.cells.find((c) => c.target === "gender" && c.n === 100 && c.steer === steer)!;
  const raw = mean(at100("raw").femaleErr);
  const cor = mean(at100("corrected").femaleErr);
  return `## 9. Calibration: correcting for the observer's errors

### Held-out test on real photographs

\`faces\` observations of the 540 FairFace photographs (CC BY 4.0; Karkkainen and Joo, WACV 2021), cached in
bench-out/fairface-540-faces.json. Each of ${HELDOUT_SPLITS} seeded splits calibrates on one half (15 images per age group x gender)
and measures the other half, subsampled without replacement to 25 % and 75 % women (all 135 images of the majority
gender, 45 of the other). *raw share*: female share among images whose gender \`faces\` read (what \`audit\` reports).
*corrected*: the EM maximum-likelihood estimate (docs/calibration.md) with unknowns modelled.

${heldOutTable(held)}

### Steering under observer error (simulated observer)

Calibration: \`faces\` gender on all 540 FairFace photographs (women read right ${fmt(100 * (g.recall.female!.value ?? Number.NaN), 0)} %, men ${fmt(100 * (g.recall.male!.value ?? Number.NaN), 0)} %;
counts ${JSON.stringify(g.counts)} for female, male over columns female, male, unknown, none), plus the hand-built race
rows of bench/calibration.ts (HAND_RACE: 55-75 % right, 10 % unknown, the rest to neighbouring groups; assumed, not
measured). \`--provider sim --observer simulated --calibration cal.json\`, \`sim: { render: false }\`, debiaspi direct,
overflow discard, concurrency 1, ${CAL_SEEDS} seeds per row, prompt "${CAL_PROMPT}". *truth*: what sim really rendered in the
kept images. *steered on raw labels*: \`--steer raw\` (bins filled by the observed labels); *corrected estimate*: the
default with a calibration (posterior counts, src/calibration/tally.ts).

${calibrationSteerTable(res.cells)}

Gender at N = 100: truth abs(female share - 0.5) ${fmt(cor)} steered on the corrected estimate against ${fmt(raw)} on raw labels
(goal: <= 0.05 where raw is not: ${cor <= 0.05 && raw > 0.05 ? "PASS" : "**FAIL**"}).
`;
}
