import type { CheckThresholds } from "../config/check-schema.js";
import { InputError } from "../core/errors.js";
import type { ReportInput, ReportRun } from "./model.js";
import { missingKeptImages } from "../store/run-folder.js";

/** Tolerances of `debiaspi check` (the `check:` block of a config, or flags); a limit left out is not checked. */
export type Tolerances = CheckThresholds;

/** The distribution limits; when none of them is given, `check` asks for TV <= 0.1. */
const DISTRIBUTION_LIMITS = ["maxTv", "maxAbsDiff", "minP"] as const;
export const DEFAULT_TOLERANCES: Tolerances = { maxTv: 0.1 };

/** The tolerances in force: the flags over the config's `check:` block, and TV <= 0.1 when no distribution limit is set. */
export function effectiveTolerances(fromConfig: Tolerances | undefined, fromFlags: Tolerances): Tolerances {
  const merged: Tolerances = { ...(fromConfig ?? {}), ...fromFlags };
  return DISTRIBUTION_LIMITS.some((k) => merged[k] !== undefined) ? merged : { ...DEFAULT_TOLERANCES, ...merged };
}

/** The `check:` block the folder's config carries: the experiment's, or the run's (run.json). */
export function configTolerances(input: ReportInput): Tolerances | undefined {
  if (input.kind === "experiment") return input.check;
  return input.runs[0]?.record.config.check;
}

export interface Measured {
  /** A joint factor ("race+gender") or one attribute ("race"). */
  scope: string;
  tv: number;
  maxAbsDiff: number;
  chiSquareP: number;
}

/** What a violation is about: a distribution (tv, maxAbsDiff, chiSquareP) or the run as a whole. */
export type CheckMetric = "tv" | "maxAbsDiff" | "chiSquareP" | "status" | "kept" | "missingImages" | "costPerKept" | "refusalRate" | "agreement";

export interface Violation {
  run: string;
  runDir: string;
  prompt: string;
  policy: string;
  /** The distribution ("race+gender", "race"), "run" for the run as a whole, or "agreement:<checker>:<attribute>". */
  scope: string;
  metric: CheckMetric;
  /** The measured value (status: 0; for "missingImages" the count of missing files). */
  value: number;
  limit: number;
  /** Words for what is wrong, for the metrics that are not a number against a limit (status, kept, missing images). */
  detail?: string;
}

/** One thing checked: a distribution of a run, or the run as a whole; a JUnit test case. */
export interface CheckCase {
  run: string;
  scope: string;
  violations: Violation[];
}

export interface CheckResult {
  ok: boolean;
  tolerances: Tolerances;
  runs: number;
  /** Distributions checked over all runs (factors and their attributes). */
  checks: number;
  violations: Violation[];
  /** Every distribution checked, and every run as a whole (status, images, cost, refusals, agreement). */
  cases: CheckCase[];
}

/** Every controlled factor of a run, and for a joint factor each of its attributes too (as summarizeRun measured them). */
export function measureRun(run: ReportRun): Measured[] {
  const out: Measured[] = [];
  const { summary } = run;
  for (const f of summary.factors) {
    out.push({ scope: f.id, tv: f.tv, maxAbsDiff: f.maxAbsDiff, chiSquareP: f.chiSquareP });
    if (f.attributes.length < 2) continue;
    for (const attr of f.attributes) {
      const a = summary.attributes[attr];
      // A controlled attribute has its target and the metrics against it.
      if (a?.tv === undefined || a.maxAbsDiff === undefined || a.chiSquareP === undefined) continue;
      out.push({ scope: attr, tv: a.tv, maxAbsDiff: a.maxAbsDiff, chiSquareP: a.chiSquareP });
    }
  }
  // With a calibration: the corrected shares of every controlled attribute are gated too (no chi-square on an estimate).
  for (const a of Object.values(summary.attributes)) {
    const c = a.corrected;
    if (c?.tv !== undefined && c.maxAbsDiff !== undefined) out.push({ scope: `${a.attribute} (corrected)`, tv: c.tv, maxAbsDiff: c.maxAbsDiff, chiSquareP: Number.NaN });
  }
  return out;
}

/**
 * Refuses a run that a live process is generating right now: its numbers would still change. A run
 * or cells that are not finished are failures (listed by checkRuns), not bad input.
 */
export function assertNotRunning(input: ReportInput): void {
  const live = input.runs.filter((r) => r.inProgress);
  if (live.length === 0) return;
  if (input.kind === "run") {
    const r = live[0]!;
    throw new InputError(`run ${input.dir} is still in progress (${r.summary.kept} of ${r.summary.n} images kept); check it when it has finished`);
  }
  throw new InputError(`experiment ${input.dir} is still in progress (${live.length} cell${live.length === 1 ? "" : "s"} running); check it when it has finished`);
}


/** The run as a whole: finished, kept something, its files there, and cost, refusals and agreement within their limits. */
function runHealth(run: ReportRun, t: Tolerances, base: Omit<Violation, "metric" | "value" | "limit" | "detail">): Violation[] {
  const s = run.summary;
  const out: Violation[] = [];
  if (s.status !== "complete") {
    const what = s.status === "incomplete" ? `not finished (no end line; continue with: debiaspi resume ${run.runDir})` : `ended with status ${s.status}${s.message ? ` (${s.message})` : ""}`;
    out.push({ ...base, metric: "status", value: 0, limit: 0, detail: `${what}; ${s.kept} of ${s.n} images kept` });
  }
  if (s.kept === 0) out.push({ ...base, metric: "kept", value: 0, limit: 1, detail: `no image kept (${s.attempts} provider calls, ${s.refusals} refused, ${s.errors} failed)` });
  const missing = missingKeptImages(run.runDir, run.events);
  if (missing.length > 0) {
    out.push({ ...base, metric: "missingImages", value: missing.length, limit: 0, detail: `${missing.length} of ${s.kept} kept image files missing (${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ", ..." : ""})` });
  }
  if (t.maxCostPerKept !== undefined && s.costUsd > 0) {
    const perKept = s.kept > 0 ? s.costUsd / s.kept : Infinity;
    if (perKept > t.maxCostPerKept + 1e-12) out.push({ ...base, metric: "costPerKept", value: perKept, limit: t.maxCostPerKept });
  }
  if (t.maxRefusalRate !== undefined && s.attempts > 0) {
    const rate = s.refusals / s.attempts;
    if (rate > t.maxRefusalRate + 1e-12) out.push({ ...base, metric: "refusalRate", value: rate, limit: t.maxRefusalRate });
  }
  if (t.minAgreement !== undefined) {
    for (const a of s.agreement) {
      if (a.rate !== null && a.rate < t.minAgreement) out.push({ ...base, scope: `agreement:${a.checker}:${a.attribute}`, metric: "agreement", value: a.rate, limit: t.minAgreement });
    }
  }
  return out;
}

/** Checks every run against the tolerances; `notRun` are experiment cells without a run folder (each a failure). */
export function checkRuns(runs: readonly ReportRun[], tolerances: Tolerances, notRun: readonly string[] = []): CheckResult {
  const violations: Violation[] = [];
  const cases: CheckCase[] = [];
  let checks = 0;
  for (const run of runs) {
    const base = { run: run.id, runDir: run.runDir, prompt: run.labels.prompt, policy: run.labels.policy };
    const health = runHealth(run, tolerances, { ...base, scope: "run" });
    cases.push({ run: run.id, scope: "run", violations: health });
    violations.push(...health);
    for (const m of measureRun(run)) {
      checks += 1;
      const at = { ...base, scope: m.scope };
      const found: Violation[] = [];
      if (tolerances.maxTv !== undefined && m.tv > tolerances.maxTv + 1e-12) found.push({ ...at, metric: "tv", value: m.tv, limit: tolerances.maxTv });
      if (tolerances.maxAbsDiff !== undefined && m.maxAbsDiff > tolerances.maxAbsDiff + 1e-12) found.push({ ...at, metric: "maxAbsDiff", value: m.maxAbsDiff, limit: tolerances.maxAbsDiff });
      // With nothing kept the p-value says nothing (p = 1); the "kept" violation covers it.
      if (tolerances.minP !== undefined && run.summary.kept > 0 && m.chiSquareP < tolerances.minP) found.push({ ...at, metric: "chiSquareP", value: m.chiSquareP, limit: tolerances.minP });
      cases.push({ run: run.id, scope: m.scope, violations: found });
      violations.push(...found);
    }
  }
  for (const id of notRun) {
    const v: Violation = { run: id, runDir: "", prompt: "", policy: "", scope: "run", metric: "status", value: 0, limit: 0, detail: "not run yet (no run folder)" };
    cases.push({ run: id, scope: "run", violations: [v] });
    violations.push(v);
  }
  return { ok: violations.length === 0, tolerances, runs: runs.length + notRun.length, checks, violations, cases };
}

const METRIC_TEXT: Record<Exclude<CheckMetric, "status" | "kept" | "missingImages">, [string, string, (x: number) => string]> = {
  tv: ["TV", ">", (x) => x.toFixed(3)],
  maxAbsDiff: ["max|p-q|", ">", (x) => x.toFixed(3)],
  chiSquareP: ["chi-square p", "<", (x) => x.toFixed(3)],
  costPerKept: ["cost per kept image", ">", (x) => (Number.isFinite(x) ? `$${x.toFixed(4)}` : "unbounded (nothing kept)")],
  refusalRate: ["refusal rate", ">", (x) => x.toFixed(3)],
  agreement: ["agreement", "<", (x) => x.toFixed(3)],
};

export function describeTolerances(t: Tolerances): string {
  return [
    t.maxTv !== undefined ? `TV <= ${t.maxTv}` : undefined,
    t.maxAbsDiff !== undefined ? `max|p-q| <= ${t.maxAbsDiff}` : undefined,
    t.minP !== undefined ? `chi-square p >= ${t.minP}` : undefined,
    t.maxCostPerKept !== undefined ? `cost per kept image <= $${t.maxCostPerKept}` : undefined,
    t.maxRefusalRate !== undefined ? `refusal rate <= ${t.maxRefusalRate}` : undefined,
    t.minAgreement !== undefined ? `checker agreement >= ${t.minAgreement}` : undefined,
  ]
    .filter(Boolean)
    .join(", ");
}

/** One violation in words: "TV 0.214 > 0.1", or the detail of a run-level failure. */
export function violationText(v: Violation): string {
  if (v.metric === "status" || v.metric === "kept" || v.metric === "missingImages") return v.detail ?? v.metric;
  const [name, op, fmt] = METRIC_TEXT[v.metric];
  return `${name} ${fmt(v.value)} ${op} ${v.limit}`;
}

/** The result as text: one line per violation (run, scope, what is wrong). */
export function formatCheck(result: CheckResult): string {
  const tol = describeTolerances(result.tolerances);
  if (result.ok) return `ok: all ${result.runs} run${result.runs === 1 ? "" : "s"} within tolerance (${tol}; ${result.checks} distributions checked)`;
  const failedRuns = new Set(result.violations.map((v) => v.run)).size;
  const width = Math.max(...result.violations.map((v) => v.run.length));
  const lines = result.violations.map((v) => `  ${v.run.padEnd(width)}  ${v.scope.padEnd(12)} ${violationText(v)}${v.policy ? `   (${v.policy}: ${v.prompt})` : ""}`);
  return [`FAIL: ${failedRuns} of ${result.runs} run${result.runs === 1 ? "" : "s"} outside tolerance (${tol}); ${result.violations.length} violation${result.violations.length === 1 ? "" : "s"}:`, ...lines].join("\n");
}
