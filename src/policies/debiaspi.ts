import type { Assignment, Request } from "../core/request.js";
import type { Target } from "../core/target.js";
import type { Policy, PolicyContext } from "./types.js";

/**
 * Effective deficit of every cell of factor f: what its bin still needs, less the in-flight
 * requests for it that are expected to succeed.
 */
function deficits(ctx: PolicyContext, f: number): number[] {
  const { tally, keepRate } = ctx;
  return ctx.target.factors[f]!.cells.map((_, c) => tally.remaining(f, c) - tally.pending[f]![c]! * keepRate);
}

/** Cells ordered by effective deficit, largest first, ties in a random order; only cells with room. */
function rankedOpenCells(ctx: PolicyContext, f: number): { c: number; d: number }[] {
  const d = deficits(ctx, f);
  const order = ctx.rng.shuffle(d.map((_, c) => c));
  return order
    .filter((c) => ctx.tally.remaining(f, c) > 0)
    .map((c) => ({ c, d: d[c]! }))
    .sort((a, b) => b.d - a.d);
}

function assignCell(target: Target, f: number, c: number, into: Assignment): void {
  const factor = target.factors[f]!;
  factor.attributes.forEach((a, k) => {
    into[a] = factor.cells[c]![k]!;
  });
}

/**
 * `debiaspi`: the closed loop. In `direct` mode every factor asks for its cell with the largest
 * effective deficit; in `choice` mode the open cells (the k largest deficits when `subgroup` is k)
 * are offered and the model picks. Observations, not requests, fill the bins (see the engine).
 */
export function debiaspiPolicy(target: Target, mode: "direct" | "choice", subgroup: number): Policy {
  return {
    id: "debiaspi",
    closedLoop: true,
    next: (ctx: PolicyContext): Request => {
      const ranked = target.factors.map((_, f) => rankedOpenCells(ctx, f));
      if (mode === "direct" || ranked.some((r) => r.length === 0)) {
        const cells: Assignment = {};
        ranked.forEach((r, f) => {
          const best = r[0];
          if (best) assignCell(target, f, best.c, cells);
        });
        return { kind: "direct", cells };
      }
      // Choice: combinations of open cells across factors, by summed deficit, the k best.
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
  };
}
