/**
 * A small PNG encoder for the sim renderer's opaque portraits: 8-bit RGB, the Sub filter on every row,
 * zlib (node:zlib) at a low level. The renderer's pixels are flat regions, so Sub + a fast deflate gives
 * files about as small as pngjs's default settings at a fraction of the time (pngjs filters and packs
 * in JavaScript, one pixel at a time through generic code paths).
 */
import { crc32, deflateSync } from "node:zlib";

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
/** zlib level: 1..3 cost the same here and give the same size within a few per cent. */
const LEVEL = 2;

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let k = 0; k < 4; k++) out[4 + k] = type.charCodeAt(k);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)) >>> 0);
  return out;
}

/** Encodes opaque RGBA pixels (alpha is dropped) as an RGB PNG. */
export function encodeOpaquePng(width: number, height: number, rgba: Uint8Array): Uint8Array {
  if (rgba.length !== width * height * 4) throw new RangeError(`encodeOpaquePng: ${rgba.length} bytes for ${width}x${height} RGBA`);
  const stride = width * 3 + 1;
  const raw = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    raw[row] = 1; // Sub: each byte minus the same channel of the pixel to its left
    let src = y * width * 4;
    let dst = row + 1;
    let pr = 0;
    let pg = 0;
    let pb = 0;
    for (let x = 0; x < width; x++, src += 4, dst += 3) {
      const r = rgba[src]!;
      const g = rgba[src + 1]!;
      const b = rgba[src + 2]!;
      raw[dst] = (r - pr) & 0xff;
      raw[dst + 1] = (g - pg) & 0xff;
      raw[dst + 2] = (b - pb) & 0xff;
      pr = r;
      pg = g;
      pb = b;
    }
  }
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  const idat = deflateSync(raw, { level: LEVEL });
  const parts = [SIGNATURE, chunk("IHDR", ihdr), chunk("IDAT", idat), chunk("IEND", new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
