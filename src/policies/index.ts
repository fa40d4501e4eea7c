import type { Target } from "../core/target.js";
import { debiaspiPolicy } from "./debiaspi.js";
import { eipPolicy, nonePolicy, quotaPolicy, randomPolicy } from "./simple.js";
import type { Policy, PolicyOptions } from "./types.js";

export * from "./types.js";

/** Builds the policy a run asked for. */
export function createPolicy(options: PolicyOptions, target: Target, seed: number): Policy {
  switch (options.policy) {
    case "none":
      return nonePolicy();
    case "eip":
      return eipPolicy(target);
    case "random":
      return randomPolicy(target);
    case "quota":
      return quotaPolicy(target, seed);
    case "debiaspi":
      return debiaspiPolicy(target, options.mode, options.subgroup, options.order);
  }
}
