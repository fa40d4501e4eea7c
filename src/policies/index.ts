import type { Target } from "../core/target.js";
import { debiaspiEntry } from "./debiaspi.js";
import { eipEntry } from "./eip.js";
import { noneEntry } from "./none.js";
import { quotaEntry } from "./quota.js";
import { randomEntry } from "./random.js";
import type { Policy, PolicyEntry, PolicyId, PolicyOptions } from "./types.js";

export * from "./types.js";

/** The registry: one entry per id of POLICY_IDS (the type makes a missing or extra one a compile error); each policy lives in its own file. */
const POLICIES: Readonly<Record<PolicyId, PolicyEntry>> = {
  none: noneEntry,
  eip: eipEntry,
  random: randomEntry,
  quota: quotaEntry,
  debiaspi: debiaspiEntry,
};

/** Builds the policy a run asked for. */
export function createPolicy(options: PolicyOptions, target: Target, seed: number): Policy {
  return POLICIES[options.policy].create(options, target, seed);
}
