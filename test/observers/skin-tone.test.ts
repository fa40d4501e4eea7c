import { PNG } from "pngjs";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { builtinTaxonomy } from "../../src/core/taxonomy.js";
import {
  MONK_LAB,
  SKIN_MAX_SIDE,
  fitzpatrick,
  isSkinPixel,
  ita,
  itaCategory,
  measureSkin,
  monkConfidence,
  monkLevel,
  skinMeasurement,
  skinToneObserver,
  type RgbaImage,
} from "../../src/observers/skin-tone.js";
import { MONK_RGB, renderPortrait, srgbToLab } from "../../src/image/portrait.js";

const tax = builtinTaxonomy();
const plain = { kind: "plain" } as const;
type RGB = readonly [number, number, number];

function swatch(rgb: RGB, width = 32, height = 32): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i += 4) {
    data[i] = rgb[0];
    data[i + 1] = rgb[1];
    data[i + 2] = rgb[2];
    data[i + 3] = 255;
  }
  return { width, height, data };
}

function noisySwatch(rgb: RGB, seed: number, width = 32, height = 32): RgbaImage {
  const rng = new Rng(seed);
  const img = swatch(rgb, width, height);
  for (let i = 0; i < img.data.length; i += 4) {
    for (let c = 0; c < 3; c++) img.data[i + c] = Math.max(0, Math.min(255, rgb[c]! + rng.int(13) - 6));
  }
  return img;
}

function toPng(img: RgbaImage): Uint8Array {
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data);
  return new Uint8Array(PNG.sync.write(png));
}

const observe = (image: Uint8Array | undefined, mime = "image/png") =>
  skinToneObserver.observe({ result: { image, mime, warnings: [], meta: {} }, request: plain, prompt: "" }, tax);

describe("ITA, Fitzpatrick and ITA categories", () => {
  it("computes ITA on known Lab values", () => {
    // By hand: L* = 60, b* = 10 -> ITA = atan((60 - 50) / 10) = atan(1) = 45°  -> Fitzpatrick II, "light".
    expect(ita(60, 10)).toBeCloseTo(45, 10);
    expect(fitzpatrick(45)).toBe(2);
    expect(itaCategory(45)).toBe("light");
    // L* = 50 -> 0° whatever b*; L* = 40, b* = 10 -> atan(-1) = -45° ("dark").
    expect(ita(50, 17)).toBeCloseTo(0, 10);
    expect(ita(40, 10)).toBeCloseTo(-45, 10);
    // Same as the textbook arctan for b* > 0; finite at b* = 0.
    expect(ita(72, 14)).toBeCloseTo((Math.atan((72 - 50) / 14) * 180) / Math.PI, 10);
    expect(ita(70, 0)).toBe(90);
    expect(ita(30, 0)).toBe(-90);
    expect(ita(70, 1e-12)).toBeCloseTo(90, 6);
    // Monk 1 (#f6ede4, L* 94.2, b* 5.4) is very light, Monk 10 (#292420, L* 14.6, b* 3.5) dark.
    expect(ita(MONK_LAB[0]![0], MONK_LAB[0]![2])).toBeCloseTo(83.0, 1);
    expect(ita(MONK_LAB[9]![0], MONK_LAB[9]![2])).toBeCloseTo(-84.3, 1);
  });

  it("puts angles in the Fitzpatrick bands of Kinyanjui 2019 (boundary goes to the darker type)", () => {
    const cases: [number, number][] = [
      [90, 1], [55.1, 1], [55, 2], [41.1, 2], [41, 3], [28.1, 3], [28, 4], [19.1, 4], [19, 5], [10.1, 5], [10, 6], [-60, 6],
    ];
    for (const [a, t] of cases) expect(fitzpatrick(a), `ITA ${a}`).toBe(t);
  });

  it("puts angles in the ITA categories of Chardon / Del Bino", () => {
    const cases: [number, string][] = [
      [60, "very_light"], [55, "light"], [42, "light"], [41, "intermediate"], [30, "intermediate"], [28, "tan"],
      [11, "tan"], [10, "brown"], [0, "brown"], [-29.9, "brown"], [-30, "dark"], [-80, "dark"],
    ];
    for (const [a, c] of cases) expect(itaCategory(a), `ITA ${a}`).toBe(c);
  });
});

describe("Monk level", () => {
  it("maps each reference colour to its own level with full confidence", () => {
    MONK_LAB.forEach((lab, i) => {
      expect(monkLevel(lab)).toBe(i + 1);
      expect(monkConfidence(lab)).toBe(1);
    });
    // Midway between two references the confidence is 0.
    const mid = MONK_LAB[4]!.map((v, k) => (v + MONK_LAB[5]![k]!) / 2) as [number, number, number];
    expect(monkConfidence(mid)).toBeCloseTo(0, 6);
  });

  it("measures the ten Monk swatches as their own level", () => {
    MONK_RGB.forEach((rgb, i) => {
      const m = measureSkin(swatch(rgb));
      expect(m, `Monk ${i + 1}`).toBeDefined();
      expect(m!.monk).toBe(i + 1);
      expect(m!.pixels).toBe(32 * 32);
      expect(m!.share).toBe(1);
      expect(m!.medianLab[0]).toBeCloseTo(MONK_LAB[i]![0], 10);
    });
  });

  it("keeps shaded (x0.9, x1.1) and noisy (seeded ±6) swatches within one level", () => {
    MONK_RGB.forEach((rgb, i) => {
      for (const f of [0.9, 1.1]) {
        const shaded = rgb.map((v) => Math.min(255, Math.round(v * f))) as unknown as RGB;
        const m = measureSkin(swatch(shaded));
        expect(m, `Monk ${i + 1} x${f}`).toBeDefined();
        expect(Math.abs(m!.monk - (i + 1)), `Monk ${i + 1} x${f} -> ${m!.monk}`).toBeLessThanOrEqual(1);
      }
      for (const seed of [1, 2, 3]) {
        const m = measureSkin(noisySwatch(rgb, seed * 100 + i));
        expect(m, `Monk ${i + 1} noise ${seed}`).toBeDefined();
        expect(Math.abs(m!.monk - (i + 1)), `Monk ${i + 1} noise ${seed} -> ${m!.monk}`).toBeLessThanOrEqual(1);
        expect(m!.share).toBeGreaterThan(0.5);
      }
    });
  });
});

describe("skin segmentation rule", () => {
  it("accepts mid tones through the Chai & Ngan box and rejects the reds the box alone admits", () => {
    // Between Monk 6 and 7: > 6 from both references, but inside the YCbCr box and on the Monk locus.
    expect(isSkinPixel(145, 109, 76)).toBe(true);
    // Auburn hair and a muted red pass the YCbCr box but are far from the skin locus.
    expect(isSkinPixel(90, 30, 16)).toBe(false);
    expect(isSkinPixel(150, 75, 60)).toBe(false);
    // Neutral and saturated non-skin colours.
    for (const c of [[255, 255, 255], [128, 128, 128], [0, 0, 0], [40, 60, 200], [46, 125, 79], [216, 176, 64]] as const) {
      expect(isSkinPixel(c[0], c[1], c[2], srgbToLab(c[0], c[1], c[2])), c.join(",")).toBe(false);
    }
  });

  it("honours region, exclusion mask, transparency and the minimum skin area", () => {
    // Left half Monk 5, right half blue.
    const img = swatch([40, 60, 200], 40, 20);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) img.data.set([...MONK_RGB[4]!, 255], (y * 40 + x) * 4);
    expect(measureSkin(img)!.share).toBeCloseTo(0.5, 10);
    expect(measureSkin(img, { x: 20, y: 0, width: 100, height: 100 })).toBeUndefined();
    expect(measureSkin(img, { x: 0, y: 0, width: 20, height: 20 })!.share).toBe(1);
    const mask = new Uint8Array(40 * 20);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) mask[y * 40 + x] = 1;
    expect(measureSkin(img, undefined, mask)).toBeUndefined();
    const transparent = { ...img, data: img.data.map((v, k) => (k % 4 === 3 ? 0 : v)) };
    expect(measureSkin(transparent)).toBeUndefined();

    // 49 skin pixels are too few; 60 of 10 000 (0.6 %) are enough; 60 of 40 000 (0.15 %) are not.
    const withSkin = (w: number, h: number, n: number): RgbaImage => {
      const im = swatch([40, 60, 200], w, h);
      for (let k = 0; k < n; k++) im.data.set([...MONK_RGB[2]!, 255], k * 4);
      return im;
    };
    expect(measureSkin(withSkin(100, 100, 49))).toBeUndefined();
    expect(measureSkin(withSkin(100, 100, 60))?.monk).toBe(3);
    expect(measureSkin(withSkin(200, 200, 60))).toBeUndefined();
  });
});

describe("decoding", () => {
  it("decodes PNG regardless of the declared mime; an undecodable image is a failed observation", async () => {
    const png = toPng(swatch(MONK_RGB[6]!, 8, 8));
    expect((await skinMeasurement(png, "application/octet-stream"))?.monk).toBe(7);
    const look = (image: Uint8Array) => skinToneObserver.observe({ result: { image, mime: "image/webp", warnings: [], meta: {} }, request: plain, prompt: "" }, tax);
    const bad = await look(new Uint8Array([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50]));
    expect(bad.persons).toEqual([]);
    expect(bad.error).toMatch(/could not read the image .*accepted: JPEG, PNG, WebP, AVIF, TIFF, GIF/);
    await expect(skinMeasurement(png.slice(0, 40), "image/png")).rejects.toThrow(/could not (read|decode)/);
  });

  it("measures a WebP and an EXIF-rotated JPEG of a render like the PNG", async () => {
    const png = renderPortrait({ skinTone: 4, seed: 3 });
    const webp = new Uint8Array(await sharp(png).webp({ lossless: true }).toBuffer());
    const sideways = new Uint8Array(await sharp(png).rotate(270).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer());
    const ref = await skinMeasurement(png);
    expect(ref?.monk).toBe(4);
    expect((await skinMeasurement(webp))?.monk).toBe(4);
    expect((await skinMeasurement(sideways))?.monk).toBe(4);
  });

  it("downscales a large photo to SKIN_MAX_SIDE before measuring: the same level as at full size", async () => {
    const big = swatch(MONK_RGB[2]!, 1600, 1200);
    const png = new Uint8Array(await sharp(Buffer.from(big.data), { raw: { width: 1600, height: 1200, channels: 4 } }).png().toBuffer());
    const m = await skinMeasurement(png);
    expect(m?.monk).toBe(3);
    // 512 x 384 pixels measured, not 1600 x 1200.
    expect(m?.pixels).toBe(SKIN_MAX_SIDE * 384);
  });
});

describe("JPEG", () => {
  it("measures a JPEG-compressed Monk swatch at its own level (quality 90)", async () => {
    for (const level of [2, 5, 9]) {
      const img = swatch(MONK_RGB[level - 1]!, 32, 32);
      const encoded = await sharp(Buffer.from(img.data), { raw: { width: 32, height: 32, channels: 4 } }).jpeg({ quality: 90 }).toBuffer();
      expect((await skinMeasurement(new Uint8Array(encoded), "image/jpeg"))?.monk).toBe(level);
    }
  });
});

describe("skin-tone observer", () => {
  it("recovers the rendered Monk level of the sim's portraits (>= 95 %)", async () => {
    let hits = 0;
    let total = 0;
    const misses: string[] = [];
    for (let level = 1; level <= 10; level++) {
      for (const gender of ["female", "male"]) {
        for (const age of ["18-29", "65+"]) {
          for (let s = 0; s < 10; s++) {
            const seed = (level * 1000 + s * 7919 + (gender === "male" ? 17 : 0) + (age === "65+" ? 3 : 0)) >>> 0;
            const obs = await observe(renderPortrait({ skinTone: level, gender, age, seed }));
            total++;
            const got = obs.persons[0]?.labels.skin_tone;
            if (got === `monk_${level}`) hits++;
            else misses.push(`monk_${level} ${gender} ${age} seed ${seed} -> ${String(got)} (${obs.note ?? ""})`);
          }
        }
      }
    }
    const rate = hits / total;
    console.log(`skin-tone observer: recovered the rendered Monk level in ${hits}/${total} sim portraits (${(rate * 100).toFixed(1)} %)`);
    if (misses.length > 0) console.log(misses.slice(0, 10).join("\n"));
    expect(total).toBe(400);
    expect(rate).toBeGreaterThanOrEqual(0.95);
  });

  it("reports ITA and Fitzpatrick in the note and a confidence in [0, 1]", async () => {
    const obs = await observe(renderPortrait({ skinTone: 6, gender: "female", age: "18-29", seed: 5 }));
    expect(obs.observer).toBe("skin-tone");
    expect(obs.persons).toHaveLength(1);
    expect(obs.persons[0]!.labels).toEqual({ skin_tone: "monk_6" });
    const conf = obs.persons[0]!.confidence!.skin_tone!;
    expect(conf).toBeGreaterThanOrEqual(0);
    expect(conf).toBeLessThanOrEqual(1);
    // Monk 6: L* 55.1, b* 26.7 -> ITA 10.9° -> Fitzpatrick V, "tan".
    expect(obs.note).toMatch(/ITA 10\.9° \(tan\); Fitzpatrick V;/);
  });

  it("a missing image gives no person and a note; a broken JPEG, garbage or a corrupt PNG is a failed observation", async () => {
    const none = await observe(undefined);
    expect(none.persons).toEqual([]);
    expect(none.note).toMatch(/no image/);
    expect(none.error).toBeUndefined();
    const jpeg = await observe(new Uint8Array([0xff, 0xd8, 0xff, 0xdb, 0, 0x43, 0, 1, 2, 3]), "image/jpeg");
    expect(jpeg.persons).toEqual([]);
    expect(jpeg.error).toMatch(/could not read the image \(declared "image\/jpeg"\)/);
    const garbage = await observe(new Uint8Array(Array.from({ length: 64 }, (_, k) => (k * 37) & 255)));
    expect(garbage.persons).toEqual([]);
    expect(garbage.error).toMatch(/unsupported image format/);
    const corrupt = await observe(toPng(swatch(MONK_RGB[0]!)).slice(0, 50));
    expect(corrupt.persons).toEqual([]);
    expect(corrupt.error).toMatch(/could not (read|decode)/);
  });

  it("gives no person and a note for an image without skin", async () => {
    const obs = await observe(toPng(swatch([40, 60, 200], 64, 64)));
    expect(obs.persons).toEqual([]);
    expect(obs.note).toMatch(/too little skin/);
  });

  it("leaves the label out when the taxonomy has no skin_tone attribute", async () => {
    const noSkin = { attributes: tax.attributes.filter((a) => a.id !== "skin_tone") };
    const obs = await skinToneObserver.observe(
      { result: { image: toPng(swatch(MONK_RGB[2]!)), mime: "image/png", warnings: [], meta: {} }, request: plain, prompt: "" },
      noSkin,
    );
    expect(obs.persons).toEqual([{ labels: {} }]);
    expect(obs.note).toMatch(/no skin_tone attribute/);
  });
});
