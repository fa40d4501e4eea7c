/**
 * The one run loader: a run folder read back through the store (every file checked against its schema),
 * measured (summarizeRun), corrected with a calibration when the run carries one or one is given, and,
 * for the reports, labelled with its place in the experiment matrix. The dashboard caches `loadRun`,
 * its live feed tails events.jsonl, and audit reads a folder's kept images through the store directly.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parseCalibration, type Calibration } from "../calibration/schema.js";
import { InputError } from "../core/errors.js";
import { storedConfig } from "../config/stored.js";
import type { RunEvent } from "../store/events.js";
import { lockHolder } from "../store/files.js";
import { missingImagesProblem, RunFolder, type LoadedRun } from "../store/run-folder.js";
import { applyCalibration } from "./corrected.js";
import { targetLabel } from "./labels.js";
import type { ReportRun } from "./model.js";
import { storedRunInput, summarizeRun, type RunRecord, type RunSummary } from "./summary.js";

/** Reads a calibration file (made by `debiaspi calibrate`); InputError when it is missing or not a calibration. */
export function loadCalibration(file: string): Calibration {
  if (!existsSync(file) || !statSync(file).isFile()) throw new InputError(`--calibration ${file}: no such file; make one with debiaspi calibrate`);
  return parseCalibration(readFileSync(file, "utf8"), file);
}

/** The calibration file a run folder carries when it was run with one (copied in at its start). */
export const RUN_CALIBRATION_FILE = "calibration.json";

/**
 * Adds corrected estimates to a run's summary: with `file` (a --calibration flag), or with the calibration
 * the run folder carries. Unchanged without either.
 */
export function withCalibration(dir: string, record: RunRecord, events: readonly RunEvent[], summary: RunSummary, file?: string): RunSummary {
  const path = file ?? (existsSync(join(dir, RUN_CALIBRATION_FILE)) ? join(dir, RUN_CALIBRATION_FILE) : undefined);
  if (path === undefined) return summary;
  const cal = loadCalibration(path);
  return applyCalibration(summary, events, cal, file ?? basename(path), record.taxonomy, record.config.observerOptions?.[record.config.observer]);
}

/** A loaded run folder's record with its config checked as settings (the store checked the rest of run.json). */
export const recordOf = (loaded: LoadedRun): RunRecord => ({ ...loaded.run, config: storedConfig(loaded.run.config, `run folder ${loaded.dir}: run.json`) });

/**
 * Loads a run folder's record and events (no changes made) and measures them. `missing` says, in one line,
 * which kept images are gone from the folder (the measurements then describe a set that is not all on disk).
 */
export function loadRun(dir: string, options: { calibration?: string } = {}): { record: RunRecord; events: RunEvent[]; summary: RunSummary; missing?: string } {
  const loaded = RunFolder.load(dir);
  const record = recordOf(loaded);
  const missing = missingImagesProblem(loaded);
  const summary = withCalibration(dir, record, loaded.events, summarizeRun(storedRunInput(dir, record, loaded.events)), options.calibration);
  return { record, events: loaded.events, summary, ...(missing ? { missing } : {}) };
}

/** Whether a live process holds the run folder's lock (it is being generated right now). */
export const runInProgress = (runDir: string): boolean => lockHolder(join(runDir, "run.lock")) !== undefined;

/** One run folder as a report run; labels from its config (prompt set "single") unless given. */
export function loadReportRun(runDir: string, id?: string, labels?: ReportRun["labels"], calibration?: string): ReportRun {
  const dir = resolve(runDir);
  const { record, events, summary } = loadRun(dir, calibration !== undefined ? { calibration } : {});
  const { config } = record;
  return {
    id: id ?? record.id,
    labels: labels ?? {
      promptSet: "single",
      prompt: config.prompt,
      policy: config.policy,
      target: targetLabel(config, record.target),
      observer: config.observer,
      provider: config.provider,
    },
    runDir: dir,
    record,
    events,
    summary,
    ...(runInProgress(dir) ? { inProgress: true } : {}),
  };
}
