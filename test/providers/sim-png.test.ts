import { PNG } from "pngjs";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { encodeOpaquePng } from "../../src/image/png.js";
import { renderPortraitRGBA } from "../../src/image/portrait.js";

describe("encodeOpaquePng", () => {
  it("decodes (pngjs and libvips) to exactly the rendered pixels", async () => {
    for (const seed of [1, 2, 3]) {
      const raw = renderPortraitRGBA({ skinTone: 1 + seed * 3, gender: seed % 2 ? "female" : "male", age: "65+", seed });
      const png = encodeOpaquePng(raw.width, raw.height, raw.data);
      const a = PNG.sync.read(Buffer.from(png));
      expect([a.width, a.height]).toEqual([raw.width, raw.height]);
      expect(Buffer.from(a.data).equals(Buffer.from(raw.data))).toBe(true);
      const b = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      expect(b.info.channels).toBe(4);
      expect(b.data.equals(Buffer.from(raw.data))).toBe(true);
    }
  });

  it("refuses a buffer that does not match the size", () => {
    expect(() => encodeOpaquePng(4, 4, new Uint8Array(10))).toThrow(/10 bytes for 4x4 RGBA/);
  });
});
