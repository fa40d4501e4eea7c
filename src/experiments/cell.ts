import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadRun, resume, run } from "../api.js";
import type { RunConfigInput } from "../config/schema.js";
import type { KeyScope } from "../http/keys.js";
import type { ImageProvider } from "../providers/types.js";
import type { AttemptQueue } from "../queue/coordinator.js";
import type { CostBudget } from "../engine/cost.js";
import type { RunSummary } from "../analysis/summary.js";
import { lastEndReason } from "../store/run-folder.js";
import { RUNS_DIR, type ExperimentCell } from "./folder.js";

/** What a cell is run with (in this thread or in a cell worker). */
export interface CellOptions {
  signal?: AbortSignal;
  provider?: (cell: ExperimentCell) => ImageProvider;
  now?: () => Date;
  /** Where keys from the environment may be sent (see RunOptions.keyScope). */
  keyScope?: KeyScope;
  /** Generate and observe on this queue's workers. */
  queue?: AttemptQueue;
  /** With `queue`: images come back through this shared folder instead of Redis. */
  queueDir?: string;
}

/** "skipped": finished before this invocation; "ran": started fresh; "resumed": continued. */
export type CellAction = "skipped" | "ran" | "resumed";

/** Runs, resumes or skips one cell. */
export async function runCell(dir: string, cell: ExperimentCell, options: CellOptions, budget?: CostBudget): Promise<{ action: CellAction; summary: RunSummary }> {
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
    // A cell stopped by a failing provider or observer is tried again (the service may be back); a
    // complete cell, or one that spent its budget, is done. Its status is its log's last end line, read
    // from the end: a cell to resume has its log read once, by resume.
    const reason = lastEndReason(runDir);
    if (reason === "complete" || reason === "budget") return { action: "skipped", summary: loadRun(runDir).summary };
    const outcome = await resume(runDir, common);
    return { action: "resumed", summary: outcome.summary };
  }
  // A folder without run.json was cut off while being created: it holds nothing yet.
  if (existsSync(runDir)) rmSync(runDir, { recursive: true, force: true });
  const settings = { ...cell.settings, out: join(dir, RUNS_DIR) } as RunConfigInput;
  const outcome = await run(settings, { ...common, dir: runDir });
  return { action: "ran", summary: outcome.summary };
}

