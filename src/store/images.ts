/**
 * The one way to read a run's image by the name its event line gives (`images/FILE`): the file in the run folder,
 * or, for a drawing (image/drawing.ts: a simulated portrait stored as its name), the portrait drawn from its name.
 * Readers that need a file (the report's links and thumbnails, the dashboard's thumbnails, export) ask
 * {@link runImageFile}, which draws a drawing into `images/` the first time someone looks at it.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DRAWN_MIME, drawPng, isDrawing } from "../image/drawing.js";
import { writeAtomic } from "./files.js";

const MIME_OF: Readonly<Record<string, string>> = { png: "image/png", jpg: "image/jpeg", webp: "image/webp" };
const RUN_IMAGE = /^images\/[^/\\]+$/;

/** The type a run image's name says (the store names each file by the type it was given). */
export const runImageMime = (rel: string): string => MIME_OF[rel.slice(rel.lastIndexOf(".") + 1).toLowerCase()] ?? "application/octet-stream";

/** The bytes and type of a run's image, or undefined when it is neither a file of the run nor a drawing. */
export function readRunImage(dir: string, rel: string): { bytes: Uint8Array; mime: string } | undefined {
  if (!RUN_IMAGE.test(rel)) return undefined;
  // A drawing is drawn, never read: a file drawn into images/ before holds the same bytes.
  const drawn = drawPng(rel);
  if (drawn) return { bytes: drawn, mime: DRAWN_MIME };
  try {
    return { bytes: new Uint8Array(readFileSync(join(dir, rel))), mime: runImageMime(rel) };
  } catch {
    return undefined;
  }
}

/** Whether a run's image can be read: its file is there, or it is a drawing. */
export const hasRunImage = (dir: string, rel: string): boolean => RUN_IMAGE.test(rel) && (isDrawing(rel) || existsSync(join(dir, rel)));

/**
 * The path of a run's image file: a drawing is drawn into the run's `images/` the first time it is asked for
 * (written whole, so readers at the same moment see the whole file or none). Undefined when the image is neither
 * a file of the run nor a drawing, or when a drawing cannot be written there (a read-only folder: use
 * {@link readRunImage}).
 */
export function runImageFile(dir: string, rel: string): string | undefined {
  if (!RUN_IMAGE.test(rel)) return undefined;
  const path = join(dir, rel);
  if (existsSync(path)) return path;
  const drawn = drawPng(rel);
  if (!drawn) return undefined;
  try {
    mkdirSync(join(dir, "images"), { recursive: true });
    writeAtomic(path, drawn);
    return path;
  } catch {
    return existsSync(path) ? path : undefined;
  }
}
