import type { Assignment, Request } from "../core/request.js";
import { CellIndex } from "../core/tally.js";
import type { Target } from "../core/target.js";
import { assignCell } from "./assign.js";
import type { Policy, PolicyContext, PolicyEntry, PolicyOptions, Settlement } from "./types.js";

/** Per cell of every factor: how often a direct request for it came back as it (compliance estimate). */
class ComplianceStats {
  readonly asked: number[][];
  readonly hits: number[][];
  private readonly index: CellIndex;
  constructor(target: Target) {
    this.asked = target.factors.map((f) => f.cells.map(() => 0));
    this.hits = target.factors.map((f) => f.cells.map(() => 0));
    this.index = new CellIndex(target);
  }
  record(cells: Assignment, labels: Readonly<Record<string, string | null>>): void {
    this.index.target.factors.forEach((_, f) => {
      const want = this.index.cellOf(f, cells);
      if (want < 0) return;
      this.asked[f]![want]! += 1;
      if (this.index.cellOf(f, labels) === want) this.hits[f]![want]! += 1;
    });
  }
  /** Laplace-smoothed share of requests for the cell that were honoured (0.5 before any evidence). */
  rate(f: number, c: number): number {
    return (this.hits[f]![c]! + 1) / (this.asked[f]![c]! + 2);
  }
}

/** Open cells of factor f, best first, ties in a random order. */
function rankedOpenCells(ctx: PolicyContext, f: number, stats: ComplianceStats, order: PolicyOptions["order"]): { c: number; d: number }[] {
  const { tally, keepRate } = ctx;
  const cells = ctx.target.factors[f]!.cells;
  // Effective deficit: what the bin still needs, less the in-flight requests expected to succeed.
  const deficit = cells.map((_, c) => tally.remaining(f, c) - tally.pending[f]![c]! * keepRate);
  const score = order === "effort" ? deficit.map((d, c) => (d > 0 ? d / stats.rate(f, c) : d)) : deficit;
  return ctx.rng
    .shuffle(cells.map((_, c) => c))
    .filter((c) => tally.remaining(f, c) > 0)
    .map((c) => ({ c, d: score[c]! }))
    .sort((a, b) => b.d - a.d);
}

/**
 * `debiaspi`: the closed loop. In `direct` mode every factor asks for its best open cell (largest
 * deficit, or largest expected effort with `order: effort`); in `choice` mode the open cells (the k
 * best when `subgroup` is k) are offered and the model picks. Observations, not requests, fill the
 * bins (see the engine).
 */
export function debiaspiPolicy(target: Target, mode: "direct" | "choice", subgroup: number, order: PolicyOptions["order"] = "deficit"): Policy {
  const stats = new ComplianceStats(target);
  return {
    id: "debiaspi",
    closedLoop: true,
    next: (ctx: PolicyContext): Request => {
      const ranked = target.factors.map((_, f) => rankedOpenCells(ctx, f, stats, order));
      if (mode === "direct" || ranked.some((r) => r.length === 0)) {
        const cells: Assignment = {};
        ranked.forEach((r, f) => {
          const best = r[0];
          if (best) assignCell(target, f, best.c, cells);
        });
        return { kind: "direct", cells };
      }
      // Choice: combinations of open cells across factors, by summed score, the k best.
      let combos: { cells: number[]; d: number }[] = [{ cells: [], d: 0 }];
      for (const r of ranked) {
        combos = combos.flatMap((combo) => r.map((x) => ({ cells: [...combo.cells, x.c], d: combo.d + x.d })));
        combos.sort((a, b) => b.d - a.d);
        if (combos.length > 256) combos = combos.slice(0, 256);
      }
      const k = subgroup > 0 ? subgroup : combos.length;
      const options = combos.slice(0, k).map((combo) => {
        const cells: Assignment = {};
        combo.cells.forEach((c, f) => assignCell(target, f, c, cells));
        return cells;
      });
      return options.length === 1 ? { kind: "direct", cells: options[0]! } : { kind: "choice", options };
    },
    settle: (request: Request, outcome: Settlement) => {
      if (request.kind !== "direct" || !outcome.produced || !outcome.labels) return;
      stats.record(request.cells, outcome.labels);
    },
  };
}

export const debiaspiEntry: PolicyEntry = { create: (options, target) => debiaspiPolicy(target, options.mode, options.subgroup, options.order) };
