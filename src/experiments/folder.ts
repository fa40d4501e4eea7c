import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { InputError } from "../core/errors.js";
import type { CellLabels, CrossAttributeEffect, CrossEffectRow, Finding } from "../analysis/model.js";
import { lockHolder, writeAtomic } from "../store/files.js";

/**
 * The experiment folder:
 *
 * ```
 * <out>/<experiment-id>/experiment.json   format, resolved config, the cells (ids, labels, run settings), version
 * <out>/<experiment-id>/runs/<cell-id>/   one ordinary run folder per cell
 * <out>/<experiment-id>/findings.json     the paper's findings and cross-attribute effects, once every cell is done
 * <out>/<experiment-id>/experiment.lock   pid of the process working on it
 * ```
 */
export const EXPERIMENT_FORMAT = "debiaspi-experiment/1";
const MANIFEST_FILE = "experiment.json";
export const FINDINGS_FILE = "findings.json";
export const RUNS_DIR = "runs";

export interface ExperimentCell {
  /** Also the name of its run folder under runs/. */
  id: string;
  labels: CellLabels;
  /** The run settings of the cell (what `run()` is given), without `out`. */
  settings: Record<string, unknown>;
}

export interface ExperimentManifest {
  format: string;
  id: string;
  title: string;
  createdAt: string;
  version: string;
  /** The config file it was made from, as given. */
  configFile?: string;
  /** The validated experiment config (prompt files read in: see `cells` for every prompt). */
  config: Record<string, unknown>;
  /** Hash of the cells: a rerun with a config that plans other cells is refused. */
  planHash: string;
  cells: ExperimentCell[];
}

export interface FindingsFile {
  format: string;
  computedAt: string;
  findings: Finding[];
  effectSummary: CrossEffectRow[];
  effects: CrossAttributeEffect[];
}

const labelsSchema = z.object({
  promptSet: z.string().optional(),
  prompt: z.string(),
  policy: z.string(),
  target: z.string(),
  observer: z.string(),
  provider: z.string(),
  part: z.string().optional(),
  concept: z.string().optional(),
});

const manifestSchema = z.object({
  format: z.string(),
  id: z.string().min(1),
  title: z.string(),
  createdAt: z.string(),
  version: z.string(),
  configFile: z.string().optional(),
  config: z.record(z.string(), z.unknown()),
  planHash: z.string(),
  cells: z.array(z.object({ id: z.string().min(1), labels: labelsSchema, settings: z.record(z.string(), z.unknown()) })),
});


export function writeManifest(dir: string, manifest: ExperimentManifest): void {
  writeAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

export function writeFindings(dir: string, file: FindingsFile): void {
  writeAtomic(join(dir, FINDINGS_FILE), `${JSON.stringify(file, null, 2)}\n`);
}

/** Reads and checks experiment.json; one clear InputError for a damaged file or another format version. */
export function readManifest(dir: string): ExperimentManifest {
  const path = join(dir, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new InputError(`experiment folder ${dir}: ${MANIFEST_FILE} is missing or not valid JSON (${(e as Error).message.split("\n")[0]})`);
  }
  const format = (raw as { format?: unknown } | null)?.format;
  if (typeof format !== "string" || !format.startsWith("debiaspi-experiment/")) {
    throw new InputError(`experiment folder ${dir}: ${MANIFEST_FILE} has no debiaspi experiment format (got ${JSON.stringify(format)}); it was not written by debiaspi`);
  }
  if (format !== EXPERIMENT_FORMAT) {
    const by = (raw as { version?: unknown }).version;
    throw new InputError(
      `experiment folder ${dir} has format ${format}${typeof by === "string" ? ` (written by debiaspi ${by})` : ""}; this version reads ${EXPERIMENT_FORMAT}: run the experiment's config again into a new folder`,
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`experiment folder ${dir}: ${MANIFEST_FILE} is damaged at ${issue.path.join(".") || "(top level)"}: ${issue.message}`);
  }
  return parsed.data as ExperimentManifest;
}

export const isExperimentFolder = (dir: string): boolean => existsSync(join(dir, MANIFEST_FILE));


/** Takes the experiment's lock; InputError when another live process works on it. */
export function lockExperiment(dir: string): () => void {
  const path = join(dir, "experiment.lock");
  const holder = lockHolder(path);
  if (holder !== undefined) throw new InputError(`experiment ${dir} is in progress in process ${holder}; wait for it or stop it first`);
  writeFileSync(path, String(process.pid));
  return () => rmSync(path, { force: true });
}
