import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, extname, join, relative, resolve as resolvePath } from "node:path";
import { writeAtomic } from "./store/files.js";
import { withDefaults, type RunConfig } from "./config/resolve.js";
import { InputError } from "./core/errors.js";
import { resolveTarget, type Target } from "./core/target.js";
import { builtinTaxonomy, type Taxonomy } from "./core/taxonomy.js";
import { getObserver, type Observer } from "./observers/index.js";
import { DEFAULT_TEMPLATES } from "./prompts/templates.js";
import { isDrawing } from "./image/drawing.js";
import type { GenerateResult } from "./providers/types.js";
import { AUDIT_PROVIDER, summarizeRun, type MeasuredEvent, type RunRecord, type RunSummary, type SummarySettings } from "./analysis/summary.js";
import type { AttemptEvent } from "./store/events.js";
import type { Observation } from "./core/request.js";
import { missingImagesProblem, RUN_FORMAT, RunFolder } from "./store/run-folder.js";
import { packageVersion } from "./util/paths.js";
import { loadCalibration, loadLabels, matchFolder, RUN_CALIBRATION_FILE } from "./calibrate.js";
import { checkCalibrationFits, type Calibration } from "./calibration/schema.js";
import { applyCalibration } from "./analysis/corrected.js";
import { recordOf } from "./analysis/load.js";
import { decodeImage } from "./image/decode.js";
import { AUDIT_INFO_FILE, auditPrompt as auditPromptOf, type AuditFolderInfo, type UnreadableFile } from "./analysis/audit-info.js";

export type { UnreadableFile };

/** Images observed at once; results keep the folder's order either way. */
const IN_FLIGHT = 4;

const MIME: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".tif": "image/tiff",
  ".tiff": "image/tiff",
  ".gif": "image/gif",
};

export interface AuditOptions {
  /** Observers by id; the first is the one reported, the others are compared with it. */
  observers: string[];
  observerOptions?: Record<string, Record<string, unknown>>;
  /** Attributes (and optional weights) to compare against a target; without them only distributions are shown. */
  attributes?: string[];
  weights?: Record<string, Record<string, number>>;
  counting?: "main-subject" | "per-person";
  onProgress?: (done: number, total: number) => void;
  /** A calibration file of the first observer: corrected shares beside the raw ones. */
  calibration?: string;
  /** A labels file (as for calibrate): the labels become each image's truth, and misread images are listed. */
  labels?: string;
  /** Write an audit folder here (a run folder that show, report, export and check read); must not exist. */
  out?: string;
}

/** One image of an audit: what every person in it was seen as, the main subject's labels, and its labels when given. */
export interface AuditImage {
  file: string;
  people: Record<string, string | null>[];
  labels: Record<string, string | null>;
  truth?: Record<string, string>;
}

export interface AuditResult {
  summary: RunSummary;
  images: AuditImage[];
  /** With labels: every image and attribute where the main subject's label differs from the truth (unknown included). */
  misread: { file: string; attribute: string; truth: string; observed: string | null }[];
  /** The audit folder written, with --out. */
  folder?: string;
  /** Files that are not readable images (could not be read, or do not decode): left out of every count. */
  unreadable: UnreadableFile[];
}

/** Side of the small decode that proves a file is an image (JPEG is shrunk while it is decoded, so it stays cheap). */
const PROBE_SIDE = 64;

/** Why the bytes are not a readable image, or undefined when they decode. */
async function undecodable(bytes: Uint8Array, mime: string): Promise<string | undefined> {
  try {
    await decodeImage(bytes, { maxSide: PROBE_SIDE, mime });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

interface ImageItem {
  path: string;
  mime: string;
  /** The run's self-report and revised prompt, when auditing a run folder. */
  result?: Partial<GenerateResult>;
}

/** The images of a folder (png, jpg, webp, avif, tiff, gif, sorted) or of a run folder (its kept images, with their self-reports). */
function listImages(source: string): { items: ImageItem[]; isRun: boolean } {
  if (!existsSync(source) || !statSync(source).isDirectory()) throw new InputError(`audit: ${source} does not exist or is not a folder`);
  if (existsSync(join(source, "run.json"))) {
    const loaded = RunFolder.load(source);
    recordOf(loaded); // its settings are checked as every run loader checks them
    const missing = missingImagesProblem(loaded);
    if (missing) throw new InputError(`audit: ${missing}`);
    const items = loaded.events
      .filter((e): e is AttemptEvent => e.type === "attempt" && e.decision === "kept" && e.image !== undefined)
      .map((e) => ({
        path: join(source, e.image!),
        mime: MIME[extname(e.image!).toLowerCase()] ?? "application/octet-stream",
        result: {
          ...(e.selfReport ? { selfReport: e.selfReport } : {}),
          ...(e.revisedPrompt ? { revisedPrompt: e.revisedPrompt } : {}),
          // A drawing has no file: the observers draw it from its name.
          ...(isDrawing(e.image!) ? { drawing: basename(e.image!) } : {}),
        },
      }));
    return { items, isRun: true };
  }
  const items = readdirSync(source)
    .filter((f) => MIME[extname(f).toLowerCase()] !== undefined)
    .sort()
    .map((f) => ({ path: join(source, f), mime: MIME[extname(f).toLowerCase()]! }));
  if (items.length === 0) throw new InputError(`audit: ${source} holds no images (accepted: ${Object.keys(MIME).join(", ")})`);
  return { items, isRun: false };
}

/**
 * Measures the demographic distribution of any folder of images (any model's output) or of a run
 * folder with the given observers, and summarises it with the same tables, intervals and JSON as
 * `show`. Files that cannot be read or do not decode as images are listed as unreadable and left out
 * of every count (never a crash); a folder with no readable image at all is an InputError.
 */
export async function audit(source: string, opts: AuditOptions): Promise<RunSummary> {
  return (await auditImages(source, opts)).summary;
}

/** The audit with every image's observations, the misread images (with labels) and the audit folder (with out). */
export async function auditImages(source: string, opts: AuditOptions): Promise<AuditResult> {
  if (opts.observers.length === 0) throw new InputError("audit: name at least one observer with --observer");
  // Read before any image is observed: a wrong calibration is refused at once.
  const cal = opts.calibration !== undefined ? loadCalibration(opts.calibration) : undefined;
  if (cal) checkCalibrationFits(cal, opts.observers[0]!, builtinTaxonomy(), opts.calibration!, opts.observerOptions?.[opts.observers[0]!]);
  const dir = resolvePath(source);
  const { items } = listImages(dir);
  const outDir = opts.out !== undefined ? resolvePath(opts.out) : undefined;
  if (outDir !== undefined && existsSync(outDir)) throw new InputError(`audit --out ${opts.out}: already exists; choose a new folder`);
  const truthOf = new Map<string, Record<string, string>>();
  if (opts.labels !== undefined) {
    const { set } = loadLabels(opts.labels, builtinTaxonomy());
    matchFolder(dir, set, opts.labels);
    for (const img of set.images) truthOf.set(basename(img.file).toLowerCase(), img.truth);
  }
  const built: Observer[] = opts.observers.map((id) => getObserver(id, { options: opts.observerOptions?.[id] ?? {} }));
  const taxonomy: Taxonomy = builtinTaxonomy();
  const targetOf = (count: number): Target =>
    opts.attributes && opts.attributes.length > 0
      ? resolveTarget(taxonomy, { attributes: opts.attributes, ...(opts.weights ? { weights: opts.weights } : {}) }, count)
      : { n: count, factors: [], attributes: [] };
  targetOf(items.length); // a wrong attribute or weight is refused before any image is read
  const found = items.length;
  const seenAt: (SeenImage | UnreadableFile | undefined)[] = new Array(found);
  const observeItem = async (i: number): Promise<void> => {
    const item = items[i]!;
    let result: GenerateResult;
    if (item.result?.drawing) {
      // A run's drawing has no file and always draws: the observers draw it from its name.
      result = { ...item.result, mime: item.mime, warnings: [], meta: { file: item.path } };
    } else {
      let image: Uint8Array;
      try {
        image = new Uint8Array(readFileSync(item.path));
      } catch (e) {
        seenAt[i] = { file: relative(dir, item.path), reason: `could not be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
        return;
      }
      const why = await undecodable(image, item.mime);
      if (why !== undefined) {
        seenAt[i] = { file: relative(dir, item.path), reason: why };
        return;
      }
      result = { ...(item.result ?? {}), image, mime: item.mime, warnings: [], meta: { file: item.path } };
    }
    const truth = truthOf.get(basename(item.path).toLowerCase());
    const observations = await Promise.all(
      built.map(async (o) => {
        try {
          return await o.observe({ result, request: { kind: "plain" }, prompt: "" }, taxonomy);
        } catch (e) {
          return { observer: o.id, persons: [], note: `observer failed: ${(e as Error).message}` };
        }
      }),
    );
    seenAt[i] = { path: item.path, t: new Date().toISOString(), observations, ...(truth ? { truth } : {}) };
  };
  // A few images in flight, so observers that work in parallel (faces' worker threads, a vlm server) are kept busy.
  const inFlight = Math.max(1, Math.min(IN_FLIGHT, found));
  let nextIndex = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (nextIndex < found) {
        const i = nextIndex++;
        await observeItem(i);
        opts.onProgress?.(++done, found);
      }
    }),
  );
  const seen = seenAt.filter((s): s is SeenImage => s !== undefined && "observations" in s);
  const unreadable = seenAt.filter((s): s is UnreadableFile => s !== undefined && "reason" in s);
  if (seen.length === 0) {
    const first = unreadable[0];
    throw new InputError(
      `audit: none of the ${found} files in ${dir} is a readable image${first ? ` (e.g. ${first.file}: ${first.reason})` : ""}; accepted: ${Object.keys(MIME).join(", ")} files that decode`,
    );
  }
  const n = seen.length;
  const target = targetOf(n);
  // Every image was observed and counts as kept; the first observer is the one reported, the others check it.
  const measured: MeasuredEvent[] = seen.map((img, i) => ({
    type: "attempt" as const,
    i,
    request: { kind: "plain" as const },
    outcome: "image" as const,
    decision: "kept" as const,
    observation: img.observations[0]!,
    ...(img.observations.length > 1 ? { checks: img.observations.slice(1) } : {}),
    ...(img.truth ? { meta: { truth: img.truth } } : {}),
  }));
  measured.push({ type: "end", reason: "complete" });
  const id = `audit-${n}-images`;
  const auditPrompt = auditPromptOf(dir);
  const info: AuditFolderInfo = { source: dir, observers: opts.observers, unreadable };
  const folder = outDir !== undefined ? writeAuditFolder(outDir, id, auditPrompt, seen, taxonomy, target, opts, cal, info) : undefined;
  const settings: SummarySettings = {
    prompt: auditPrompt,
    policy: "none",
    mode: "direct",
    overflow: "keep",
    provider: AUDIT_PROVIDER,
    observer: opts.observers[0]!,
    seed: 0,
    n,
    counting: opts.counting ?? "main-subject",
  };
  const raw = summarizeRun({ dir: folder ?? dir, id, settings, taxonomy, target, events: measured });
  const summary = cal ? applyCalibration(raw, measured, cal, opts.calibration!, taxonomy, opts.observerOptions?.[opts.observers[0]!]) : raw;
  const images: AuditImage[] = seen.map((img) => {
    const persons = img.observations[0]?.persons ?? [];
    return { file: relative(dir, img.path), people: persons.map((p) => p.labels), labels: persons[0]?.labels ?? {}, ...(img.truth ? { truth: img.truth } : {}) };
  });
  const misread = images.flatMap((img) =>
    Object.entries(img.truth ?? {})
      .filter(([a, t]) => (img.labels[a] ?? null) !== t && (!built[0]!.sees || built[0]!.sees.includes(a)))
      .map(([a, t]) => ({ file: img.file, attribute: a, truth: t, observed: img.labels[a] ?? null })),
  );
  return { summary, images, misread, unreadable, ...(folder ? { folder } : {}) };
}

/** What an audit learnt of one image: the observers' readings and, with labels, its truth. */
interface SeenImage {
  /** Absolute path of the audited file. */
  path: string;
  /** When it was observed. */
  t: string;
  observations: Observation[];
  truth?: Record<string, string>;
}

/**
 * The audit folder of --out: a run folder (run.json, the images copied in, one kept attempt line per image) that show,
 * report, export and check read. Written under a temporary name and renamed at the end: a failed audit leaves no half folder.
 */
function writeAuditFolder(
  outDir: string,
  id: string,
  prompt: string,
  seen: readonly SeenImage[],
  taxonomy: Taxonomy,
  target: Target,
  opts: AuditOptions,
  cal: Calibration | undefined,
  info: AuditFolderInfo,
): string {
  const n = seen.length;
  // An audit is a record of observations, not of generations: no policy, no provider, every image kept.
  const config: RunConfig = withDefaults({
    prompt,
    n,
    attributes: opts.attributes ?? [],
    target: opts.weights ?? {},
    policy: "none",
    overflow: "keep",
    seed: 0,
    concurrency: 1,
    maxAttempts: n,
    out: outDir,
    provider: AUDIT_PROVIDER,
    cache: false,
    observer: opts.observers[0]!,
    checks: opts.observers.slice(1),
    ...(opts.counting ? { counting: opts.counting } : {}),
    ...(opts.observerOptions ? { observerOptions: opts.observerOptions } : {}),
    templates: DEFAULT_TEMPLATES,
  });
  const record: RunRecord = { format: RUN_FORMAT, id, createdAt: new Date().toISOString(), version: packageVersion(), config, taxonomy, target };
  const tmp = `${outDir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const run = RunFolder.create(tmp, record);
  seen.forEach((img, i) => {
    let rel: string | undefined;
    try {
      rel = run.writeImage(new Uint8Array(readFileSync(img.path)), MIME[extname(img.path).toLowerCase()] ?? "application/octet-stream");
    } catch {
      rel = undefined;
    }
    run.append({
      type: "attempt",
      i,
      t: img.t,
      request: { kind: "plain" },
      prompt: "",
      seed: 0,
      outcome: "image",
      ...(rel !== undefined ? { image: rel } : {}),
      observation: img.observations[0]!,
      ...(img.observations.length > 1 ? { checks: img.observations.slice(1) } : {}),
      decision: "kept",
      kept: i + 1,
      ms: 0,
      meta: { file: img.path, ...(img.truth ? { truth: img.truth } : {}) },
    });
  });
  run.append({ type: "end", t: new Date().toISOString(), reason: "complete" });
  run.close();
  // A finished audit folder holds no lock (its process is about to exit; a later process with the same pid would seem to hold it).
  run.unlock();
  if (cal) writeAtomic(join(tmp, RUN_CALIBRATION_FILE), `${JSON.stringify(cal, null, 2)}\n`);
  writeAtomic(join(tmp, AUDIT_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
  renameSync(tmp, outDir);
  return outDir;
}
