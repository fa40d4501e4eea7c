/**
 * Gallery thumbnails for the dashboard: a run image scaled to fit THUMB_SIZE (JPEG, made with the
 * report's helper), cached on disk in the run folder's `report-assets/thumbs/` so each is made once.
 * Run images are listed from the events, never by reading folders, so this cache is never taken
 * for one. An image that already fits (the sim's portraits) is answered as it is.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { ASSETS_DIR } from "../report/html/build.js";
import { makeThumbnails, type Thumbnail } from "../report/html/thumbnails.js";
import { confinedPath } from "./confine.js";

/** The box a dashboard thumbnail fits in, pixels: a gallery tile of ~128 CSS px on a 2x screen. */
export const THUMB_SIZE = 256;

/** Requests for one thumbnail that arrive while it is being made share the work. */
const inFlight = new Map<string, Promise<Thumbnail | null>>();

/**
 * The cache folder of a run (real path), made one level at a time so a link that leaves the run is
 * never followed to create anything; undefined when it cannot be made (read-only) or would leave the run.
 */
function cacheDir(runDir: string): string | undefined {
  let dir: string | undefined = runDir;
  for (const part of [ASSETS_DIR, "thumbs"]) {
    try {
      mkdirSync(join(dir, part));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") return undefined;
    }
    dir = confinedPath(dir, part);
    if (!dir) return undefined;
  }
  return dir;
}

/** The image itself, when it can be decoded (for a run folder that cannot hold a cache). */
async function asItIs(source: string): Promise<Thumbnail | null> {
  try {
    const m = await sharp(source).metadata();
    return m.width && m.height ? { file: source, width: m.width, height: m.height } : null;
  } catch {
    return null;
  }
}

/**
 * The thumbnail of `source` (an image file of the run at `runDir`, already confined): its file and
 * size; `source` itself when it already fits or when the run folder cannot hold a cache (read-only);
 * null when it is not an image that can be decoded.
 */
export async function thumbnailOf(runDir: string, source: string): Promise<Thumbnail | null> {
  const dir = cacheDir(runDir);
  const key = `${dir ?? ""}\0${source}`;
  let pending = inFlight.get(key);
  if (!pending) {
    pending = dir
      ? makeThumbnails([source], dir, { size: THUMB_SIZE, reuseSmall: true, concurrency: 1 }).then((m) => m.get(source) ?? null)
      : asItIs(source);
    inFlight.set(key, pending);
    void pending.finally(() => inFlight.delete(key)).catch(() => undefined);
  }
  return pending;
}
