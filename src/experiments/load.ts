import { existsSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { loadReportRun, runInProgress } from "../analysis/load.js";
import { checkThresholdsSchema } from "../config/check-schema.js";
import { InputError } from "../core/errors.js";
import type { ReportInput, ReportRun } from "../analysis/model.js";

export { loadReportRun, runInProgress };
import { packageVersion } from "../util/paths.js";
import { crossAttributeEffects, summarizeCrossEffects } from "../analysis/effects.js";
import { computeFindings } from "../analysis/findings.js";
import { isExperimentFolder, readManifest, RUNS_DIR } from "./folder.js";
import { AUDIT_PROVIDER } from "../analysis/summary.js";
import { auditReportOf } from "../analysis/audit-info.js";
import type { AuditReport } from "../analysis/model.js";

/** An audit's title: what was audited and by whom (an audit has no policy or target of a run). */
const auditTitle = (a: AuditReport): string =>
  `Audit of ${basename(a.source) || a.source} (${a.observers[0]}${a.observers.length > 1 ? `, checked by ${a.observers.slice(1).join(", ")}` : ""})`;

/** A run is finished when it wrote its end line and no process works on it. */
export const isFinished = (r: ReportRun): boolean => r.summary.status !== "incomplete" && !r.inProgress;

/** What loadReportInput computes besides the runs. */
export interface LoadOptions {
  /** Experiments: the paper's findings and the cross-attribute effects (default true; `check` needs neither). */
  analysis?: boolean;
  /** A calibration file of the runs' observer: corrected estimates beside the raw shares. */
  calibration?: string;
}

function loadExperiment(dir: string, options: LoadOptions): ReportInput {
  const manifest = readManifest(dir);
  const runs: ReportRun[] = [];
  const incomplete: string[] = [];
  for (const cell of manifest.cells) {
    const runDir = join(dir, RUNS_DIR, cell.id);
    if (!existsSync(join(runDir, "run.json"))) {
      incomplete.push(cell.id);
      continue;
    }
    const r = loadReportRun(runDir, cell.id, cell.labels, options.calibration);
    runs.push(r);
    if (!isFinished(r)) incomplete.push(cell.id);
  }
  const check = checkThresholdsSchema.safeParse(manifest.config.check);
  if (manifest.config.check !== undefined && !check.success) throw new InputError(`experiment folder ${dir}: experiment.json has an invalid check: block (${check.error.issues[0]?.message ?? "invalid"})`);
  const input: ReportInput = {
    kind: "experiment",
    title: manifest.title,
    dir,
    createdAt: manifest.createdAt,
    version: manifest.version,
    runs,
    incomplete,
    ...(manifest.config.check !== undefined && check.success ? { check: check.data } : {}),
  };
  if (options.analysis === false) return input;
  const finished = runs.filter(isFinished);
  const effects = crossAttributeEffects(finished);
  return { ...input, findings: computeFindings(finished, effects), effects, effectSummary: summarizeCrossEffects(effects) };
}

/**
 * What every report is built from (HTML, `export`, `check`, the dashboard): a run folder (one run,
 * labelled from its config) or an experiment folder (all its cell runs, the paper's findings computed
 * from the finished ones, cross-attribute effects, and the cells not finished yet; `analysis: false`
 * leaves out the findings and effects). InputError for a folder that is neither, or an experiment
 * folder of another format version.
 */
export function loadReportInput(folder: string, options: LoadOptions = {}): ReportInput {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`${folder} does not exist or is not a folder`);
  if (isExperimentFolder(dir)) return loadExperiment(dir, options);
  if (!existsSync(join(dir, "run.json"))) {
    throw new InputError(`${folder} is neither a run folder (no run.json) nor an experiment folder (no experiment.json)`);
  }
  const run = loadReportRun(dir, undefined, undefined, options.calibration);
  const audit = run.summary.provider === AUDIT_PROVIDER ? auditReportOf(dir, run.record, run.summary.kept) : undefined;
  return {
    kind: "run",
    ...(audit ? { audit } : {}),
    title: audit ? auditTitle(audit) : `${run.labels.prompt} (${run.labels.policy}, ${run.labels.target})`,
    dir,
    createdAt: run.record.createdAt,
    version: run.record.version ?? packageVersion(),
    runs: [run],
  };
}
