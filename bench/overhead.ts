import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../src/api.js";
import type { RunConfigInput } from "../src/config/schema.js";
import type { BenchPrompt } from "./prompts.js";
import { fmt, max, mdTable, median, min, progress } from "./util.js";

export interface OverheadCase {
  id: string;
  label: string;
  render: boolean;
  disk: boolean;
  /** Runs of N=OVERHEAD_N per repetition (fewer for the slow PNG cases, to keep the bench short). */
  runs: number;
  reps: number;
}

export const OVERHEAD_RUNS = 20;
/** Runs per repetition for the cases that draw PNGs (about 1 ms per image). */
export const OVERHEAD_RUNS_PNG = 8;
export const OVERHEAD_N = 500;

export const OVERHEAD_CASES: readonly OverheadCase[] = [
  { id: "mem", label: "in memory, no render", render: false, disk: false, runs: OVERHEAD_RUNS, reps: 5 },
  { id: "mem-png", label: "in memory, PNG render", render: true, disk: false, runs: OVERHEAD_RUNS_PNG, reps: 3 },
  { id: "disk", label: "run folder on disk, no render", render: false, disk: true, runs: OVERHEAD_RUNS, reps: 3 },
  { id: "disk-png", label: "run folder on disk, PNG render", render: true, disk: true, runs: OVERHEAD_RUNS_PNG, reps: 3 },
];

/** The settings of every overhead run: debiaspi direct/discard on the race x gender joint target. */
export const overheadSettings = (prompt: string, seed: number, render: boolean): RunConfigInput => ({
  prompt,
  n: OVERHEAD_N,
  joint: [["race", "gender"]],
  policy: "debiaspi",
  mode: "direct",
  overflow: "discard",
  seed,
  concurrency: 4,
  // The PNG cases make the bytes of every portrait (--image-files): what drawing on demand saves is section 8b's.
  sim: { render, imageFiles: render, latencyMs: 0 },
});

interface Rep {
  ms: number;
  attempts: number;
  kept: number;
  runs: number;
  exactRuns: number;
}

export interface OverheadResult {
  c: OverheadCase;
  reps: Rep[];
  usPerAttempt: number[];
  usPerKept: number[];
}

async function oneRep(c: OverheadCase, prompts: readonly BenchPrompt[], repIndex: number): Promise<Rep> {
  const dir = c.disk ? mkdtempSync(join(tmpdir(), "debiaspi-bench-")) : undefined;
  try {
    let attempts = 0;
    let kept = 0;
    let exactRuns = 0;
    const t0 = performance.now();
    for (let r = 0; r < c.runs; r++) {
      const p = prompts[r % prompts.length]!;
      const settings = overheadSettings(p.text, 500_000 + 1000 * repIndex + r, c.render);
      const { summary, result } = dir ? await run({ ...settings, out: dir }) : await run(settings, { inMemory: true });
      attempts += result.attempts;
      kept += summary.kept;
      if (summary.exact) exactRuns += 1;
    }
    const ms = performance.now() - t0;
    return { ms, attempts, kept, runs: c.runs, exactRuns };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

export async function overheadBench(prompts: readonly BenchPrompt[]): Promise<OverheadResult[]> {
  const out: OverheadResult[] = [];
  for (const c of OVERHEAD_CASES) {
    // Warm-up: one short repetition (JIT, caches, the PNG encoder, the file system).
    await oneRep({ ...c, runs: 2 }, prompts, 99);
    const reps: Rep[] = [];
    for (let k = 0; k < c.reps; k++) {
      const rep = await oneRep(c, prompts, k);
      reps.push(rep);
      progress(`overhead: ${c.label}: rep ${k + 1}/${c.reps}: ${c.runs} runs, ${rep.attempts} attempts in ${(rep.ms / 1000).toFixed(2)} s`);
    }
    out.push({
      c,
      reps,
      usPerAttempt: reps.map((r) => (r.ms * 1000) / r.attempts),
      usPerKept: reps.map((r) => (r.ms * 1000) / r.kept),
    });
  }
  return out;
}

export function overheadTable(results: readonly OverheadResult[]): string {
  const rows = results.map((r) => [
    r.c.label,
    `${r.c.runs} x ${OVERHEAD_N}`,
    String(r.reps.length),
    String(Math.round(median(r.reps.map((x) => x.attempts)))),
    fmt(median(r.reps.map((x) => x.ms)) / 1000, 2),
    fmt(median(r.usPerAttempt), 1),
    `${fmt(min(r.usPerAttempt), 1)} - ${fmt(max(r.usPerAttempt), 1)}`,
    fmt(median(r.usPerKept), 1),
    `${r.reps.reduce((a, x) => a + x.exactRuns, 0)}/${r.reps.reduce((a, x) => a + x.runs, 0)}`,
  ]);
  return mdTable(["case", "runs per rep", "reps", "attempts per rep", "s per rep", "us per attempt (median)", "us per attempt (min - max)", "us per kept image (median)", "exact runs"], rows);
}
