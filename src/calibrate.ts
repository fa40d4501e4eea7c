/**
 * `debiaspi calibrate`: observe a folder of labelled images with one or more observers and measure each
 * observer's confusion per attribute. The file reading lives here; the measuring in src/calibration/.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, extname, join, resolve as resolvePath } from "node:path";
import { buildCalibration } from "./calibration/build.js";
import { mapLabelRows, parseLabels, type LabelSet } from "./calibration/labels.js";
import type { Calibration } from "./calibration/schema.js";
import { InputError } from "./core/errors.js";
import type { Observation } from "./core/request.js";
import { builtinTaxonomy, type Taxonomy } from "./core/taxonomy.js";
import { getObserver } from "./observers/index.js";
import { facesModelInfo } from "./observers/faces.js";
import { packageVersion } from "./util/paths.js";

const MIME: Record<string, string> = { ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp" };
const IN_FLIGHT = 4;

export interface CalibrateOptions {
  labels: string;
  observers: string[];
  observerOptions?: Record<string, Record<string, unknown>>;
  taxonomy?: Taxonomy;
  /** What the images are (photographs, generated): recorded, so a calibration used in another domain can be flagged. */
  domain?: string;
  onProgress?: (done: number, total: number) => void;
}

/** Reads and maps a labels file; InputError for a missing or malformed one. */
export function loadLabels(file: string, taxonomy: Taxonomy): { set: LabelSet; rows: number } {
  if (!existsSync(file) || !statSync(file).isFile()) throw new InputError(`--labels ${file}: no such file`);
  const rows = parseLabels(readFileSync(file, "utf8"), file);
  return { set: mapLabelRows(rows, taxonomy, file), rows: rows.length };
}

/** The labelled images found in the folder, in label order; InputError when labels name missing files or none overlap. */
export function matchFolder(folder: string, set: LabelSet, source: string): string[] {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new InputError(`calibrate: ${folder} does not exist or is not a folder`);
  const files = new Map(readdirSync(folder).filter((f) => MIME[extname(f).toLowerCase()]).map((f) => [f.toLowerCase(), f]));
  const paths: string[] = [];
  const missing: string[] = [];
  for (const img of set.images) {
    const name = files.get(basename(img.file).toLowerCase()) ?? (existsSync(join(folder, img.file)) ? img.file : undefined);
    if (name === undefined) missing.push(img.file);
    else paths.push(join(folder, name));
  }
  if (paths.length === 0) {
    throw new InputError(`${source} names no image of ${folder} (${set.images.length} rows, ${files.size} images in the folder; the file column must hold their names, e.g. ${[...files.values()][0] ?? "a.jpg"})`);
  }
  if (missing.length > 0) {
    throw new InputError(`${source} names ${missing.length} file${missing.length === 1 ? "" : "s"} not in ${folder}: ${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ", ..." : ""}`);
  }
  return paths;
}

/** Model names, versions and hashes of an observer, when it exposes them. */
function observerModels(id: string): { library?: string; models: Calibration["observer"]["models"] } {
  if (id !== "faces") return { models: [] };
  const info = facesModelInfo();
  return {
    library: `${info.library}@${info.version} (tfjs ${info.tfjs}, ${info.backend})`,
    models: info.models.map((m) => ({ role: m.role, name: m.name, sha256: m.sha256 })),
  };
}

/** Observes the labelled images with each observer and returns one calibration per observer. */
export async function calibrate(folder: string, opts: CalibrateOptions): Promise<Calibration[]> {
  if (opts.observers.length === 0) throw new InputError("calibrate: name the observer to calibrate with --observer (e.g. faces)");
  const taxonomy = opts.taxonomy ?? builtinTaxonomy();
  const { set, rows } = loadLabels(opts.labels, taxonomy);
  const dir = resolvePath(folder);
  const paths = matchFolder(dir, set, opts.labels);
  const built = opts.observers.map((id) => getObserver(id, { options: opts.observerOptions?.[id] ?? {} }));
  for (const o of built) {
    const seen = set.attributes.filter((a) => !o.sees || o.sees.includes(a));
    if (seen.length === 0) throw new InputError(`calibrate: observer ${o.id} sees ${o.sees!.join(", ")}; ${opts.labels} labels only ${set.attributes.join(", ")}`);
  }
  const observations: Observation[][] = built.map(() => new Array<Observation>(paths.length));
  const total = paths.length * built.length;
  let next = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    while (next < total) {
      const t = next++;
      const o = Math.floor(t / paths.length);
      const k = t % paths.length;
      const path = paths[k]!;
      const image = new Uint8Array(readFileSync(path));
      const observer = built[o]!;
      try {
        observations[o]![k] = await observer.observe({ result: { image, mime: MIME[extname(path).toLowerCase()] ?? "application/octet-stream", warnings: [], meta: { file: path } }, request: { kind: "plain" }, prompt: "" }, taxonomy);
      } catch (e) {
        observations[o]![k] = { observer: observer.id, persons: [], note: `observer failed: ${(e as Error).message}`, error: (e as Error).message };
      }
      opts.onProgress?.(++done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, total) }, lane));
  const createdAt = new Date().toISOString();
  return built.map((o, i) => {
    const failed = observations[i]!.filter((x) => x.error !== undefined);
    if (failed.length === paths.length) throw new InputError(`calibrate: observer ${o.id} failed on every image; the first: ${failed[0]!.error}`);
    return buildCalibration({
      labels: set,
      observations: observations[i]!,
      ...(o.sees ? { sees: o.sees } : {}),
      taxonomy,
      observer: { id: o.id, options: opts.observerOptions?.[o.id] ?? {}, ...observerModels(o.id) },
      source: basename(opts.labels),
      folder,
      rows,
      ...(opts.domain ? { domain: opts.domain } : {}),
      createdAt,
      version: packageVersion(),
    });
  });
}

export { loadCalibration, RUN_CALIBRATION_FILE, withCalibration } from "./analysis/load.js";
