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
import { renderPortraitRGBA } from "../src/providers/sim/render.js";
import { fmt, mdTable, median, progress } from "./util.js";

export const FACES_SIZE = 512;
export const FACES_IMAGES = 60;
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
  return [
    { id: "portrait", describe: "screenshot-faceid.jpg, the man's head and shoulders (1 face)", png: await cropPng(path.join(assets, "screenshot-faceid.jpg"), 0, 100, 220, FACES_SIZE), images: FACES_IMAGES },
    { id: "group", describe: "screenshot-facedetect.jpg, its left 560x560 (several faces)", png: await cropPng(path.join(assets, "screenshot-facedetect.jpg"), 0, 60, 560, FACES_SIZE), images: FACES_IMAGES / 5 },
    { id: "sim", describe: "a sim render upscaled (1 cartoon face)", png: simPng, images: FACES_IMAGES },
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
    const input = { result: { image: src.png, mime: "image/png", warnings: [], meta: {} }, request: { kind: "plain" as const }, prompt: "a person" };
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
  return { loadMs, workers, rows };
}

export function facesTable(res: FacesBenchResult): string {
  return mdTable(
    ["image (512x512 PNG)", "persons", `images/s, ${res.workers} worker threads (min-max)`, "images/s, one thread (min-max)", "ms decode", "ms models + skin"],
    res.rows.map((r) => [
      `${r.id}: ${r.describe}`,
      String(r.faces),
      `${fmt(median(r.pooledPerSecond), 2)} (${fmt(Math.min(...r.pooledPerSecond), 2)}-${fmt(Math.max(...r.pooledPerSecond), 2)})`,
      `${fmt(median(r.imagesPerSecond), 2)} (${fmt(Math.min(...r.imagesPerSecond), 2)}-${fmt(Math.max(...r.imagesPerSecond), 2)})`,
      fmt(r.decodeMs, 1),
      fmt(r.modelMs, 1),
    ]),
    ["l", "r", "r", "r", "r", "r"],
  );
}
