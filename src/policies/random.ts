import type { Assignment, Request } from "../core/request.js";
import type { Target } from "../core/target.js";
import { assignCell } from "./assign.js";
import type { Policy, PolicyContext, PolicyEntry } from "./types.js";

/** `random`: a cell drawn i.i.d. from the target for every factor, prepended; nothing observed. */
export const randomPolicy = (target: Target): Policy => ({
  id: "random",
  closedLoop: false,
  next: (ctx: PolicyContext): Request => {
    const cells: Assignment = {};
    target.factors.forEach((factor, f) => assignCell(target, f, ctx.rng.weighted(factor.q), cells));
    return { kind: "direct", cells };
  },
});

export const randomEntry: PolicyEntry = { create: (_options, target) => randomPolicy(target) };
