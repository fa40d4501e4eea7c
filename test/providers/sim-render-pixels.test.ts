/**
 * Issue 14 rewrote the sim's rasteriser (palette-index scanlines, a reused buffer, the hairline per column)
 * and its PNG encoder (palette PNG). The pixels must not change: the fixture holds the sha256 of the RGBA of
 * 3000 seeded portraits as the renderer before the rewrite drew them (main at 48994ad), covering every
 * combination of gender (incl. unknown), age band (incl. none), body type (incl. none) and Monk level.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import { PNG } from "pngjs";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { renderPortrait, renderPortraitRGBA, type PortraitSpec } from "../../src/image/portrait.js";

const fixture = JSON.parse(readFileSync(new URL("./fixtures/sim-render-rgba-hashes.json", import.meta.url), "utf8")) as {
  each: string[];
  rest: string;
};

const GENDERS = ["female", "male", undefined, "nonbinary"] as const;
const AGES = ["18-29", "30-44", "45-64", "65+", undefined] as const;
const BODIES = ["slim", "average", "athletic", "plus_size", undefined] as const;

/** Spec i: i = 0..999 is every combination once (mixed radix), with a seed from i. */
function specAt(i: number): PortraitSpec {
  const gender = GENDERS[i % 4];
  const age = AGES[Math.floor(i / 4) % 5];
  const bodyType = BODIES[Math.floor(i / 20) % 5];
  return {
    skinTone: 1 + (Math.floor(i / 100) % 10),
    ...(gender ? { gender } : {}),
    ...(age ? { age } : {}),
    ...(bodyType ? { bodyType } : {}),
    seed: (Math.imul(i, 2654435761) + 12345) >>> 0,
  };
}

const short = (d: Uint8Array): string => createHash("sha256").update(d).digest("hex").slice(0, 16);

describe("sim renderer pixels (issue 14)", () => {
  it("draws exactly the RGBA of the renderer before the rewrite, for every attribute combination", () => {
    expect(fixture.each).toHaveLength(1000);
    const wrong: string[] = [];
    for (let i = 0; i < 1000; i++) if (short(renderPortraitRGBA(specAt(i)).data) !== fixture.each[i]) wrong.push(`${i} ${JSON.stringify(specAt(i))}`);
    expect(wrong).toEqual([]);
  });

  it("draws exactly the RGBA of the renderer before the rewrite for 2000 more seeds", () => {
    const all = createHash("sha256");
    for (let i = 1000; i < 3000; i++) all.update(renderPortraitRGBA(specAt(i)).data);
    expect(all.digest("hex")).toBe(fixture.rest);
  });

  it("the hash check can fail: one changed pixel changes the hash", () => {
    const { data } = renderPortraitRGBA(specAt(3));
    data[4 * 500] = data[4 * 500]! ^ 1;
    expect(short(data)).not.toBe(fixture.each[3]);
  });

  it("the PNG decodes (libvips and pngjs) to exactly the RGBA, after other portraits reused the buffer", async () => {
    for (const i of [0, 7, 123, 456, 789, 999]) {
      const png = renderPortrait(specAt(i));
      renderPortrait(specAt(i + 1)); // the scanline buffer is reused: the bytes returned must be unaffected
      const want = Buffer.from(renderPortraitRGBA(specAt(i)).data);
      expect(short(want)).toBe(fixture.each[i]);
      const v = await sharp(Buffer.from(png)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      expect([v.info.width, v.info.height, v.info.channels]).toEqual([128, 160, 4]);
      expect(v.data.equals(want)).toBe(true);
      const p = PNG.sync.read(Buffer.from(png));
      expect(Buffer.from(p.data).equals(want)).toBe(true);
    }
  });

  it("writes an 8-bit palette PNG whose scanlines are unfiltered and whose palette has no duplicate colour", () => {
    const png = renderPortrait(specAt(42));
    const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
    const chunks: { type: string; body: Uint8Array }[] = [];
    for (let at = 8; at < png.length; ) {
      const len = view.getUint32(at);
      chunks.push({ type: String.fromCharCode(...png.subarray(at + 4, at + 8)), body: png.subarray(at + 8, at + 8 + len) });
      at += 12 + len;
    }
    expect(chunks.map((c) => c.type)).toEqual(["IHDR", "PLTE", "IDAT", "IEND"]);
    const ihdr = chunks[0]!.body;
    expect([ihdr[8], ihdr[9]]).toEqual([8, 3]);
    const plte = chunks[1]!.body;
    const colours = new Set<number>();
    for (let k = 0; k < plte.length; k += 3) colours.add((plte[k]! << 16) | (plte[k + 1]! << 8) | plte[k + 2]!);
    expect(colours.size).toBe(plte.length / 3);
    const raw = inflateSync(chunks[2]!.body);
    expect(raw.length).toBe(129 * 160);
    for (let y = 0; y < 160; y++) expect(raw[y * 129]).toBe(0);
    expect(Math.max(...raw)).toBeLessThan(plte.length / 3);
  });
});
