/**
 * Held-out test of the corrected estimate on real labelled photographs: calibrate `faces` on one half of the
 * FairFace 540 set (stratified: 15 images per age group x gender), then take the other half, subsample it to
 * 25 % and 75 % women (without replacement: all 135 of the majority gender, 45 of the other), and compare the
 * raw female share (among images whose gender was read) and the corrected share with the truth. Repeated over
 * seeded splits. The observations of the 540 images are cached (bench-out/fairface-540-faces.json) so the
 * slow observer runs once.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildCalibration, observedImage } from "../src/calibration/build.js";
import { correctDistributions } from "../src/calibration/correct.js";
import { mapLabelRows, parseJsonLabels, type LabelSet } from "../src/calibration/labels.js";
import type { Observation } from "../src/core/request.js";
import { Rng } from "../src/core/rng.js";
import { builtinTaxonomy } from "../src/core/taxonomy.js";
import { packageRoot } from "../src/util/paths.js";
import { observeFolder } from "./observe-folder.js";
import { fmt, mdTable, mean, progress } from "./util.js";

export const FAIRFACE_DIR = process.env.DEBIASPI_FAIRFACE ?? join(packageRoot(), "..", "shared", "data", "fairface-540");
export const HELDOUT_SPLITS = 20;
export const HELDOUT_SHARES = [0.25, 0.75] as const;

export interface HeldOutRow {
  share: number;
  n: number;
  rawMeanAbsErr: number;
  correctedMeanAbsErr: number;
  /** Splits whose corrected share is within 0.05 of the truth. */
  within005: number;
  /** Splits where the corrected share is closer to the truth than the raw one. */
  closer: number;
  coverage: number;
  meanRaw: number;
  meanCorrected: number;
  splits: number;
}

export async function fairfaceObservations(): Promise<{ labels: LabelSet; observations: Observation[] } | undefined> {
  const gtFile = join(FAIRFACE_DIR, "ground_truth.json");
  if (!existsSync(gtFile)) return undefined;
  const tax = builtinTaxonomy();
  const labels = mapLabelRows(parseJsonLabels(readFileSync(gtFile, "utf8"), gtFile), tax, gtFile);
  const cacheFile = join(packageRoot(), "bench-out", "fairface-540-faces.json");
  let cache = existsSync(cacheFile) ? (JSON.parse(readFileSync(cacheFile, "utf8")) as { files: Record<string, Observation> }) : undefined;
  if (!cache || labels.images.some((i) => !cache!.files[i.file])) {
    progress(`calibration: observing ${labels.images.length} FairFace images with faces (cached in ${cacheFile})`);
    cache = await observeFolder(FAIRFACE_DIR, "faces", cacheFile);
  }
  return { labels, observations: labels.images.map((i) => cache!.files[i.file]!) };
}

function subset(labels: LabelSet, idx: readonly number[]): LabelSet {
  return { ...labels, images: idx.map((i) => labels.images[i]!) };
}

export async function heldOutBench(): Promise<HeldOutRow[] | undefined> {
  const data = await fairfaceObservations();
  if (!data) return undefined;
  const { labels, observations } = data;
  const tax = builtinTaxonomy();
  const strata = new Map<string, number[]>();
  labels.images.forEach((img, i) => {
    const key = `${img.groups.age}|${img.truth.gender}`;
    strata.set(key, [...(strata.get(key) ?? []), i]);
  });
  const acc = HELDOUT_SHARES.map(() => ({ raw: [] as number[], cor: [] as number[], errRaw: [] as number[], errCor: [] as number[], within: 0, closer: 0, covered: 0, n: 0 }));
  for (let s = 0; s < HELDOUT_SPLITS; s++) {
    const rng = new Rng(9001 + s);
    const calIdx: number[] = [];
    const testIdx: number[] = [];
    for (const idx of strata.values()) {
      const sh = rng.shuffle(idx);
      calIdx.push(...sh.slice(0, Math.floor(sh.length / 2)));
      testIdx.push(...sh.slice(Math.floor(sh.length / 2)));
    }
    const cal = buildCalibration({
      labels: subset(labels, calIdx),
      observations: calIdx.map((i) => observations[i]!),
      sees: ["gender", "age", "skin_tone"],
      taxonomy: tax,
      observer: { id: "faces", options: {}, models: [] },
      source: "ground_truth.json (calibration half)",
      folder: FAIRFACE_DIR,
      rows: calIdx.length,
      createdAt: new Date(0).toISOString(),
      version: "bench",
    });
    const women = rng.shuffle(testIdx.filter((i) => labels.images[i]!.truth.gender === "female"));
    const men = rng.shuffle(testIdx.filter((i) => labels.images[i]!.truth.gender === "male"));
    HELDOUT_SHARES.forEach((share, k) => {
      const major = share >= 0.5 ? women : men;
      const minor = share >= 0.5 ? men : women;
      const m = Math.round((major.length * Math.min(share, 1 - share)) / Math.max(share, 1 - share));
      const idx = [...major, ...minor.slice(0, m)];
      const truth = idx.filter((i) => labels.images[i]!.truth.gender === "female").length / idx.length;
      const obs = idx.map((i) => observedImage(observations[i]));
      const read = obs.filter((o) => o.labels?.gender);
      const raw = read.filter((o) => o.labels!.gender === "female").length / read.length;
      const c = correctDistributions(cal, ["gender"], obs, 17 + s).gender!;
      const cor = c.shares.female!;
      const a = acc[k]!;
      a.n = idx.length;
      a.raw.push(raw);
      a.cor.push(cor);
      a.errRaw.push(Math.abs(raw - truth));
      a.errCor.push(Math.abs(cor - truth));
      if (Math.abs(cor - truth) <= 0.05) a.within += 1;
      if (Math.abs(cor - truth) < Math.abs(raw - truth)) a.closer += 1;
      const [lo, hi] = c.intervals.female!;
      if (lo <= truth && truth <= hi) a.covered += 1;
    });
    progress(`calibration: held-out split ${s + 1}/${HELDOUT_SPLITS}`);
  }
  return HELDOUT_SHARES.map((share, k) => {
    const a = acc[k]!;
    return {
      share,
      n: a.n,
      rawMeanAbsErr: mean(a.errRaw),
      correctedMeanAbsErr: mean(a.errCor),
      within005: a.within,
      closer: a.closer,
      coverage: a.covered,
      meanRaw: mean(a.raw),
      meanCorrected: mean(a.cor),
      splits: HELDOUT_SPLITS,
    };
  });
}

export function heldOutTable(rows: readonly HeldOutRow[]): string {
  return mdTable(
    ["true female share", "held-out images", "mean raw share", "mean corrected share", "mean abs(raw - truth)", "mean abs(corrected - truth)", "corrected within 0.05", "corrected closer than raw", "95 % interval covers truth"],
    rows.map((r) => [
      fmt(r.share, 2),
      String(r.n),
      fmt(r.meanRaw),
      fmt(r.meanCorrected),
      fmt(r.rawMeanAbsErr),
      fmt(r.correctedMeanAbsErr),
      `${r.within005}/${r.splits}`,
      `${r.closer}/${r.splits}`,
      `${r.coverage}/${r.splits}`,
    ]),
  );
}

if (process.argv[1]?.endsWith("calibration-heldout.js")) {
  const rows = await heldOutBench();
  process.stdout.write(rows ? `${heldOutTable(rows)}\n` : `no FairFace data at ${FAIRFACE_DIR}\n`);
}
