import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import {
  deltaE,
  MONK_HEX,
  MONK_RGB,
  PORTRAIT_HEIGHT,
  PORTRAIT_WIDTH,
  renderPortrait,
  renderPortraitRGBA,
  srgbToLab,
  type PortraitSpec,
} from "../../src/image/portrait.js";

const W = PORTRAIT_WIDTH;
const H = PORTRAIT_HEIGHT;
/** Face centre: the renderer keeps it fixed (only the face radii are jittered). */
const FACE_X = 64;
const FACE_Y = 66;

const GENDERS = ["female", "male", undefined] as const;
const AGES = ["18-29", "30-44", "45-64", "65+", undefined] as const;
const BODIES = ["slim", "average", "athletic", "plus_size", undefined] as const;

const MONK_LAB = MONK_RGB.map((c) => srgbToLab(c[0], c[1], c[2]));

function decode(bytes: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
}

function pixel(data: Uint8Array, x: number, y: number): [number, number, number, number] {
  const i = (y * W + x) * 4;
  return [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
}

function key(data: Uint8Array, i: number): number {
  return (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
}

const marginCache = new Map<number, number>();
/** Smallest CIE76 distance from the colour packed as 0xRRGGBB to any Monk colour. */
function monkMargin(k: number): number {
  let m = marginCache.get(k);
  if (m === undefined) {
    const lab = srgbToLab((k >> 16) & 255, (k >> 8) & 255, k & 255);
    m = Math.min(...MONK_LAB.map((ml) => deltaE(lab, ml)));
    marginCache.set(k, m);
  }
  return m;
}

/** Count pixels equal to the skin colour; return also the smallest Monk margin among the other pixels. */
function scan(spec: PortraitSpec, data: Uint8Array): { skin: number; minMargin: number; opaque: boolean } {
  const s = MONK_RGB[spec.skinTone - 1]!;
  const skinKey = (s[0] << 16) | (s[1] << 8) | s[2];
  let skin = 0;
  let minMargin = Infinity;
  let opaque = true;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] !== 255) opaque = false;
    const k = key(data, i);
    if (k === skinKey) skin++;
    else minMargin = Math.min(minMargin, monkMargin(k));
  }
  return { skin, minMargin, opaque };
}

/** Widest run of non-background pixels over the rows y0..H-1 (background = top-left pixel). */
function widestBody(data: Uint8Array, y0: number): number {
  const bg = key(data, 0);
  let widest = 0;
  for (let y = y0; y < H; y++) {
    let n = 0;
    for (let x = 0; x < W; x++) if (key(data, (y * W + x) * 4) !== bg) n++;
    widest = Math.max(widest, n);
  }
  return widest;
}

describe("colour helpers", () => {
  it("MONK_HEX and MONK_RGB agree and have ten levels", () => {
    expect(MONK_HEX).toHaveLength(10);
    expect(MONK_RGB).toHaveLength(10);
    MONK_HEX.forEach((hex, i) => {
      const n = Number.parseInt(hex.slice(1), 16);
      expect(MONK_RGB[i]).toEqual([(n >> 16) & 255, (n >> 8) & 255, n & 255]);
    });
    expect(MONK_HEX[0]).toBe("#f6ede4");
    expect(MONK_HEX[9]).toBe("#292420");
  });

  it("srgbToLab matches reference values (D65)", () => {
    const white = srgbToLab(255, 255, 255);
    expect(white[0]).toBeCloseTo(100, 2);
    expect(Math.abs(white[1])).toBeLessThan(0.01);
    expect(Math.abs(white[2])).toBeLessThan(0.01);
    expect(srgbToLab(0, 0, 0)).toEqual([0, 0, 0]);
    const red = srgbToLab(255, 0, 0); // reference: 53.24, 80.09, 67.20
    expect(red[0]).toBeCloseTo(53.24, 1);
    expect(red[1]).toBeCloseTo(80.09, 0);
    expect(red[2]).toBeCloseTo(67.2, 0);
    const grey = srgbToLab(128, 128, 128); // reference L* = 53.59
    expect(grey[0]).toBeCloseTo(53.59, 1);
  });

  it("deltaE is the Euclidean distance", () => {
    expect(deltaE([0, 0, 0], [3, 4, 0])).toBe(5);
    expect(deltaE([50, 10, -10], [50, 10, -10])).toBe(0);
  });

  it("hair colours that look tempting are indeed too close to the Monk colours", () => {
    // Documents why the renderer uses blue-black instead of #101010 and bluish silver instead of white.
    const margin = (hex: string): number => monkMargin(Number.parseInt(hex.slice(1), 16));
    expect(margin("#101010")).toBeLessThan(12);
    expect(margin("#ffffff")).toBeLessThan(12);
  });
});

describe("renderPortrait", () => {
  it("produces a PNG of the declared size, fully opaque", () => {
    const png = renderPortrait({ skinTone: 4, gender: "female", age: "30-44", bodyType: "average", seed: 7 });
    expect(png).toBeInstanceOf(Uint8Array);
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const img = decode(png);
    expect(img.width).toBe(W);
    expect(img.height).toBe(H);
    expect(scan({ skinTone: 4, seed: 7 }, img.data).opaque).toBe(true);
  });

  it("PNG pixels equal the raw RGBA buffer", () => {
    const spec: PortraitSpec = { skinTone: 8, gender: "male", age: "65+", bodyType: "athletic", seed: 99 };
    const raw = renderPortraitRGBA(spec);
    expect(raw.width).toBe(W);
    expect(raw.height).toBe(H);
    expect(raw.data).toHaveLength(W * H * 4);
    expect(Buffer.from(decode(renderPortrait(spec)).data).equals(Buffer.from(raw.data))).toBe(true);
  });

  it("the face centre is exactly the Monk colour, for every level", () => {
    for (let level = 1; level <= 10; level++) {
      for (const gender of GENDERS) {
        for (const age of AGES) {
          const spec: PortraitSpec = { skinTone: level, gender, age, seed: level * 1000 + 17 };
          const img = decode(renderPortrait(spec));
          const expected = [...MONK_RGB[level - 1]!, 255];
          expect(pixel(img.data, FACE_X, FACE_Y), `level ${level} ${gender} ${age}`).toEqual(expected);
        }
      }
    }
  });

  it("skin pixels are a substantial share of the image", () => {
    for (let level = 1; level <= 10; level++) {
      for (const gender of GENDERS) {
        for (const body of BODIES) {
          const spec: PortraitSpec = { skinTone: level, gender, age: "65+", bodyType: body, seed: level * 31 + 5 };
          const { skin } = scan(spec, decode(renderPortrait(spec)).data);
          expect(skin / (W * H), `level ${level} ${gender} ${body}`).toBeGreaterThan(0.08);
        }
      }
    }
  });

  it("every pixel is exactly the person's Monk colour or at least deltaE 12 from all ten Monk colours", () => {
    let worst = Infinity;
    let n = 0;
    const check = (spec: PortraitSpec, data: Uint8Array): void => {
      const { skin, minMargin } = scan(spec, data);
      expect(skin).toBeGreaterThan(0);
      if (minMargin < 12) throw new Error(`non-skin colour within deltaE ${minMargin.toFixed(2)}: ${JSON.stringify(spec)}`);
      worst = Math.min(worst, minMargin);
      n++;
    };
    // Every combination of the attributes, a few seeds each (raw buffers: identical to the PNG pixels).
    for (let level = 1; level <= 10; level++)
      for (const gender of GENDERS)
        for (const age of AGES)
          for (const bodyType of BODIES)
            for (const seed of [0, 1, 0xffffffff]) {
              const spec: PortraitSpec = { skinTone: level, gender, age, bodyType, seed };
              check(spec, renderPortraitRGBA(spec).data);
            }
    // Many seeds, to cover the seed-driven background / clothes / hair colours.
    for (let seed = 0; seed < 2000; seed++) {
      const spec: PortraitSpec = {
        skinTone: 1 + (seed % 10),
        gender: GENDERS[seed % 3],
        age: AGES[(seed >> 1) % 5],
        bodyType: BODIES[(seed >> 2) % 5],
        seed: Math.imul(seed + 1, 2654435761) >>> 0,
      };
      check(spec, renderPortraitRGBA(spec).data);
    }
    // And through the PNG path too.
    for (let level = 1; level <= 10; level++) {
      const spec: PortraitSpec = { skinTone: level, gender: "female", age: "45-64", seed: level };
      check(spec, decode(renderPortrait(spec)).data);
    }
    expect(n).toBeGreaterThan(4000);
    expect(worst).toBeGreaterThanOrEqual(12);
  });

  it("is deterministic: same spec, same bytes; different seed, different bytes", () => {
    const spec: PortraitSpec = { skinTone: 6, gender: "male", age: "45-64", bodyType: "slim", seed: 123456789 };
    const a = renderPortrait(spec);
    const b = renderPortrait({ ...spec });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const c = renderPortrait({ ...spec, seed: 123456790 });
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    for (let seed = 0; seed < 20; seed++) {
      const s: PortraitSpec = { skinTone: 3, gender: "female", seed };
      expect(Buffer.from(renderPortraitRGBA(s).data).equals(Buffer.from(renderPortraitRGBA(s).data))).toBe(true);
    }
  });

  it("attributes change the picture", () => {
    const base: PortraitSpec = { skinTone: 5, gender: "female", age: "18-29", bodyType: "average", seed: 42 };
    const bytes = (s: PortraitSpec): Buffer => Buffer.from(renderPortrait(s));
    expect(bytes(base).equals(bytes({ ...base, gender: "male" }))).toBe(false);
    expect(bytes(base).equals(bytes({ ...base, gender: undefined }))).toBe(false);
    expect(bytes(base).equals(bytes({ ...base, age: "65+" }))).toBe(false);
    expect(bytes(base).equals(bytes({ ...base, bodyType: "plus_size" }))).toBe(false);
  });

  it("older people get lines on the face (non-skin pixels inside the face area)", () => {
    const faceClutter = (age: string): number => {
      const spec: PortraitSpec = { skinTone: 4, gender: "male", age, seed: 11 };
      const { data } = renderPortraitRGBA(spec);
      const s = MONK_RGB[3]!;
      const skinKey = (s[0] << 16) | (s[1] << 8) | s[2];
      let n = 0;
      for (let y = FACE_Y - 20; y <= FACE_Y + 25; y++)
        for (let x = FACE_X - 18; x <= FACE_X + 18; x++) if (key(data, (y * W + x) * 4) !== skinKey) n++;
      return n;
    };
    const young = faceClutter("18-29");
    const middle = faceClutter("45-64");
    const old = faceClutter("65+");
    expect(middle).toBeGreaterThan(young);
    expect(old).toBeGreaterThan(middle);
  });

  it("body width follows bodyType", () => {
    for (const gender of GENDERS) {
      for (const seed of [1, 2, 3]) {
        const width = (bodyType: string): number =>
          widestBody(decode(renderPortrait({ skinTone: 5, gender, bodyType, seed })).data, 120);
        const slim = width("slim");
        const average = width("average");
        const athletic = width("athletic");
        const plus = width("plus_size");
        expect(plus, `${gender} ${seed}`).toBeGreaterThan(slim);
        expect(average).toBeGreaterThan(slim);
        expect(athletic).toBeGreaterThan(average);
        expect(plus).toBeGreaterThan(average);
        expect(width("unknown-body")).toBe(average);
      }
    }
  });

  it("athletic narrows towards the waist (V shape), plus_size does not", () => {
    const bottomWidth = (bodyType: string): { widest: number; bottom: number } => {
      const { data } = decode(renderPortrait({ skinTone: 2, gender: "male", bodyType, seed: 8 }));
      return { widest: widestBody(data, 120), bottom: widestBody(data, H - 1) };
    };
    const athletic = bottomWidth("athletic");
    expect(athletic.bottom).toBeLessThan(athletic.widest - 6);
    const plus = bottomWidth("plus_size");
    expect(plus.bottom).toBe(plus.widest);
  });

  it("rejects invalid skin tones with a RangeError", () => {
    for (const skinTone of [0, 11, -3, 2.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => renderPortrait({ skinTone, seed: 1 })).toThrow(RangeError);
      expect(() => renderPortraitRGBA({ skinTone, seed: 1 })).toThrow(/skinTone must be an integer Monk level 1\.\.10/);
    }
    expect(() => renderPortrait({ skinTone: 1, seed: 1 })).not.toThrow();
    expect(() => renderPortrait({ skinTone: 10, seed: 1 })).not.toThrow();
  });
});
