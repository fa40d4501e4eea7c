import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve as resolvePath } from "node:path";
import { loadRun, resume, run } from "../api.js";
import type { RunConfigInput } from "../config/schema.js";
import { InputError } from "../core/errors.js";
import type { ImageProvider } from "../providers/types.js";
import type { KeyScope } from "../providers/http.js";
import type { AttemptQueue } from "../queue/coordinator.js";
import type { ReportInput } from "../report/model.js";
import type { RunSummary } from "../report/summary.js";
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

export interface CellReport {
  cell: ExperimentCell;
  /** "skipped": finished before this invocation; "ran": started fresh; "resumed": continued. */
  action: "skipped" | "ran" | "resumed";
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
  /** Build the provider of a cell yourself (tests, custom backends). */
  provider?: (cell: ExperimentCell) => ImageProvider;
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

/** Runs, resumes or skips one cell. */
async function runCell(dir: string, cell: ExperimentCell, options: ExperimentRunOptions, budget?: CostBudget): Promise<{ action: CellReport["action"]; summary: RunSummary }> {
  const runDir = join(dir, RUNS_DIR, cell.id);
  const common = {
    ...(budget ? { costBudget: budget } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.provider ? { provider: options.provider(cell) } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.keyScope ? { keyScope: options.keyScope } : {}),
    ...(options.queue ? { queue: options.queue } : {}),
    ...(options.queueDir !== undefined ? { queueDir: options.queueDir } : {}),
  };
  if (existsSync(join(runDir, "run.json"))) {
    const loaded = loadRun(runDir);
    // A cell stopped by a failing provider or observer is tried again (the service may be back); a
    // complete cell, or one that spent its budget, is done.
    if (loaded.summary.status === "complete" || loaded.summary.status === "budget") return { action: "skipped", summary: loaded.summary };
    const outcome = await resume(runDir, common);
    return { action: "resumed", summary: outcome.summary };
  }
  // A folder without run.json was cut off while being created: it holds nothing yet.
  if (existsSync(runDir)) rmSync(runDir, { recursive: true, force: true });
  const settings = { ...cell.settings, out: join(dir, RUNS_DIR) } as RunConfigInput;
  const outcome = await run(settings, { ...common, dir: runDir });
  return { action: "ran", summary: outcome.summary };
}

async function execute(dir: string, manifest: ExperimentManifest, jobs: number, options: ExperimentRunOptions): Promise<ExperimentOutcome> {
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
  try {
    options.onStart?.(dir, total);
    const queue = [...manifest.cells];
    const worker = async (): Promise<void> => {
      for (;;) {
        if (stop.signal.aborted) return;
        if (costStop) return;
        const cell = queue.shift();
        if (!cell) return;
        const started = Date.now();
        try {
          const { action, summary } = await runCell(dir, cell, cellOptions, budget);
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
    await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, total)) }, worker));
  } finally {
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
  return execute(dir, manifest, options.jobs ?? plan.jobs, options);
}

/** Continues the experiment in `dir` from its own experiment.json (no config file needed). */
export async function resumeExperiment(dir: string, options: ExperimentRunOptions = {}): Promise<ExperimentOutcome> {
  const abs = resolvePath(dir);
  if (!isExperimentFolder(abs)) throw new InputError(`${dir} is not an experiment folder (no experiment.json)`);
  const manifest = readManifest(abs);
  const jobs = options.jobs ?? (typeof manifest.config.jobs === "number" ? manifest.config.jobs : EXPERIMENT_DEFAULTS.jobs);
  return execute(abs, manifest, jobs, options);
}
