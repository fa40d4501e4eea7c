import { run } from "../src/api.js";
import type { RunConfigInput } from "../src/config/schema.js";
import type { BenchPrompt } from "./prompts.js";
import { fmt, max, mdTable, mean, pct, progress, tvAndMax } from "./util.js";

export interface PolicySpec {
  id: string;
  label: string;
  settings: Pick<RunConfigInput, "policy" | "mode" | "overflow" | "order">;
}

export const POLICIES: readonly PolicySpec[] = [
  { id: "none", label: "none", settings: { policy: "none" } },
  { id: "eip", label: "eip", settings: { policy: "eip" } },
  { id: "random", label: "random", settings: { policy: "random" } },
  { id: "quota", label: "quota", settings: { policy: "quota" } },
  { id: "dpi-discard", label: "debiaspi direct, discard", settings: { policy: "debiaspi", mode: "direct", overflow: "discard", order: "deficit" } },
  { id: "dpi-discard-effort", label: "debiaspi direct, discard, effort order", settings: { policy: "debiaspi", mode: "direct", overflow: "discard", order: "effort" } },
  { id: "dpi-keep", label: "debiaspi direct, keep", settings: { policy: "debiaspi", mode: "direct", overflow: "keep", order: "deficit" } },
  { id: "dpi-keep-effort", label: "debiaspi direct, keep, effort order", settings: { policy: "debiaspi", mode: "direct", overflow: "keep", order: "effort" } },
  { id: "dpi-choice", label: "debiaspi choice, discard", settings: { policy: "debiaspi", mode: "choice", overflow: "discard" } },
];

export interface TargetSpec {
  id: string;
  label: string;
  settings: Pick<RunConfigInput, "attributes" | "target" | "joint">;
  /** The cost goal (generations per kept image <= 1.25) applies. */
  costGoal: boolean;
}

export const TARGETS: readonly TargetSpec[] = [
  { id: "gender", label: "(a) gender, uniform", settings: { attributes: ["gender"] }, costGoal: true },
  { id: "race", label: "(b) race, uniform", settings: { attributes: ["race"] }, costGoal: true },
  { id: "race-gender", label: "(c) race x gender, joint uniform", settings: { joint: [["race", "gender"]] }, costGoal: true },
  { id: "monk", label: "(d) Monk skin tone, uniform", settings: { attributes: ["skin_tone"] }, costGoal: false },
  {
    id: "age",
    label: "(e) age 1:2:2:1 (18-29 : 30-44 : 45-64 : 65+)",
    settings: { target: { age: { "18-29": 1, "30-44": 2, "45-64": 2, "65+": 1 } } },
    costGoal: false,
  },
];

export const SIZES = [20, 50, 100] as const;

/** The seed of one run: the same for every policy and target (common random numbers), different per prompt and N. */
export const runSeed = (promptIndex: number, n: number): number => 1_000_003 * (promptIndex + 1) + 7 * n;

/** Default concurrency of a run (SETTING_DEFAULTS); the policy runs use it unchanged. */
export const POLICY_CONCURRENCY = 4;

interface RunStat {
  prompt: number;
  tv: number;
  maxAbsDiff: number;
  exact: boolean;
  genPerKept: number | null;
  budget: boolean;
  kept: number;
  generations: number;
  overflow: number;
  unknown: number;
  surplus: number;
}

export interface Cell {
  policy: PolicySpec;
  target: TargetSpec;
  n: number;
  runs: RunStat[];
  meanTv: number;
  meanMax: number;
  exactShare: number;
  meanGpk: number;
  maxGpk: number;
  budgetHits: number;
  short: number;
  /** Share of generations discarded because their bin was full (closed loop with discard). */
  overflowShare: number;
}

export interface Floor {
  tv: number;
  maxAbsDiff: number;
  bins: number[];
}

export interface PolicyResults {
  cells: Cell[];
  /** Per target and N: TV and max |p-q| of a set that meets every bin exactly (integer rounding). */
  floors: Map<string, Floor>;
  runs: number;
  ms: number;
}

const floorKey = (target: string, n: number): string => `${target}@${n}`;

export async function policyBench(prompts: readonly BenchPrompt[]): Promise<PolicyResults> {
  const t0 = performance.now();
  const cells: Cell[] = [];
  const floors = new Map<string, Floor>();
  let runs = 0;
  for (const target of TARGETS) {
    for (const policy of POLICIES) {
      const tp = performance.now();
      for (const n of SIZES) {
        const stats: RunStat[] = [];
        for (const p of prompts) {
          const { summary, result } = await run(
            {
              prompt: p.text,
              n,
              ...target.settings,
              ...policy.settings,
              seed: runSeed(p.index, n),
              concurrency: POLICY_CONCURRENCY,
              sim: { render: false },
            },
            { inMemory: true },
          );
          runs += 1;
          const factor = summary.factors[0];
          if (!factor || summary.factors.length !== 1) throw new Error(`expected one factor, got ${summary.factors.length}`);
          if (!floors.has(floorKey(target.id, n))) {
            const keys = Object.keys(factor.bins);
            const bins = keys.map((k) => factor.bins[k]!);
            const f = tvAndMax(
              bins.map((b) => b / n),
              keys.map((k) => factor.target[k]!),
            );
            floors.set(floorKey(target.id, n), { ...f, bins });
          }
          stats.push({
            prompt: p.index,
            tv: factor.tv,
            maxAbsDiff: factor.maxAbsDiff,
            exact: summary.exact,
            genPerKept: summary.generationsPerKept,
            budget: result.status === "budget",
            kept: summary.kept,
            generations: summary.generations,
            overflow: summary.discarded.overflow,
            unknown: summary.discarded.unknown,
            surplus: summary.discarded.surplus,
          });
        }
        const gpk = stats.map((s) => s.genPerKept).filter((x): x is number => x !== null);
        const gens = stats.reduce((a, s) => a + s.generations, 0);
        cells.push({
          policy,
          target,
          n,
          runs: stats,
          meanTv: mean(stats.map((s) => s.tv)),
          meanMax: mean(stats.map((s) => s.maxAbsDiff)),
          exactShare: stats.filter((s) => s.exact).length / stats.length,
          meanGpk: mean(gpk),
          maxGpk: max(gpk),
          budgetHits: stats.filter((s) => s.budget).length,
          short: stats.filter((s) => s.kept < n).length,
          overflowShare: gens > 0 ? stats.reduce((a, s) => a + s.overflow, 0) / gens : 0,
        });
      }
      progress(`policy table: ${target.id} / ${policy.label}: ${prompts.length * SIZES.length} runs in ${((performance.now() - tp) / 1000).toFixed(1)} s`);
    }
  }
  return { cells, floors, runs, ms: performance.now() - t0 };
}

export function findCell(res: PolicyResults, policy: string, target: string, n: number): Cell {
  const c = res.cells.find((x) => x.policy.id === policy && x.target.id === target && x.n === n);
  if (!c) throw new Error(`no result for ${policy} / ${target} / N=${n}`);
  return c;
}

/** One table per target: rows policy x N. */
export function targetTable(res: PolicyResults, target: TargetSpec): string {
  const rows: string[][] = [];
  for (const policy of POLICIES) {
    for (const n of SIZES) {
      const c = findCell(res, policy.id, target.id, n);
      rows.push([
        policy.label,
        String(n),
        fmt(c.meanTv),
        fmt(c.meanMax),
        `${pct(c.exactShare)} (${c.runs.filter((r) => r.exact).length}/${c.runs.length})`,
        fmt(c.meanGpk, 2),
        fmt(c.maxGpk, 2),
        String(c.budgetHits),
      ]);
    }
  }
  const table = mdTable(["policy", "N", "mean TV", "mean max abs(p-q)", "all bins exact", "gen/kept", "max gen/kept", "budget hits"], rows);
  const floor = SIZES.map((n) => {
    const f = res.floors.get(floorKey(target.id, n));
    return f ? `N=${n}: TV ${fmt(f.tv)}, max ${fmt(f.maxAbsDiff)} (bins ${f.bins.join("/")})` : `N=${n}: n/a`;
  }).join("; ");
  return `${table}\n\nRounding floor (a set that meets every bin exactly): ${floor}.`;
}

/** Mean TV per policy and target at the largest N: the overview. */
export function overviewTable(res: PolicyResults, n: number): string {
  const rows = POLICIES.map((p) => [p.label, ...TARGETS.map((t) => fmt(findCell(res, p.id, t.id, n).meanTv))]);
  return mdTable(["policy", ...TARGETS.map((t) => t.id)], rows);
}

/** Exact share per policy and target at the given N. */
export function exactOverviewTable(res: PolicyResults, n: number): string {
  const rows = POLICIES.map((p) => [p.label, ...TARGETS.map((t) => pct(findCell(res, p.id, t.id, n).exactShare))]);
  return mdTable(["policy", ...TARGETS.map((t) => t.id)], rows);
}

export interface GoalCheck {
  pass: boolean;
  text: string;
}

export function goalChecks(res: PolicyResults): GoalCheck[] {
  const out: GoalCheck[] = [];
  for (const target of TARGETS) {
    for (const n of SIZES) {
      const d = findCell(res, "dpi-discard", target.id, n);
      const exactRuns = d.runs.filter((r) => r.exact).length;
      out.push({
        pass: d.exactShare >= 0.95,
        text: `debiaspi direct, discard, ${target.id}, N=${n}: all bins exact in ${exactRuns}/${d.runs.length} runs (${pct(d.exactShare, 1)}; goal >= 95 %)`,
      });
      if (target.costGoal) {
        out.push({
          pass: d.meanGpk <= 1.25,
          text: `debiaspi direct, discard, ${target.id}, N=${n}: ${fmt(d.meanGpk, 3)} generations per kept image (worst run ${fmt(d.maxGpk, 2)}; goal <= 1.25)`,
        });
      }
    }
  }
  for (const target of TARGETS) {
    for (const n of SIZES) {
      const k = findCell(res, "dpi-keep", target.id, n);
      const limit = 1.5 / n;
      out.push({
        pass: k.meanMax <= limit,
        text: `debiaspi direct, keep, ${target.id}, N=${n}: mean max abs(p-q) ${fmt(k.meanMax, 4)} (goal <= 1.5/N = ${fmt(limit, 4)})`,
      });
    }
  }
  return out;
}

/** Cost of the Monk target: generations per kept image and the share thrown away as overflow. */
export function monkCostTable(res: PolicyResults): string {
  const rows: string[][] = [];
  for (const pid of ["dpi-discard", "dpi-discard-effort", "dpi-choice", "dpi-keep", "dpi-keep-effort"]) {
    for (const n of SIZES) {
      const c = findCell(res, pid, "monk", n);
      const ref = findCell(res, pid, "race", n);
      rows.push([c.policy.label, String(n), fmt(c.meanGpk, 2), fmt(c.maxGpk, 2), pct(c.overflowShare, 1), fmt(ref.meanGpk, 2), String(c.budgetHits)]);
    }
  }
  return mdTable(["policy", "N", "gen/kept (Monk)", "worst run", "discarded as overflow", "gen/kept (race, for reference)", "budget hits"], rows);
}
