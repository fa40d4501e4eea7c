/**
 * Throughput of the `faces` observer on this machine: steady-state images per second at 512x512, the model
 * load time apart. Inputs are PNG-encoded 512x512 images (what a provider hands the observer): crops of the
 * sample photographs shipped inside human's npm package, resampled to 512x512, and simulated renders
 * upscaled to 512x512.
 */
import { createRequire } from "node:module";
import path from "node:path";
import sharp from "sharp";
import { builtinTaxonomy } from "../src/core/taxonomy.js";
import { decodeImage } from "../src/image/decode.js";
import { FACES_MAX_SIDE, closeFaceWorkers, createFacesObserver, defaultFaceWorkers, loadFaceModels, measureFaces } from "../src/observers/faces.js";
import { skinToneObserver } from "../src/observers/skin-tone.js";
import { renderPortraitRGBA } from "../src/image/portrait.js";
import { fmt, mdTable, median, progress } from "./util.js";

export const FACES_SIZE = 512;
export const FACES_IMAGES = 24;
export const FACES_REPS = 3;

interface Source {
  id: string;
  describe: string;
  png: Uint8Array;
  /** Images per repetition: fewer for the slow many-face image, to keep the bench short. */
  images: number;
}

/** A region of a photo resampled to size x size, as PNG (sharp). */
async function cropPng(file: string, left: number, top: number, side: number, size: number): Promise<Uint8Array> {
  return new Uint8Array(await sharp(file).extract({ left, top, width: side, height: side }).resize(size, size).png().toBuffer());
}

/** Pixels of the "large photo" inputs: 1.8 MP, the top of the range issue 14 measured (0.6-1.8 MP photos). */
export const PHOTO_PIXELS = 1.8e6;

/**
 * The same photograph as a 1.8 MP JPEG and as a JPEG of 512 px on the long side (screenshot-faceid.jpg,
 * 800x564, resampled up by sharp: what matters for the cost is the pixel count the observer is handed).
 */
async function photoSizes(file: string): Promise<{ id: string; describe: string; bytes: Uint8Array }[]> {
  const meta = await sharp(file).metadata();
  const scale = Math.sqrt(PHOTO_PIXELS / (meta.width * meta.height));
  const w = Math.round(meta.width * scale);
  const h = Math.round(meta.height * scale);
  const big = new Uint8Array(await sharp(file).resize(w, h).jpeg({ quality: 90 }).toBuffer());
  const small = new Uint8Array(await sharp(file).resize(512, 512, { fit: "inside" }).jpeg({ quality: 90 }).toBuffer());
  const sm = await sharp(small).metadata();
  return [
    { id: "photo-1.8MP", describe: `screenshot-faceid.jpg as a ${w}x${h} JPEG`, bytes: big },
    { id: "photo-512", describe: `the same photo as a ${sm.width}x${sm.height} JPEG`, bytes: small },
  ];
}

export interface SkinBenchRow {
  id: string;
  describe: string;
  /** skin-tone observe() calls per second, per repetition. */
  perSecond: number[];
}

/** The `skin-tone` observer on the same photo at 1.8 MP and at 512 px: images per second, median of reps. */
export async function skinToneBench(): Promise<SkinBenchRow[]> {
  const require = createRequire(import.meta.url);
  const faceid = path.resolve(path.dirname(require.resolve("@vladmandic/human")), "..", "assets", "screenshot-faceid.jpg");
  const tax = builtinTaxonomy();
  const rows: SkinBenchRow[] = [];
  for (const p of await photoSizes(faceid)) {
    const input = { result: { image: p.bytes, mime: "image/jpeg", warnings: [], meta: {} }, request: { kind: "plain" as const }, prompt: "" };
    for (let i = 0; i < 3; i++) await skinToneObserver.observe(input, tax);
    const perSecond: number[] = [];
    for (let r = 0; r < FACES_REPS; r++) {
      const t = performance.now();
      for (let i = 0; i < SKIN_IMAGES; i++) await skinToneObserver.observe(input, tax);
      perSecond.push(SKIN_IMAGES / ((performance.now() - t) / 1000));
    }
    rows.push({ id: p.id, describe: p.describe, perSecond });
    progress(`skin-tone: ${p.id} ${fmt(median(perSecond), 1)} images/s`);
  }
  return rows;
}

export const SKIN_IMAGES = 20;

export function skinToneTable(rows: readonly SkinBenchRow[]): string {
  const base = rows.find((r) => r.id === "photo-512");
  return mdTable(
    ["image", "images/s (min-max)", "time per image vs 512 px"],
    rows.map((r) => [
      `${r.id}: ${r.describe}`,
      `${fmt(median(r.perSecond), 1)} (${fmt(Math.min(...r.perSecond), 1)}-${fmt(Math.max(...r.perSecond), 1)})`,
      base ? `${fmt(median(base.perSecond) / median(r.perSecond), 2)}x` : "n/a",
    ]),
  );
}

async function sources(): Promise<Source[]> {
  const require = createRequire(import.meta.url);
  const assets = path.resolve(path.dirname(require.resolve("@vladmandic/human")), "..", "assets");
  const sim = renderPortraitRGBA({ skinTone: 6, gender: "female", seed: 11 });
  const simPng = new Uint8Array(
    await sharp(Buffer.from(sim.data.buffer, sim.data.byteOffset, sim.data.byteLength), { raw: { width: sim.width, height: sim.height, channels: 4 } })
      .resize(FACES_SIZE, FACES_SIZE)
      .png()
      .toBuffer(),
  );
  const faceid = path.join(assets, "screenshot-faceid.jpg");
  return [
    ...(await photoSizes(faceid)).map((p): Source => ({ id: p.id, describe: p.describe, png: p.bytes, images: FACES_IMAGES / 3 })),
    { id: "portrait", describe: "512x512 PNG of screenshot-faceid.jpg, the man's head and shoulders (1 face)", png: await cropPng(path.join(assets, "screenshot-faceid.jpg"), 0, 100, 220, FACES_SIZE), images: FACES_IMAGES },
    { id: "group", describe: "512x512 PNG of screenshot-facedetect.jpg, its left 560x560 (several faces)", png: await cropPng(path.join(assets, "screenshot-facedetect.jpg"), 0, 60, 560, FACES_SIZE), images: FACES_IMAGES / 4 },
    { id: "sim", describe: "512x512 PNG of a sim render upscaled (1 cartoon face)", png: simPng, images: FACES_IMAGES },
  ];
}

export interface FacesBenchRow {
  id: string;
  describe: string;
  faces: number;
  /** Whole observe() (PNG decode, detection, age/gender, skin per face) in this thread, one image at a time: images per second, per repetition. */
  imagesPerSecond: number[];
  /** The same with the default worker threads and as many images in flight as threads. */
  pooledPerSecond: number[];
  /** Median ms per image of the models alone (measureFaces on decoded pixels, skin included). */
  modelMs: number;
  /** Median ms per image to decode the PNG. */
  decodeMs: number;
}

export interface FacesBenchResult {
  loadMs: number;
  workers: number;
  rows: FacesBenchRow[];
  skin: SkinBenchRow[];
}

export async function facesBench(): Promise<FacesBenchResult> {
  const tax = builtinTaxonomy();
  const t0 = performance.now();
  await loadFaceModels();
  const loadMs = performance.now() - t0;
  progress(`faces: models loaded in ${fmt(loadMs, 0)} ms`);
  const observer = createFacesObserver({ workers: 0 });
  const workers = defaultFaceWorkers();
  const pooled = createFacesObserver({ workers });
  const rows: FacesBenchRow[] = [];
  for (const src of await sources()) {
    const input = { result: { image: src.png, warnings: [], meta: {} }, request: { kind: "plain" as const }, prompt: "a person" };
    // Warm-up: the first calls compile WASM kernels for this input size.
    let faces = 0;
    for (let i = 0; i < 3; i++) faces = (await observer.observe(input, tax)).persons.length;
    const ips: number[] = [];
    for (let r = 0; r < FACES_REPS; r++) {
      const t = performance.now();
      for (let i = 0; i < src.images; i++) await observer.observe(input, tax);
      ips.push(src.images / ((performance.now() - t) / 1000));
    }
    // Worker threads: warm every thread up, then keep `workers` images in flight.
    await Promise.all(Array.from({ length: 2 * workers }, () => pooled.observe(input, tax)));
    const pooledIps: number[] = [];
    for (let r = 0; r < FACES_REPS; r++) {
      const t = performance.now();
      let issued = 0;
      const lane = async (): Promise<void> => {
        while (issued < src.images) {
          issued++;
          await pooled.observe(input, tax);
        }
      };
      await Promise.all(Array.from({ length: workers }, lane));
      pooledIps.push(src.images / ((performance.now() - t) / 1000));
    }
    const decodeTimes: number[] = [];
    const modelTimes: number[] = [];
    for (let i = 0; i < Math.min(20, src.images); i++) {
      const a = performance.now();
      const img = await decodeImage(src.png, { maxSide: FACES_MAX_SIDE });
      const b = performance.now();
      await measureFaces(img);
      modelTimes.push(performance.now() - b);
      decodeTimes.push(b - a);
    }
    rows.push({ id: src.id, describe: src.describe, faces, imagesPerSecond: ips, pooledPerSecond: pooledIps, modelMs: median(modelTimes), decodeMs: median(decodeTimes) });
    progress(`faces: ${src.id} ${fmt(median(ips), 2)} images/s in one thread, ${fmt(median(pooledIps), 2)} with ${workers} worker threads`);
  }
  await closeFaceWorkers();
  const skin = await skinToneBench();
  return { loadMs, workers, rows, skin };
}

export function facesTable(res: FacesBenchResult): string {
  return mdTable(
    ["image", "persons", `images/s, ${res.workers} worker threads (min-max)`, "images/s, one thread (min-max)", `${res.workers} threads / one`, "ms decode", "ms models + skin"],
    res.rows.map((r) => [
      `${r.id}: ${r.describe}`,
      String(r.faces),
      `${fmt(median(r.pooledPerSecond), 2)} (${fmt(Math.min(...r.pooledPerSecond), 2)}-${fmt(Math.max(...r.pooledPerSecond), 2)})`,
      `${fmt(median(r.imagesPerSecond), 2)} (${fmt(Math.min(...r.imagesPerSecond), 2)}-${fmt(Math.max(...r.imagesPerSecond), 2)})`,
      `${fmt(median(r.pooledPerSecond) / median(r.imagesPerSecond), 2)}x`,
      fmt(r.decodeMs, 1),
      fmt(r.modelMs, 1),
    ]),
    ["l", "r", "r", "r", "r", "r", "r"],
  );
}
