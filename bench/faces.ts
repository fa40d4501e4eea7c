/**
 * Throughput of the `faces` observer on this machine: steady-state images per second at 512x512, the model
 * load time apart. Inputs are PNG-encoded 512x512 images (what a provider hands the observer): crops of the
 * sample photographs shipped inside human's npm package, resampled to 512x512, and simulated renders
 * upscaled to 512x512.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { builtinTaxonomy } from "../src/core/taxonomy.js";
import { closeFaceWorkers, createFacesObserver, defaultFaceWorkers, loadFaceModels, measureFaces } from "../src/observers/faces.js";
import { decodeImage, type RgbaImage } from "../src/observers/skin-tone.js";
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

/** Bilinear resample of a region of an RGBA image to size x size. */
function resample(img: RgbaImage, x0: number, y0: number, w: number, h: number, size: number): RgbaImage {
  const out = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(img.height - 1.001, y0 + ((y + 0.5) * h) / size - 0.5);
    const yi = Math.max(0, Math.floor(sy));
    const fy = Math.max(0, sy - yi);
    for (let x = 0; x < size; x++) {
      const sx = Math.min(img.width - 1.001, x0 + ((x + 0.5) * w) / size - 0.5);
      const xi = Math.max(0, Math.floor(sx));
      const fx = Math.max(0, sx - xi);
      for (let c = 0; c < 4; c++) {
        const at = (xx: number, yy: number): number => img.data[4 * (yy * img.width + xx) + c]!;
        const top = at(xi, yi) * (1 - fx) + at(xi + 1, yi) * fx;
        const bottom = at(xi, yi + 1) * (1 - fx) + at(xi + 1, yi + 1) * fx;
        out[4 * (y * size + x) + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { width: size, height: size, data: out };
}

function encodePng(img: RgbaImage): Uint8Array {
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data);
  return new Uint8Array(PNG.sync.write(png));
}

function sources(): Source[] {
  const require = createRequire(import.meta.url);
  const assets = path.resolve(path.dirname(require.resolve("@vladmandic/human")), "..", "assets");
  const photo = (name: string): RgbaImage => {
    const img = jpeg.decode(readFileSync(path.join(assets, name)), { useTArray: true, formatAsRGBA: true });
    return { width: img.width, height: img.height, data: img.data };
  };
  const faceid = photo("screenshot-faceid.jpg");
  const group = photo("screenshot-facedetect.jpg");
  const sim = renderPortraitRGBA({ skinTone: 6, gender: "female", seed: 11 });
  return [
    { id: "portrait", describe: "screenshot-faceid.jpg, the man's head and shoulders (1 face)", png: encodePng(resample(faceid, 0, 100, 220, 220, FACES_SIZE)), images: FACES_IMAGES },
    { id: "group", describe: "screenshot-facedetect.jpg, its left 560x560 (several faces)", png: encodePng(resample(group, 0, 60, 560, 560, FACES_SIZE)), images: FACES_IMAGES / 5 },
    { id: "sim", describe: "a sim render upscaled (1 cartoon face)", png: encodePng(resample(sim, 0, 0, sim.width, sim.height, FACES_SIZE)), images: FACES_IMAGES },
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
  for (const src of sources()) {
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
      const img = decodeImage(src.png);
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
