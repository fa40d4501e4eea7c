/**
 * Thumbnails for the gallery, written next to the report (`report-assets/thumbs/`), so a report of
 * thousands of images stays fast to open. `sharp` (libvips ships inside its npm package, works
 * offline) reads PNG, JPEG, WebP, GIF, TIFF and AVIF. An image already small and light is copied as
 * it is; a large one is scaled to fit a square box and saved as JPEG. Content-addressed images keep
 * their name, so a thumbnail made once is reused by the next build. The dashboard makes its own (larger)
 * thumbnails with the same helper, in the run folder's `report-assets/thumbs/`.
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, extname, join } from "node:path";
import sharp from "sharp";
import { tempPathFor } from "../../store/files.js";

export interface Thumbnail {
  /** Absolute path of the thumbnail file. */
  file: string;
  width: number;
  height: number;
}

export interface ThumbnailOptions {
  /** The box the thumbnail fits in, pixels (default 192). */
  size?: number;
  /** Images at most this many bytes that already fit the box are copied instead of re-encoded (default 64 KiB). */
  copyBelowBytes?: number;
  /** Thumbnails made at once (default 8). */
  concurrency?: number;
  /**
   * Answer the source itself, instead of a copy, for an image that would be copied (small and
   * light): for callers that serve files from where they are rather than linking a folder of
   * thumbnails (default false).
   */
  reuseSmall?: boolean;
}

/** A temporary name next to `file`, unique to this write, so two writers of one thumbnail never share it. */

/** The thumbnail's file name: the source's own name when it is content-addressed, else a hash of its path. */
function thumbName(source: string, size: number, ext: string): string {
  const stem = basename(source, extname(source));
  const key = /^[0-9a-f]{16,}$/i.test(stem) ? stem : createHash("sha1").update(source).digest("hex").slice(0, 24);
  return `${key}-${size}${ext}`;
}

async function makeOne(source: string, dir: string, size: number, copyBelow: number, reuseSmall: boolean): Promise<Thumbnail> {
  const meta = await sharp(source).metadata();
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  const small = width > 0 && height > 0 && width <= size && height <= size;
  const copyable = small && ["png", "jpeg", "webp", "gif"].includes(meta.format ?? "") && statSync(source).size <= copyBelow;
  if (copyable) {
    if (reuseSmall) return { file: source, width, height };
    const file = join(dir, thumbName(source, size, extname(source).toLowerCase() || `.${meta.format}`));
    if (!existsSync(file)) {
      const tmp = tempPathFor(file);
      copyFileSync(source, tmp);
      renameSync(tmp, file);
    }
    return { file, width, height };
  }
  const file = join(dir, thumbName(source, size, ".jpg"));
  if (existsSync(file)) {
    const m = await sharp(file).metadata();
    return { file, width: m.width ?? 0, height: m.height ?? 0 };
  }
  const tmp = tempPathFor(file);
  try {
    const info = await sharp(source)
      .rotate()
      .resize({ width: size, height: size, fit: "inside", withoutEnlargement: true })
      .flatten({ background: "#ffffff" })
      .jpeg({ quality: 80, mozjpeg: true })
      .toFile(tmp);
    renameSync(tmp, file);
    return { file, width: info.width, height: info.height };
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Makes a thumbnail of every source image (absolute paths) in `dir`. An image that cannot be read
 * maps to null (the report then links the original), never an exception.
 */
export async function makeThumbnails(sources: readonly string[], dir: string, options: ThumbnailOptions = {}): Promise<Map<string, Thumbnail | null>> {
  const size = options.size ?? 192;
  const copyBelow = options.copyBelowBytes ?? 64 * 1024;
  mkdirSync(dir, { recursive: true });
  const unique = [...new Set(sources)];
  const out = new Map<string, Thumbnail | null>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < unique.length) {
      const source = unique[next++]!;
      try {
        out.set(source, await makeOne(source, dir, size, copyBelow, options.reuseSmall ?? false));
      } catch {
        out.set(source, null);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  return out;
}
