import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import { InputError } from "../core/errors.js";
import { mainSubject } from "../core/request.js";
import { slugify } from "../core/taxonomy.js";
import type { AttemptEvent } from "../store/events.js";
import { toCsv, type Row, type Table } from "./export.js";
import type { ReportInput, ReportRun } from "../analysis/model.js";
import { writeAtomic } from "../store/files.js";
import { missingKeptImages } from "../store/run-folder.js";
import { hasRunImage, readRunImage } from "../store/images.js";

/** The manifest written next to the copied images. */
export const IMAGES_MANIFEST = "manifest.csv";
/** Where the images that were generated but not kept go (overflow, unknown, surplus). */
export const SET_APART_DIR = "set-apart";

/** A category id as a file-name piece: `65+` -> `65plus`, `latino_hispanic` stays. */
const namePiece = (id: string): string => slugify(id.replace(/\+/g, "plus")) || "x";

/**
 * The readable name of an image: its index in the set and what the observer saw of the run's controlled
 * attributes, e.g. `03-black-female.png`; a set-apart image says why (`07-overflow-white-male.png`).
 */
export function imageFileName(index: number, width: number, run: ReportRun, e: AttemptEvent, ext: string): string {
  const seen = e.observation ? mainSubject(e.observation) : {};
  const attrs = run.record.target.attributes;
  const cell = attrs.map((a) => namePiece(seen[a] ?? "unknown"));
  const parts = [String(index).padStart(width, "0"), ...(e.decision === "kept" ? [] : [e.decision]), ...cell];
  return `${parts.join("-")}${ext}`;
}

/** Image attempts of a run in the order they were kept (or set apart): the order of events.jsonl. */
const imageEvents = (run: ReportRun): AttemptEvent[] => run.events.filter((e): e is AttemptEvent => e.type === "attempt" && e.outcome === "image" && Boolean(e.image));

/**
 * Copies a run's (or every experiment cell's) images into `out` with readable names: the kept images
 * at the top (an experiment: one folder per cell), the others under `set-apart/`, and a manifest CSV
 * saying for every file which run and attempt it is, whether it is in the set, what was seen in it and
 * where it came from (a run-relative path). Refuses a folder that already holds files, so nothing of
 * the user's is overwritten; a kept image whose file is missing is an error (the set would be short).
 */
export function exportImages(input: ReportInput, outDir: string): { dir: string; kept: number; setApart: number; manifest: string } {
  const out = resolve(outDir);
  if (existsSync(out) && readdirSync(out).length > 0) throw new InputError(`--images ${outDir}: the folder exists and is not empty; give a new or empty folder`);
  const attrs = [...new Set(input.runs.flatMap((r) => r.record.taxonomy.attributes.filter((a) => a.categories.length > 0).map((a) => a.id)))];
  const rows: Row[] = [];
  let kept = 0;
  let setApart = 0;
  for (const run of input.runs) {
    const events = imageEvents(run);
    const missing = missingKeptImages(run.runDir, run.events);
    if (missing.length > 0) {
      throw new InputError(`run ${run.runDir}: ${missing.length} kept image file${missing.length === 1 ? " is" : "s are"} missing (${missing[0]!}); the set cannot be exported whole`);
    }
    const base = input.kind === "experiment" ? join(out, run.id) : out;
    const keptEvents = events.filter((e) => e.decision === "kept");
    const apartEvents = events.filter((e) => e.decision !== "kept" && hasRunImage(run.runDir, e.image!));
    const width = Math.max(2, String(Math.max(keptEvents.length, apartEvents.length)).length);
    const copy = (list: AttemptEvent[], dir: string, set: "kept" | "set-apart"): void => {
      if (list.length === 0) return;
      mkdirSync(dir, { recursive: true });
      list.forEach((e, k) => {
        const name = imageFileName(k + 1, width, run, e, extname(e.image!) || ".png");
        const source = join(run.runDir, e.image!);
        if (existsSync(source)) copyFileSync(source, join(dir, name));
        else writeFileSync(join(dir, name), readRunImage(run.runDir, e.image!)!.bytes); // a drawing, drawn now
        const seen = e.observation ? mainSubject(e.observation) : {};
        const row: Row = {
          file: join(dir, name).slice(out.length + 1).split("\\").join("/"),
          set,
          decision: e.decision,
          run_id: run.id,
          i: e.i,
          seed: e.seed,
          prompt: e.prompt,
          source: e.image!,
        };
        for (const a of attrs) row[`observed.${a}`] = seen[a] ?? null;
        rows.push(row);
      });
    };
    copy(keptEvents, base, "kept");
    copy(apartEvents, join(base, SET_APART_DIR), "set-apart");
    kept += keptEvents.length;
    setApart += apartEvents.length;
  }
  mkdirSync(out, { recursive: true });
  const table: Table = { name: "manifest", columns: ["file", "set", "decision", "run_id", "i", "seed", "prompt", "source", ...attrs.map((a) => `observed.${a}`)], rows };
  const manifest = join(out, IMAGES_MANIFEST);
  writeAtomic(manifest, toCsv(table));
  return { dir: out, kept, setApart, manifest };
}
