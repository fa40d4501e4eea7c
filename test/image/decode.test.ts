import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { ImageDecodeError, decodeImage } from "../../src/image/decode.js";

/** A 40x20 RGB test card: left half red, right half blue, a green top-left 10x10 corner (shows orientation). */
async function card(): Promise<Buffer> {
  const w = 40;
  const h = 20;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const rgb = x < 10 && y < 10 ? [0, 200, 0] : x < w / 2 ? [220, 30, 30] : [30, 30, 220];
      raw.set(rgb, 3 * (y * w + x));
    }
  }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

const px = (img: { width: number; data: Uint8Array }, x: number, y: number): number[] => Array.from(img.data.subarray(4 * (y * img.width + x), 4 * (y * img.width + x) + 4));
const near = (a: number[], b: number[], tol = 40): boolean => a.every((v, i) => Math.abs(v - b[i]!) <= tol);

describe("decodeImage (sharp)", () => {
  it("decodes PNG, JPEG, WebP, AVIF, TIFF and GIF to the same upright RGBA picture", async () => {
    const png = await card();
    const encoded: Record<string, Buffer> = {
      png,
      jpeg: await sharp(png).jpeg({ quality: 95 }).toBuffer(),
      webp: await sharp(png).webp({ lossless: true }).toBuffer(),
      heif: await sharp(png).avif({ lossless: true }).toBuffer(),
      tiff: await sharp(png).tiff().toBuffer(),
      gif: await sharp(png).gif().toBuffer(),
    };
    for (const [format, bytes] of Object.entries(encoded)) {
      const img = await decodeImage(new Uint8Array(bytes));
      expect([format, img.width, img.height, img.data.length, img.source.format]).toEqual([format, 40, 20, 40 * 20 * 4, format]);
      expect(near(px(img, 2, 2), [0, 200, 0, 255]), `${format} corner ${px(img, 2, 2).join(",")}`).toBe(true);
      expect(near(px(img, 15, 15), [220, 30, 30, 255]), `${format} left ${px(img, 15, 15).join(",")}`).toBe(true);
      expect(near(px(img, 35, 15), [30, 30, 220, 255]), `${format} right ${px(img, 35, 15).join(",")}`).toBe(true);
    }
  });

  it("applies the EXIF orientation: a JPEG stored sideways with orientation 6 comes out upright", async () => {
    const png = await card();
    // Orientation 6: the stored pixels are the upright picture turned 90 degrees anticlockwise.
    const sideways = await sharp(png).rotate(270).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const stored = await sharp(sideways).metadata();
    expect([stored.width, stored.height, stored.orientation]).toEqual([20, 40, 6]);
    const img = await decodeImage(new Uint8Array(sideways));
    expect([img.width, img.height]).toEqual([40, 20]);
    expect(near(px(img, 2, 2), [0, 200, 0, 255])).toBe(true);
    expect(near(px(img, 35, 15), [30, 30, 220, 255])).toBe(true);
  });

  it("downscales to maxSide on the long side, keeps the aspect ratio, never enlarges", async () => {
    const png = await card();
    const small = await decodeImage(new Uint8Array(png), { maxSide: 10 });
    expect([small.width, small.height, small.source.width, small.source.height]).toEqual([10, 5, 40, 20]);
    const same = await decodeImage(new Uint8Array(png), { maxSide: 1000 });
    expect([same.width, same.height]).toEqual([40, 20]);
  });

  it("keeps transparency as alpha", async () => {
    const rgba = Buffer.alloc(4 * 4 * 4);
    for (let i = 0; i < 16; i++) rgba.set(i < 8 ? [10, 20, 30, 0] : [10, 20, 30, 255], 4 * i);
    const png = await sharp(rgba, { raw: { width: 4, height: 4, channels: 4 } }).png().toBuffer();
    const img = await decodeImage(new Uint8Array(png));
    expect([img.data[3], img.data[4 * 15 + 3]]).toEqual([0, 255]);
  });

  it("refuses garbage, truncated and unsupported bytes with an ImageDecodeError that says what is accepted", async () => {
    const jpeg = await sharp(await card()).jpeg().toBuffer();
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>');
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(0), /no image bytes .*accepted: JPEG, PNG, WebP, AVIF, TIFF, GIF/],
      [new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), /could not read the image \(declared "image\/png"\).*accepted: JPEG/],
      [new Uint8Array(jpeg.subarray(0, Math.floor(jpeg.length / 2))), /(could not read the image|could not decode the JPEG image).*premature end of JPEG/],
      [new Uint8Array(svg), /unsupported image type "image\/png", bytes look like svg; accepted: JPEG/],
    ];
    for (const [bytes, why] of cases) {
      const err = await decodeImage(bytes, { mime: "image/png" }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ImageDecodeError);
      expect((err as Error).message).toMatch(why);
    }
  });
});
