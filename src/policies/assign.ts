import type { Assignment } from "../core/request.js";
import type { Target } from "../core/target.js";

/** Assigns every attribute of factor `f`'s cell `c` into `into`. */
export function assignCell(target: Target, f: number, c: number, into: Assignment): void {
  const factor = target.factors[f]!;
  factor.attributes.forEach((a, k) => {
    into[a] = factor.cells[c]![k]!;
  });
}
