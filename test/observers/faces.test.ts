import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { PNG } from "pngjs";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Observation } from "../../src/core/request.js";
import { MONK_RGB, renderPortrait } from "../../src/image/portrait.js";
import { getObserver } from "../../src/observers/index.js";
import { builtinTaxonomy, getAttribute } from "../../src/core/taxonomy.js";
import {
  ageBin,
  analyseImage,
  closeFaceWorkers,
  looksTight,
  facesWorkerScript,
  createFacesObserver,
  padImage,
  faceSkinMask,
  facesModelInfo,
  measureFaceSkin,
  loadFaceModels,
  observationFromFaces,
  type FaceMeasurement,
} from "../../src/observers/faces.js";

const tax = builtinTaxonomy();
const require = createRequire(import.meta.url);
/** The sample photographs shipped inside the installed human package. */
const ASSETS = path.resolve(path.dirname(require.resolve("@vladmandic/human")), "..", "assets");
const asset = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(ASSETS, name)));

const observer = createFacesObserver();
const look = (image: Uint8Array, mime?: string): Promise<Observation> =>
  observer.observe(
    { result: { image, ...(mime ? { mime } : {}), warnings: [], meta: {} }, request: { kind: "plain" }, prompt: "a person" },
    tax,
  );

function pngBytes(width: number, height: number, pixel: (x: number, y: number) => readonly [number, number, number]): Uint8Array {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      const i = 4 * (y * width + x);
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
      png.data[i + 3] = 255;
    }
  }
  return new Uint8Array(PNG.sync.write(png));
}

describe("faces observer: pure parts", () => {
  it("maps years to the taxonomy's age bins; under 18 has no bin", () => {
    const age = getAttribute(tax, "age");
    expect(ageBin(age, 18)).toBe("18-29");
    expect(ageBin(age, 29.9)).toBe("18-29");
    expect(ageBin(age, 30)).toBe("30-44");
    expect(ageBin(age, 44.5)).toBe("30-44");
    expect(ageBin(age, 45)).toBe("45-64");
    expect(ageBin(age, 64.9)).toBe("45-64");
    expect(ageBin(age, 65)).toBe("65+");
    expect(ageBin(age, 97)).toBe("65+");
    expect(ageBin(age, 17.9)).toBeUndefined();
  });

  it("orders largest face first, nulls weak labels and minors' age, and says so", () => {
    const faces: FaceMeasurement[] = [
      { box: [0, 0, 50, 50], score: 0.9, age: 12, gender: "male", genderProbability: 0.95 },
      { box: [100, 0, 200, 200], score: 0.99, age: 70, gender: "female", genderProbability: 0.55 },
      { box: [300, 0, 80, 80], score: 0.3, age: 40, gender: "male", genderProbability: 0.99 },
    ];
    const obs = observationFromFaces(faces, tax, { minConfidence: 0.6, minFaceScore: 0.5 });
    expect(obs.persons).toEqual([
      { labels: { gender: null, age: "65+", skin_tone: null }, confidence: { gender: 0.55, age: 0.99 } },
      { labels: { gender: "male", age: null, skin_tone: null }, confidence: { gender: 0.95, age: 0.9 } },
    ]);
    expect(obs.note).toMatch(/under 18: no age bin/);
    expect(obs.note).toMatch(/1 weak face/);
    expect(obs.note).toMatch(/human \d+\.\d+\.\d+/);
  });

  it("pads an image with a grey margin and keeps the original at the offset", () => {
    const img = { width: 4, height: 2, data: new Uint8Array(4 * 2 * 4).fill(200) };
    const { image, offset } = padImage(img, 0.25);
    expect([offset, image.width, image.height]).toEqual([1, 6, 4]);
    const at = (x: number, y: number): number[] => Array.from(image.data.subarray(4 * (y * 6 + x), 4 * (y * 6 + x) + 4));
    expect(at(0, 0)).toEqual([128, 128, 128, 255]);
    expect(at(1, 1)).toEqual([200, 200, 200, 200]);
    expect(at(4, 2)).toEqual([200, 200, 200, 200]);
    expect(at(5, 3)).toEqual([128, 128, 128, 255]);
  });

  it("measures skin inside the face outline only, eyes, brows and lips left out", () => {
    // A 100x100 image: blue background, a Monk 3 square face from 20 to 80, with two large "eyes" of
    // Monk 10 colour covering more than half of the face: only the exclusion keeps them out of the median.
    const W = 100;
    const data = new Uint8Array(W * W * 4);
    const eye = (x: number, y: number): boolean => y >= 25 && y < 75 && ((x >= 22 && x < 49) || (x >= 51 && x < 78));
    for (let y = 0; y < W; y++) {
      for (let x = 0; x < W; x++) {
        const face = x >= 20 && x < 80 && y >= 20 && y < 80;
        const rgb = !face ? [40, 90, 200] : eye(x, y) ? MONK_RGB[9]! : MONK_RGB[2]!;
        data.set([rgb[0]!, rgb[1]!, rgb[2]!, 255], 4 * (y * W + x));
      }
    }
    const img = { width: W, height: W, data };
    const silhouette: [number, number][] = [[20, 20], [80, 20], [80, 80], [20, 80]];
    const eyes: [number, number][][] = [
      [[22, 25], [49, 25], [49, 75], [22, 75]],
      [[51, 25], [78, 25], [78, 75], [51, 75]],
    ];
    const { mask, region } = faceSkinMask(W, W, { silhouette, exclude: eyes });
    expect(region).toEqual({ x: 20, y: 20, width: 61, height: 61 });
    expect(mask.filter((v) => v === 0).length).toBe(60 * 60 - 2 * 27 * 50);
    expect(measureFaceSkin(img, { silhouette, exclude: eyes })).toMatchObject({ monk: 3, pixels: 60 * 60 - 2 * 27 * 50 });
    expect(measureFaceSkin(img, { silhouette, exclude: [] })?.monk).toBe(10);
    expect(measureFaceSkin(img, undefined)).toBeUndefined();
  });

  it("names the library and model versions", () => {
    const info = facesModelInfo();
    console.log("faces model info:", JSON.stringify(info));
    expect(info.version).toMatch(/^3\./);
    expect(info.tfjs).toMatch(/^4\./);
    expect(info.models.map((m) => m.name)).toEqual(["blazeface", "facemesh", "faceres"]);
    for (const m of info.models) expect(m.sha256).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe("faces observer on the sample photographs (real models, WASM)", () => {
  beforeAll(async () => {
    const t = performance.now();
    await loadFaceModels();
    console.log(`face models loaded in ${Math.round(performance.now() - t)} ms`);
  }, 30_000);

  it("one man in screenshot-faceid.jpg: male, 30-64", async () => {
    const obs = await look(asset("screenshot-faceid.jpg"), "image/jpeg");
    console.log("faceid:", obs.note);
    expect(obs.persons).toHaveLength(1);
    const p = obs.persons[0]!;
    expect(p.labels.gender).toBe("male");
    expect(["30-44", "45-64"]).toContain(p.labels.age);
    expect(p.confidence?.gender).toBeGreaterThan(0.8);
  });

  it("the same photo as PNG gives the same answer", async () => {
    const obs = await look(new Uint8Array(await sharp(asset("screenshot-faceid.jpg")).png().toBuffer()));
    expect(obs.persons).toHaveLength(1);
    expect(obs.persons[0]!.labels).toMatchObject({ gender: "male", age: expect.stringMatching(/^(30-44|45-64)$/) });
  });

  it("five large face crops in screenshot-facedetect.jpg: four women and a man", async () => {
    const obs = await look(asset("screenshot-facedetect.jpg"));
    console.log("facedetect:", obs.note);
    // The five 150 px crops in a row, plus a small face in a thumbnail strip above them.
    expect(obs.persons.length).toBeGreaterThanOrEqual(5);
    expect(obs.persons.length).toBeLessThanOrEqual(7);
    const big = obs.persons.slice(0, 5);
    const genders = big.map((p) => p.labels.gender);
    // The four women are labelled female; the man is male or unknown (the model is unsure on this crop), never female.
    expect(genders.filter((g) => g === "female")).toHaveLength(4);
    expect(genders.filter((g) => g === "male" || g === null)).toHaveLength(1);
    for (const p of big) expect(["18-29", "30-44"]).toContain(p.labels.age);
  });

  it("an image without a face or skin has no person", async () => {
    const obs = await look(pngBytes(256, 256, () => [40, 90, 200]), "image/png");
    expect(obs.persons).toEqual([]);
    expect(obs.note).toMatch(/^no face detected/);
  });

  it("without a face, skin tone falls back to whole-image segmentation: one person, skin tone only", async () => {
    const obs = await look(pngBytes(256, 256, (x) => (x < 128 ? MONK_RGB[5]! : [40, 90, 200])), "image/png");
    expect(obs.persons).toEqual([{ labels: { gender: null, age: null, skin_tone: "monk_6" }, confidence: { skin_tone: expect.any(Number) } }]);
    expect(obs.note).toMatch(/no face detected; skin tone from whole-image segmentation: monk 6/);
    const off = await createFacesObserver({ skinFallback: false }).observe(
      { result: { image: pngBytes(64, 64, () => MONK_RGB[5]!), warnings: [], meta: {} }, request: { kind: "plain" }, prompt: "x" },
      tax,
    );
    expect(off.persons).toEqual([]);
  });

  it("finds the face in a simulated render and reads its rendered Monk level", async () => {
    const found: string[] = [];
    let right = 0;
    const levels = [1, 3, 5, 7, 10];
    for (const level of levels) {
      const png = renderPortrait({ skinTone: level, seed: level });
      const obs = await look(png, "image/png");
      found.push(`monk ${level}: ${obs.note}`);
      if (obs.persons[0]?.labels.skin_tone === `monk_${level}`) right++;
    }
    console.log("sim renders:\n" + found.join("\n"));
    expect(right).toBe(levels.length);
  });

  it("garbage or truncated bytes are a failed observation (error set), never an empty one", async () => {
    const garbage = await look(new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]), "image/png");
    expect(garbage.persons).toEqual([]);
    expect(garbage.note).toMatch(/could not read the image/);
    expect(garbage.error).toMatch(/could not read the image .*accepted: JPEG, PNG, WebP, AVIF, TIFF, GIF/);
    const truncated = asset("screenshot-faceid.jpg").slice(0, 2000);
    const broken = await look(truncated, "image/jpeg");
    expect(broken.persons).toEqual([]);
    expect(broken.error).toMatch(/could not (read|decode)/);
    const empty = await look(new Uint8Array(0));
    expect(empty.persons).toEqual([]);
    expect(empty.note).toMatch(/no image/);
  });
});

describe("faces on FairFace photographs: formats, orientation and tight crops", () => {
  const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "fairface");
  const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(FIXTURES, name)));
  const inThread = createFacesObserver({ workers: 0 });
  const see = (image: Uint8Array, o = inThread): Promise<Observation> =>
    o.observe({ result: { image, warnings: [], meta: {} }, request: { kind: "plain" }, prompt: "a person" }, tax);
  /** "#1 female 0.95, age 24, ... at 120,103 220x220": the box of the first face. */
  const boxOf = (o: Observation): number[] => /at (-?\d+),(-?\d+) (\d+)x(\d+)/.exec(o.note ?? "")!.slice(1).map(Number);

  it("a lossless WebP and an EXIF-rotated JPEG (orientation 6) are observed like the upright JPEG", async () => {
    for (const [name, gender] of [["fairface_0121.jpg", "female"], ["fairface_0010.jpg", "male"]] as const) {
      const jpegBytes = fixture(name);
      const upright = await see(jpegBytes);
      expect(upright.persons.map((p) => p.labels.gender), name).toEqual([gender]);
      const webp = await see(new Uint8Array(await sharp(jpegBytes).webp({ lossless: true }).toBuffer()));
      expect(webp.persons, `${name} as WebP`).toEqual(upright.persons);
      // Stored sideways (the upright picture turned 90 degrees anticlockwise) with EXIF orientation 6, as phones do.
      const sideways = new Uint8Array(await sharp(jpegBytes).rotate(270).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer());
      const rotated = await see(sideways);
      expect(rotated.persons.map((p) => [p.labels.gender, p.labels.age]), `${name} rotated`).toEqual(upright.persons.map((p) => [p.labels.gender, p.labels.age]));
      const [x0, y0, w0] = boxOf(upright);
      const [x1, y1, w1] = boxOf(rotated);
      expect(Math.max(Math.abs(x1! - x0!), Math.abs(y1! - y0!), Math.abs(w1! - w0!)), `${name} box moved`).toBeLessThanOrEqual(8);
    }
  }, 60_000);

  it("a tight crop (all face) is seen once with the margin, where without it blazeface finds the face twice", async () => {
    // The central 32 % of the photo: brows to chin, no margin.
    const side = Math.round(0.32 * 448);
    const at = Math.round((448 - side) / 2);
    const bytes = new Uint8Array(await sharp(fixture("fairface_0121.jpg")).extract({ left: at, top: at, width: side, height: side }).jpeg({ quality: 92 }).toBuffer());
    const opts = { maxFaces: 20, minFaceScore: 0.5, skinFallback: false } as const;
    const bare = await analyseImage(bytes, "image/jpeg", { ...opts, pad: "off" });
    if (!bare.ok) throw new Error(bare.message);
    expect(bare.faces.filter((f) => f.score >= 0.5).length).toBeGreaterThanOrEqual(2);
    const padded = await analyseImage(bytes, "image/jpeg", opts);
    if (!padded.ok) throw new Error(padded.message);
    expect(padded.padded).toBe(true);
    const counted = padded.faces.filter((f) => f.score >= 0.5);
    expect(counted).toHaveLength(1);
    // In the crop's coordinates (the margin added 46 px on every side): the face spans the whole crop.
    const [x, y, w, h] = counted[0]!.box;
    expect(x).toBeLessThan(5);
    expect(y).toBeLessThan(5);
    expect(x + w).toBeGreaterThan(side - 5);
    expect(y + h).toBeGreaterThan(side - 5);
    expect(counted[0]!.gender).toBe("female");
    const obs = await see(bytes);
    expect(obs.persons.map((p) => p.labels.gender)).toEqual(["female"]);
  }, 60_000);

  it("a photo with a face well inside the frame is not retried with a margin", async () => {
    const a = await analyseImage(fixture("fairface_0010.jpg"), "image/jpeg", { maxFaces: 20, minFaceScore: 0.5, skinFallback: false });
    if (!a.ok) throw new Error(a.message);
    expect(a.padded).toBeUndefined();
    expect(looksTight(a.faces, { width: 448, height: 448 }, 0.5)).toBe(false);
    expect(looksTight([], { width: 448, height: 448 }, 0.5)).toBe(true);
    expect(looksTight([{ box: [0, 0, 440, 300], score: 0.9 }], { width: 448, height: 448 }, 0.5)).toBe(true);
    expect(looksTight([{ box: [0, 0, 440, 300], score: 0.3 }], { width: 448, height: 448 }, 0.5)).toBe(true);
    expect(looksTight([{ box: [0, 100, 200, 200], score: 0.9 }], { width: 448, height: 448 }, 0.5)).toBe(false);
  }, 60_000);
});

describe("faces in the observer registry", () => {
  it("is registered with its options checked before any image is generated", () => {
    const obs = getObserver("faces", { options: { minConfidence: 0.8, skinFallback: false } });
    expect(obs.id).toBe("faces");
    expect(() => getObserver("faces", { options: { minConfidance: 0.8 } })).toThrow(
      /observer faces: unknown observerOptions.faces "minConfidance"; accepted: .*minConfidence/,
    );
    expect(() => getObserver("faces", { options: { minConfidence: 2 } })).toThrow(/observer faces: observerOptions.faces.minConfidence: /);
  });
});

describe("faces on worker threads", () => {
  afterAll(() => closeFaceWorkers());

  it("gives the same observations as in-process analysis, several images at once", async () => {
    // The worker script is the compiled one: `npm test` builds before it runs the tests.
    expect(facesWorkerScript(), "dist/src/observers/faces-worker.js is missing: run npm run build first").toBeDefined();
    const pooled = createFacesObserver({ workers: 2 });
    const inProcess = createFacesObserver({ workers: 0 });
    const images = [asset("screenshot-faceid.jpg"), asset("screenshot-facedetect.jpg"), new Uint8Array([1, 2, 3]), renderPortrait({ skinTone: 8, seed: 2 })];
    const input = (image: Uint8Array) => ({ result: { image, warnings: [], meta: {} }, request: { kind: "plain" as const }, prompt: "a person" });
    const [a, b] = await Promise.all([
      Promise.all(images.map((img) => pooled.observe(input(img), tax))),
      Promise.all(images.map((img) => inProcess.observe(input(img), tax))),
    ]);
    expect(a.map((o) => o.persons)).toEqual(b.map((o) => o.persons));
    expect(a.map((o) => o.persons.length)).toEqual([1, 6, 0, 1]);
    expect(a[2]!.error).toMatch(/could not read the image/);
  }, 60_000);
});
