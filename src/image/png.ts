/**
 * A small PNG encoder for the sim renderer's opaque portraits, on node:zlib.
 *
 * - {@link encodeIndexedPng}: 8-bit palette PNG from scanlines the renderer already laid out (a filter byte 0
 *   before each row of palette indices). This is what `renderPortrait` writes: a quarter of the RGBA bytes go
 *   through deflate, so it is several times faster than RGBA and the file is about half the size.
 * - {@link encodeOpaquePng}: 8-bit RGBA from row-major RGBA pixels (no row filter), for any opaque picture.
 *
 * Both decode (libvips, pngjs, browsers) to the same opaque RGBA pixels. bench/render.ts measures the
 * deflate settings; see BENCHMARKS.md section 8b.
 */
import { constants, crc32, deflateSync, type ZlibOptions } from "node:zlib";

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/**
 * deflate settings of the palette PNG: run-length matches only (Z_RLE) at level 1. Flat fills are runs of one
 * byte, which RLE finds without a hash table; measured against levels 1-6 with the default strategy in
 * bench/render.ts (the fastest, within a few per cent of level 2's size).
 */
export const INDEXED_DEFLATE: Readonly<ZlibOptions> = Object.freeze({ level: 1, strategy: constants.Z_RLE });
/** deflate settings of the RGBA PNG (RGBA runs repeat every 4 bytes, which RLE cannot see). */
export const RGBA_DEFLATE: Readonly<ZlibOptions> = Object.freeze({ level: 2 });

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let k = 0; k < 4; k++) out[4 + k] = type.charCodeAt(k);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)) >>> 0);
  return out;
}

function header(width: number, height: number, colourType: 3 | 6): Uint8Array {
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = colourType; // 3: palette, 6: RGBA
  return chunk("IHDR", ihdr);
}

function assemble(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const IEND = chunk("IEND", new Uint8Array(0));

/**
 * Encodes a palette image as an 8-bit palette PNG. `scanlines` holds `height` rows of `1 + width` bytes: a PNG
 * filter byte (0) and one palette index per pixel; `palette` holds r, g, b per entry (1..256 entries), and every
 * index must name an entry. Opaque: no transparency chunk.
 */
export function encodeIndexedPng(width: number, height: number, scanlines: Uint8Array, palette: Uint8Array): Uint8Array {
  if (scanlines.length !== (width + 1) * height) {
    throw new RangeError(`encodeIndexedPng: ${scanlines.length} bytes of scanlines for ${width}x${height} (expected ${(width + 1) * height})`);
  }
  if (palette.length === 0 || palette.length % 3 !== 0 || palette.length > 256 * 3) {
    throw new RangeError(`encodeIndexedPng: a palette of ${palette.length} bytes (accepted: 3 bytes per entry, 1..256 entries)`);
  }
  return assemble([SIGNATURE, header(width, height, 3), chunk("PLTE", palette), chunk("IDAT", deflateSync(scanlines, INDEXED_DEFLATE)), IEND]);
}

/** Encodes opaque RGBA pixels as an RGBA PNG. */
export function encodeOpaquePng(width: number, height: number, rgba: Uint8Array): Uint8Array {
  const rowBytes = width * 4;
  if (rgba.length !== rowBytes * height) throw new RangeError(`encodeOpaquePng: ${rgba.length} bytes for ${width}x${height} RGBA`);
  // Filter type 0 (None) on every row: each row is one native copy, and zlib finds the flat regions itself.
  const stride = rowBytes + 1;
  const raw = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * rowBytes, (y + 1) * rowBytes), y * stride + 1);
  return assemble([SIGNATURE, header(width, height, 6), chunk("IDAT", deflateSync(raw, RGBA_DEFLATE)), IEND]);
}
