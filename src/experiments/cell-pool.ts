import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { InputError } from "../core/errors.js";
import type { RunSummary } from "../analysis/summary.js";
import { packageRoot } from "../util/paths.js";
import type { CellAction } from "./cell.js";
import type { ExperimentCell } from "./folder.js";

/** What the pool sends a cell worker. */
export type CellWorkerRequest = { type: "run"; dir: string; cell: ExperimentCell } | { type: "abort" };

/** What a cell worker answers for one cell. */
export type CellWorkerReply =
  | { type: "done"; action: CellAction; summary: RunSummary }
  | { type: "failed"; message: string; input: boolean; field?: string };

/** The compiled cell worker, or undefined when running from TypeScript sources without a build. */
export function cellWorkerScript(): string | undefined {
  const here = fileURLToPath(new URL("./cell-worker.js", import.meta.url));
  if (existsSync(here)) return here;
  try {
    const built = join(packageRoot(), "dist", "src", "experiments", "cell-worker.js");
    return existsSync(built) ? built : undefined;
  } catch {
    return undefined;
  }
}

interface Pending {
  resolve(r: { action: CellAction; summary: RunSummary }): void;
  reject(e: Error): void;
}

/**
 * One worker thread per job: each runs one cell at a time (its own run folder, its own heap, which the
 * thread's garbage collector frees between cells), so `jobs` cells keep as many cores busy. Aborting
 * the signal tells every worker to stop its cell cleanly (the run stays resumable).
 */
export class CellPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly script: string,
    size: number,
    private readonly signal: AbortSignal,
  ) {
    for (let slot = 0; slot < size; slot++) this.workers.push(this.spawn(slot));
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  private readonly onAbort = (): void => {
    for (const w of this.workers) w.postMessage({ type: "abort" } satisfies CellWorkerRequest);
  };

  private spawn(slot: number): Worker {
    const w = new Worker(this.script);
    w.on("message", (reply: CellWorkerReply) => {
      const p = this.pending.get(slot);
      if (!p) return;
      this.pending.delete(slot);
      if (reply.type === "done") p.resolve({ action: reply.action, summary: reply.summary });
      else p.reject(reply.input ? new InputError(reply.message, reply.field) : new Error(reply.message));
    });
    const fail = (why: string): void => {
      const p = this.pending.get(slot);
      this.pending.delete(slot);
      p?.reject(new Error(why));
    };
    w.on("error", (e) => fail(`cell worker failed: ${e instanceof Error ? e.message : String(e)}`));
    w.on("exit", (code) => fail(`cell worker exited (code ${code})`));
    return w;
  }

  /** Runs, resumes or skips one cell in worker `slot` (one cell per worker at a time). */
  run(slot: number, dir: string, cell: ExperimentCell): Promise<{ action: CellAction; summary: RunSummary }> {
    return new Promise((resolve, reject) => {
      this.pending.set(slot, { resolve, reject });
      this.workers[slot]!.postMessage({ type: "run", dir, cell } satisfies CellWorkerRequest);
      if (this.signal.aborted) this.workers[slot]!.postMessage({ type: "abort" } satisfies CellWorkerRequest);
    });
  }

  async close(): Promise<void> {
    this.signal.removeEventListener("abort", this.onAbort);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
