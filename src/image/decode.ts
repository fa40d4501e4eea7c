/**
 * One image decoder for every pixel observer, built on sharp (libvips): the EXIF orientation is applied
 * (a phone photo taken sideways is seen upright), JPEG, PNG, WebP, AVIF, TIFF and GIF (first frame) are
 * accepted, and the image is downscaled inside libvips to what the caller's model needs before any
 * per-pixel JavaScript runs (JPEG is shrunk while it is decoded, so a 12 MP photo is never expanded whole).
 *
 * Anything else, or bytes that do not decode, throw {@link ImageDecodeError}: an image that cannot be read
 * is an error for the caller to report, never an empty picture.
 */
import sharp from "sharp";

/** The formats accepted, as sharp names them (AVIF is read by libheif: sharp says "heif"). */
export const ACCEPTED_FORMATS = ["jpeg", "png", "webp", "heif", "tiff", "gif"] as const;
const ACCEPTED_NAMES = "JPEG, PNG, WebP, AVIF, TIFF, GIF";

export class ImageDecodeError extends Error {
  override name = "ImageDecodeError";
}

export interface DecodeOptions {
  /** Downscale (never enlarge) so that neither side exceeds this many pixels; the aspect ratio is kept. */
  maxSide?: number;
  /** The declared mime type, only used in error messages (the format is read from the bytes). */
  mime?: string;
}

export interface DecodedImage {
  width: number;
  height: number;
  /** Row-major RGBA, 4 bytes per pixel (opaque images get alpha 255). */
  data: Uint8Array;
  /** What the bytes were: sharp's format name, and the upright size before downscaling. */
  source: { format: string; width: number; height: number };
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Decodes encoded image bytes to upright 8-bit RGBA, at most `maxSide` on the long side.
 * Throws {@link ImageDecodeError} naming what was wrong and what is accepted.
 */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<DecodedImage> {
  const declared = options.mime ? `"${options.mime}"` : "(no mime type)";
  if (bytes.length === 0) throw new ImageDecodeError(`no image bytes (declared ${declared}); accepted: ${ACCEPTED_NAMES}`);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format: string | undefined;
  let upright: { width: number; height: number };
  try {
    const meta = await sharp(buf).metadata();
    format = meta.format;
    // EXIF orientations 5-8 swap width and height; sharp 0.34 reports the upright size as autoOrient.
    upright = meta.autoOrient ?? { width: meta.width, height: meta.height };
  } catch (e) {
    throw new ImageDecodeError(`could not read the image (declared ${declared}): ${message(e)}; accepted: ${ACCEPTED_NAMES}`);
  }
  if (!format || !(ACCEPTED_FORMATS as readonly string[]).includes(format)) {
    throw new ImageDecodeError(`unsupported image type ${declared}, bytes look like ${format ?? "nothing known"}; accepted: ${ACCEPTED_NAMES}`);
  }
  try {
    let pipeline = sharp(buf, { failOn: "error" }).rotate();
    const max = options.maxSide;
    if (max !== undefined && (upright.width > max || upright.height > max)) {
      pipeline = pipeline.resize({ width: max, height: max, fit: "inside", withoutEnlargement: true });
    }
    const { data, info } = await pipeline.toColourspace("srgb").ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`expected 4 channels after decoding, got ${info.channels}`);
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      source: { format, width: upright.width, height: upright.height },
    };
  } catch (e) {
    throw new ImageDecodeError(`could not decode the ${format === "heif" ? "AVIF" : format.toUpperCase()} image (declared ${declared}): ${message(e)}`);
  }
}
