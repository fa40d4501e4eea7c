/**
 * Scaling: wall time and peak memory of whole runs (on disk, through the same code as `debiaspi run`)
 * as N, the number of cells and the number of jobs grow. Each case runs in a child process
 * (scaling-child.ts) so its peak RSS is its own.
 *
 * The cases' folders are removed only after the last case: on ext4 without a journal (this machine's disk)
 * creating a file right after many were deleted costs several times more kernel time (the inode allocator
 * skips, one by one, inodes deleted in the last seconds), so deleting one case's 25,000 files just before
 * the next case charged that case with the previous one's clean-up. The experiment cases run
 * EXPERIMENT_REPS times, `--jobs 1` and `--jobs 2` alternating, and are compared by their medians.
 *
 * DEBIASPI_SCALING_CASES=run or =experiment runs only those cases.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, median, mdTable, progress } from "./util.js";

export type ScalingCase =
  | { kind: "run"; label: string; n: number; cells: 14 | 224; render: boolean; policy: "debiaspi" | "none" | "quota"; files?: true }
  | { kind: "experiment"; label: string; jobs: number };

export interface ScalingMeasure {
  seconds: number;
  peakMb: number;
  /** CPU time of the whole process (every thread), s. */
  userSeconds: number;
  systemSeconds: number;
  kept: number;
  generations: number;
  status: string;
}

export const SCALING_CASES: readonly ScalingCase[] = [
  { kind: "run", label: "rendered", n: 1_000, cells: 14, render: true, policy: "debiaspi" },
  { kind: "run", label: "rendered", n: 10_000, cells: 14, render: true, policy: "debiaspi" },
  { kind: "run", label: "rendered", n: 100_000, cells: 14, render: true, policy: "debiaspi" },
  { kind: "run", label: "rendered, --image-files", n: 1_000, cells: 14, render: true, policy: "debiaspi", files: true },
  { kind: "run", label: "rendered, --image-files", n: 10_000, cells: 14, render: true, policy: "debiaspi", files: true },
  { kind: "run", label: "rendered, --image-files", n: 100_000, cells: 14, render: true, policy: "debiaspi", files: true },
  { kind: "run", label: "no render", n: 100_000, cells: 14, render: false, policy: "debiaspi" },
  { kind: "run", label: "no render", n: 100_000, cells: 224, render: false, policy: "debiaspi" },
  { kind: "run", label: "no render, none", n: 100_000, cells: 14, render: false, policy: "none" },
  { kind: "run", label: "no render, quota", n: 100_000, cells: 14, render: false, policy: "quota" },
  { kind: "experiment", label: "paper study, --jobs 1", jobs: 1 },
  { kind: "experiment", label: "paper study, --jobs 2", jobs: 2 },
];

/** Runs of each experiment case (`--jobs 1` and `--jobs 2` alternate). */
export const EXPERIMENT_REPS = 3;

export interface ScalingRow {
  c: ScalingCase;
  m: ScalingMeasure;
  /** Which repetition of its case (1-based). */
  rep: number;
}

/** The cases in the order they run: runs once each, then the experiment cases alternating, EXPERIMENT_REPS times. */
export function scalingSchedule(only = process.env.DEBIASPI_SCALING_CASES): { c: ScalingCase; rep: number }[] {
  const runs = SCALING_CASES.filter((c) => c.kind === "run").map((c) => ({ c, rep: 1 }));
  const experiments = SCALING_CASES.filter((c) => c.kind === "experiment");
  const alternating = Array.from({ length: EXPERIMENT_REPS }, (_, r) => experiments.map((c) => ({ c, rep: r + 1 }))).flat();
  if (only === "run") return runs;
  if (only === "experiment") return alternating;
  if (only !== undefined && only !== "") throw new Error(`DEBIASPI_SCALING_CASES must be run or experiment, got ${JSON.stringify(only)}`);
  return [...runs, ...alternating];
}

export function scalingBench(): ScalingRow[] {
  const child = fileURLToPath(new URL("./scaling-child.js", import.meta.url));
  const rows: ScalingRow[] = [];
  const dirs: string[] = [];
  try {
    for (const { c, rep } of scalingSchedule()) {
      const dir = mkdtempSync(join(tmpdir(), "debiaspi-scaling-"));
      dirs.push(dir);
      const out = execFileSync(process.execPath, [child, JSON.stringify(c), dir], { encoding: "utf8", maxBuffer: 1 << 20 });
      const m = JSON.parse(out.trim().split("\n").at(-1)!) as ScalingMeasure;
      rows.push({ c, m, rep });
      progress(`scaling: ${describe(c)}${c.kind === "experiment" ? ` (run ${rep})` : ""}: ${m.seconds.toFixed(1)} s (user ${m.userSeconds.toFixed(1)}, sys ${m.systemSeconds.toFixed(1)}), peak ${m.peakMb.toFixed(0)} MB, ${m.status}`);
    }
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function describe(c: ScalingCase): string {
  return c.kind === "run" ? `run ${c.label}, N=${c.n}, ${c.cells} cells` : c.label;
}

const find = (rows: readonly ScalingRow[], pred: (c: ScalingCase) => boolean): ScalingRow | undefined => rows.find((r) => pred(r.c));

export function scalingTable(rows: readonly ScalingRow[]): string {
  return mdTable(
    ["case", "N", "cells", "jobs", "wall s", "user s", "sys s", "peak RSS MB", "us per generation", "generations", "status"],
    rows.map(({ c, m, rep }) => [
      c.kind === "run" ? `run, ${c.label}` : `${c.label} (run ${rep})`,
      c.kind === "run" ? String(c.n) : "-",
      c.kind === "run" ? String(c.cells) : "-",
      c.kind === "run" ? "1" : String(c.jobs),
      fmt(m.seconds, 1),
      fmt(m.userSeconds, 1),
      fmt(m.systemSeconds, 1),
      fmt(m.peakMb, 0),
      fmt((m.seconds * 1e6) / Math.max(1, m.generations), 0),
      String(m.generations),
      m.status,
    ]),
    ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "l"],
  );
}

/** The ratios the goals are stated in. */
export function scalingRatios(rows: readonly ScalingRow[]): string[] {
  const run = (n: number, cells: number, render: boolean, policy = "debiaspi", files = false) =>
    find(rows, (c) => c.kind === "run" && c.n === n && c.cells === cells && c.render === render && c.policy === policy && (c.files ?? false) === files);
  const perGen = (r: ScalingRow | undefined): number => (r ? r.m.seconds / Math.max(1, r.m.generations) : Number.NaN);
  const out: string[] = [];
  const r1 = run(1_000, 14, true);
  const r100 = run(100_000, 14, true);
  const f1 = run(1_000, 14, true, "debiaspi", true);
  const f100 = run(100_000, 14, true, "debiaspi", true);
  const n100 = run(100_000, 14, false);
  const c224 = run(100_000, 224, false);
  const none = run(100_000, 14, false, "none");
  const quota = run(100_000, 14, false, "quota");
  const jobs = (j: number): ScalingRow[] => rows.filter((r) => r.c.kind === "experiment" && r.c.jobs === j);
  const j1 = jobs(1);
  const j2 = jobs(2);
  if (r1 && r100) out.push(`peak RSS of the rendered run: ${fmt(r1.m.peakMb, 0)} MB at N=1k, ${fmt(r100.m.peakMb, 0)} MB at N=100k (goal: at most 400 MB): ${r100.m.peakMb <= 400 ? "PASS" : "**FAIL**"}`);
  if (f1 && f100) out.push(`peak RSS of the rendered run with --image-files: ${fmt(f1.m.peakMb, 0)} MB at N=1k, ${fmt(f100.m.peakMb, 0)} MB at N=100k (goal: at most 400 MB): ${f100.m.peakMb <= 400 ? "PASS" : "**FAIL**"}`);
  if (r100 && n100) {
    const ratio = perGen(r100) / perGen(n100);
    out.push(`rendered (drawn when looked at) against no-render run per generation at N=100k: ${fmt(ratio, 2)}x (goal: at most 3x): ${ratio <= 3 ? "PASS" : "**FAIL**"}`);
  }
  if (f100 && n100) out.push(`rendered with --image-files against no-render run per generation at N=100k: ${fmt(perGen(f100) / perGen(n100), 2)}x`);
  if (n100 && c224) out.push(`224 cells against 14 cells (no render, N=100k): ${fmt(perGen(c224) / perGen(n100), 2)}x time per generation, ${fmt(c224.m.peakMb / n100.m.peakMb, 2)}x peak RSS`);
  if (none && quota) {
    const ratio = quota.m.seconds / none.m.seconds;
    out.push(`quota against none at N=100k: ${fmt(ratio, 2)}x wall (goal: at most 1.5x): ${ratio <= 1.5 ? "PASS" : "**FAIL**"}`);
  }
  if (j1.length > 0 && j2.length > 0) {
    const med = (rs: ScalingRow[], f: (m: ScalingMeasure) => number): number => median(rs.map((r) => f(r.m)));
    const ratio = med(j2, (m) => m.seconds) / med(j1, (m) => m.seconds);
    const cpu = (rs: ScalingRow[]): string => `user ${fmt(med(rs, (m) => m.userSeconds), 1)} s, sys ${fmt(med(rs, (m) => m.systemSeconds), 1)} s`;
    out.push(
      `paper study, --jobs 2 against --jobs 1, medians of ${j2.length} and ${j1.length} runs: ${fmt(med(j2, (m) => m.seconds), 1)} s against ${fmt(med(j1, (m) => m.seconds), 1)} s wall, ${fmt(ratio, 2)}x (goal: at most 0.6x): ${ratio <= 0.6 ? "PASS" : "**FAIL**"}; CPU ${cpu(j2)} against ${cpu(j1)}`,
    );
  }
  return out;
}
