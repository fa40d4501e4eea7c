import { InputError } from "../core/errors.js";
import type { ReportInput, ReportRun } from "../report/model.js";

/** Tolerances of `debiaspi check`; a limit left out is not checked. */
export interface Tolerances {
  /** Largest accepted total variation between observed and target. */
  maxTv?: number;
  /** Largest accepted |p - q| of any category or cell. */
  maxAbsDiff?: number;
  /** Smallest accepted chi-square goodness-of-fit p-value (smaller: the observed set differs significantly from the target). */
  minP?: number;
}

/** With no tolerance given, `check` asks for TV <= 0.1. */
export const DEFAULT_TOLERANCES: Tolerances = { maxTv: 0.1 };

export interface Measured {
  /** A joint factor ("race+gender") or one attribute ("race"). */
  scope: string;
  tv: number;
  maxAbsDiff: number;
  chiSquareP: number;
}

export interface Violation {
  run: string;
  runDir: string;
  prompt: string;
  policy: string;
  scope: string;
  metric: "tv" | "maxAbsDiff" | "chiSquareP";
  value: number;
  limit: number;
}

export interface CheckResult {
  ok: boolean;
  tolerances: Tolerances;
  runs: number;
  /** Scopes checked over all runs (factors and their attributes). */
  checks: number;
  violations: Violation[];
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
  return out;
}

/** Refuses a run or experiment that is not finished: its numbers would still change. */
export function assertFinished(input: ReportInput): void {
  if (input.kind === "run") {
    const r = input.runs[0]!;
    if (r.inProgress) throw new InputError(`run ${input.dir} is still in progress (${r.summary.kept} of ${r.summary.n} images kept); check it when it has finished`);
    if (r.summary.status === "incomplete") {
      throw new InputError(`run ${input.dir} is not finished (${r.summary.kept} of ${r.summary.n} images kept, no end line); finish it with: debiaspi resume ${input.dir}`);
    }
    return;
  }
  const pending = input.incomplete ?? [];
  if (pending.length > 0) {
    const live = input.runs.some((r) => r.inProgress);
    throw new InputError(
      `experiment ${input.dir} ${live ? "is still in progress" : "is not finished"}: ${pending.length} of ${pending.length + input.runs.filter((r) => !pending.includes(r.id)).length} cells not done; ${live ? "check it when it has finished" : `finish it with: debiaspi experiment --resume ${input.dir}`}`,
    );
  }
}

/** Checks every run against the tolerances. */
export function checkRuns(runs: readonly ReportRun[], tolerances: Tolerances): CheckResult {
  const violations: Violation[] = [];
  let checks = 0;
  for (const run of runs) {
    for (const m of measureRun(run)) {
      checks += 1;
      const base = { run: run.id, runDir: run.runDir, prompt: run.labels.prompt, policy: run.labels.policy, scope: m.scope };
      if (tolerances.maxTv !== undefined && m.tv > tolerances.maxTv + 1e-12) violations.push({ ...base, metric: "tv", value: m.tv, limit: tolerances.maxTv });
      if (tolerances.maxAbsDiff !== undefined && m.maxAbsDiff > tolerances.maxAbsDiff + 1e-12) {
        violations.push({ ...base, metric: "maxAbsDiff", value: m.maxAbsDiff, limit: tolerances.maxAbsDiff });
      }
      if (tolerances.minP !== undefined && m.chiSquareP < tolerances.minP) violations.push({ ...base, metric: "chiSquareP", value: m.chiSquareP, limit: tolerances.minP });
    }
  }
  return { ok: violations.length === 0, tolerances, runs: runs.length, checks, violations };
}

const METRIC_TEXT: Record<Violation["metric"], [string, string]> = { tv: ["TV", ">"], maxAbsDiff: ["max|p-q|", ">"], chiSquareP: ["chi-square p", "<"] };

export function describeTolerances(t: Tolerances): string {
  return [
    t.maxTv !== undefined ? `TV <= ${t.maxTv}` : undefined,
    t.maxAbsDiff !== undefined ? `max|p-q| <= ${t.maxAbsDiff}` : undefined,
    t.minP !== undefined ? `chi-square p >= ${t.minP}` : undefined,
  ]
    .filter(Boolean)
    .join(", ");
}

/** The result as text: one line per violation (run, scope, metric, value, limit). */
export function formatCheck(result: CheckResult): string {
  const tol = describeTolerances(result.tolerances);
  if (result.ok) return `ok: all ${result.runs} run${result.runs === 1 ? "" : "s"} within tolerance (${tol}; ${result.checks} distributions checked)`;
  const failedRuns = new Set(result.violations.map((v) => v.run)).size;
  const width = Math.max(...result.violations.map((v) => v.run.length));
  const lines = result.violations.map((v) => {
    const [name, op] = METRIC_TEXT[v.metric];
    return `  ${v.run.padEnd(width)}  ${v.scope.padEnd(12)} ${name} ${v.value.toFixed(3)} ${op} ${v.limit}   (${v.policy}: ${v.prompt})`;
  });
  return [`FAIL: ${failedRuns} of ${result.runs} run${result.runs === 1 ? "" : "s"} outside tolerance (${tol}); ${result.violations.length} violation${result.violations.length === 1 ? "" : "s"}:`, ...lines].join("\n");
}
