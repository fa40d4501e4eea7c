import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve as resolvePath } from "node:path";
import { loadRun } from "../api.js";
import { InputError } from "../core/errors.js";
import type { ImageProvider } from "../providers/types.js";
import type { KeyScope } from "../http/keys.js";
import type { AttemptQueue } from "../queue/coordinator.js";
import type { ReportInput } from "../analysis/model.js";
import type { RunSummary } from "../analysis/summary.js";
import { packageVersion } from "../util/paths.js";
import { CostBudget, usd } from "../engine/cost.js";
import { EXPERIMENT_DEFAULTS, type PlannedExperiment } from "./config.js";
import {
  EXPERIMENT_FORMAT,
  FINDINGS_FILE,
  isExperimentFolder,
  lockExperiment,
  readManifest,
  RUNS_DIR,
  writeFindings,
  writeManifest,
  type ExperimentCell,
  type ExperimentManifest,
} from "./folder.js";
import { loadReportInput } from "./load.js";
import { runCell, type CellAction } from "./cell.js";
import { CellPool, cellWorkerScript } from "./cell-pool.js";

export interface CellReport {
  cell: ExperimentCell;
  action: CellAction;
  summary: RunSummary;
  ms: number;
  /** Cells finished so far (skipped ones included) and in all. */
  done: number;
  total: number;
}

export interface ExperimentRunOptions {
  /** Cells run at once (default: the config's `jobs`, else 2). */
  jobs?: number;
  /** Abort to stop: cells in flight stop cleanly and the experiment stays resumable. */
  signal?: AbortSignal;
  onCell?: (report: CellReport) => void;
  /** Called once the experiment folder exists, with its path and the number of cells. */
  onStart?: (dir: string, total: number) => void;
  /** Where keys from the environment may be sent (see RunOptions.keyScope). */
  keyScope?: KeyScope;
  /** Build the provider of a cell yourself (tests, custom backends); cells then run in this thread. */
  provider?: (cell: ExperimentCell) => ImageProvider;
  /**
   * Run cells in worker threads, one per job, so `jobs` cells use as many cores. Default: when jobs > 1 and
   * there are at least THREAD_MIN_CELLS_PER_JOB cells per job (a thread takes about 0.3-1 s to load the
   * code). Never without the compiled worker script, or with `provider` or `now` (functions cannot cross threads).
   */
  threads?: boolean;
  now?: () => Date;
  /** Spending cap in USD for the whole experiment (cells already run count); cells stop, resumably, at it. */
  maxCostUsd?: number;
  /** Generate and observe every cell's attempts on this queue's workers (jobs namespaced by run folder). */
  queue?: AttemptQueue;
  /** With `queue`: images come back through this shared folder instead of Redis. */
  queueDir?: string;
}

export interface ExperimentOutcome {
  dir: string;
  manifest: ExperimentManifest;
  /** Everything measured so far, findings included (what the reports use). */
  input: ReportInput;
  /** Cells per status of their run. */
  counts: Record<RunSummary["status"], number>;
  interrupted: boolean;
  /** Cells run (or resumed) by this invocation. */
  ran: number;
  /** With maxCostUsd: what the whole experiment has spent, and the cap's message when it stopped the experiment. */
  spentUsd?: number;
  costStop?: string;
}

/** Fewer cells per job than this run in the calling thread by default: starting the threads would cost more than they gain. */
export const THREAD_MIN_CELLS_PER_JOB = 8;

/**
 * Creates the experiment folder for a plan, or reopens it when it holds the same plan (taking the
 * config's new `check:` block, title and jobs, which change no cell). A folder made from a config that
 * plans other cells is refused with the fix, or, with `fresh`, deleted and started over.
 */
function openFolder(plan: PlannedExperiment, now: Date, fresh: boolean): { dir: string; manifest: ExperimentManifest } {
  const dir = resolvePath(plan.out, plan.id);
  if (isExperimentFolder(dir)) {
    const manifest = readManifest(dir);
    if (manifest.planHash === plan.planHash) {
      const updated: ExperimentManifest = { ...manifest, title: plan.title, config: plan.config as Record<string, unknown> };
      if (JSON.stringify(updated) !== JSON.stringify(manifest)) writeManifest(dir, updated);
      return { dir, manifest: updated };
    }
    if (!fresh) {
      const key = (c: ExperimentCell): string => JSON.stringify([c.id, c.settings]);
      const before = new Set(manifest.cells.map(key));
      const changed = plan.cells.filter((c) => !before.has(key(c))).length;
      throw new InputError(
        `experiment folder ${dir} was made from a different config (${manifest.cells.length} cells there, ${plan.cells.length} in the config, ${changed} new or changed); its results would not match the config: start it over with --fresh (deletes the folder's runs), or write to a new folder with --out DIR`,
      );
    }
    // --fresh: only when no process works on it.
    lockExperiment(dir)();
    rmSync(dir, { recursive: true, force: true });
  }
  // An empty folder is taken (a kill before experiment.json was written leaves one).
  if (existsSync(dir) && readdirSync(dir).some((f) => f !== RUNS_DIR || readdirSync(join(dir, f)).length > 0)) {
    throw new InputError(`${dir} exists and is not an experiment folder; give the experiment another id or --out`);
  }
  mkdirSync(join(dir, RUNS_DIR), { recursive: true });
  const manifest: ExperimentManifest = {
    format: EXPERIMENT_FORMAT,
    id: plan.id,
    title: plan.title,
    createdAt: now.toISOString(),
    version: packageVersion(),
    ...(plan.configFile ? { configFile: plan.configFile } : {}),
    config: plan.config as Record<string, unknown>,
    planHash: plan.planHash,
    cells: plan.cells,
  };
  writeManifest(dir, manifest);
  return { dir, manifest };
}

/** Runs the cells of the experiment in `dir` under its lock, `jobs` at a time (finished cells are skipped), and writes findings.json once every cell is done. */
async function runCells(dir: string, manifest: ExperimentManifest, jobs: number, options: ExperimentRunOptions): Promise<ExperimentOutcome> {
  const unlock = lockExperiment(dir);
  const total = manifest.cells.length;
  let done = 0;
  let ran = 0;
  let failure: unknown;
  // An internal controller stops the other cells when one fails.
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const cellOptions = { ...options, signal: stop.signal };
  let budget: CostBudget | undefined;
  let costStop: string | undefined;
  if (options.maxCostUsd !== undefined) {
    // What the cells already run have spent counts against the cap.
    let spent = 0;
    for (const c of manifest.cells) {
      const runDir = join(dir, RUNS_DIR, c.id);
      if (existsSync(join(runDir, "run.json"))) spent += loadRun(runDir).summary.costUsd ?? 0;
    }
    budget = new CostBudget(options.maxCostUsd, spent);
  }
  let pool: CellPool | undefined;
  try {
    options.onStart?.(dir, total);
    const queue = [...manifest.cells];
    const width = Math.max(1, Math.min(jobs, total));
    const script = cellWorkerScript();
    // Cells run in worker threads unless something of this thread must be shared with them: a custom
    // provider or clock, a spending cap over all cells, a queue connection, or a key scope (the dashboard).
    const inThread = Boolean(options.provider || options.now || budget || options.queue || options.keyScope);
    const threaded = (options.threads ?? total >= THREAD_MIN_CELLS_PER_JOB * width) && width > 1 && script !== undefined && !inThread;
    if (threaded) pool = new CellPool(script, width, stop.signal);
    const runOne = (cell: ExperimentCell, slot: number): ReturnType<typeof runCell> => (pool ? pool.run(slot, dir, cell) : runCell(dir, cell, cellOptions, budget));
    const worker = async (slot: number): Promise<void> => {
      for (;;) {
        if (stop.signal.aborted) return;
        if (costStop) return;
        const cell = queue.shift();
        if (!cell) return;
        const started = Date.now();
        try {
          const { action, summary } = await runOne(cell, slot);
          if (summary.status === "cost") costStop ??= `${summary.message ?? "spending cap reached"}; the experiment stopped at cell ${cell.id} (continue with a larger --max-cost)`;
          if (action !== "skipped") ran += 1;
          if (summary.status !== "incomplete") done += 1;
          options.onCell?.({ cell, action, summary, ms: Date.now() - started, done, total });
        } catch (e) {
          failure ??= e;
          stop.abort(e);
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: width }, (_, slot) => worker(slot)));
  } finally {
    await pool?.close();
    options.signal?.removeEventListener("abort", onAbort);
    unlock();
  }
  if (failure !== undefined) throw failure instanceof InputError ? new InputError(`experiment ${dir}: ${failure.message}`) : failure;
  const input = loadReportInput(dir);
  const counts: ExperimentOutcome["counts"] = { complete: 0, budget: 0, "provider-errors": 0, "observer-errors": 0, cost: 0, incomplete: 0 };
  const finished = new Set(input.runs.map((r) => r.id));
  for (const r of input.runs) counts[r.summary.status] += 1;
  counts.incomplete += manifest.cells.filter((c) => !finished.has(c.id)).length;
  if ((input.incomplete ?? []).length === 0) {
    writeFindings(dir, {
      format: EXPERIMENT_FORMAT,
      computedAt: (options.now?.() ?? new Date()).toISOString(),
      findings: input.findings ?? [],
      effectSummary: input.effectSummary ?? [],
      effects: input.effects ?? [],
    });
  } else rmSync(join(dir, FINDINGS_FILE), { force: true });
  return {
    dir,
    manifest,
    input,
    counts,
    interrupted: Boolean(options.signal?.aborted),
    ran,
    ...(budget ? { spentUsd: budget.spent } : {}),
    ...(costStop ? { costStop: costStop.replace(/\$[\d.]+ spent/, `${usd(budget!.spent)} spent`) } : {}),
  };
}

/**
 * Runs an experiment: creates `<out>/<id>/` with experiment.json, runs every cell into
 * `runs/<cell-id>/` (up to `jobs` at once) and writes findings.json once every cell is done. Run again
 * with the same plan, it skips finished cells and resumes the others.
 */
export async function runExperiment(plan: PlannedExperiment, options: ExperimentRunOptions & { fresh?: boolean } = {}): Promise<ExperimentOutcome> {
  const { dir, manifest } = openFolder(plan, options.now?.() ?? new Date(), options.fresh ?? false);
  return runCells(dir, manifest, options.jobs ?? plan.jobs, options);
}

/** Continues the experiment in `dir` from its own experiment.json (no config file needed). */
export async function resumeExperiment(dir: string, options: ExperimentRunOptions = {}): Promise<ExperimentOutcome> {
  const abs = resolvePath(dir);
  if (!isExperimentFolder(abs)) throw new InputError(`${dir} is not an experiment folder (no experiment.json)`);
  const manifest = readManifest(abs);
  const jobs = options.jobs ?? (typeof manifest.config.jobs === "number" ? manifest.config.jobs : EXPERIMENT_DEFAULTS.jobs);
  return runCells(abs, manifest, jobs, options);
}
