import type { Rng } from "../core/rng.js";
import type { Request } from "../core/request.js";
import type { Tally } from "../core/tally.js";
import type { Target } from "../core/target.js";

export const POLICY_IDS = ["none", "eip", "random", "quota", "debiaspi"] as const;
export type PolicyId = (typeof POLICY_IDS)[number];

export interface PolicyOptions {
  policy: PolicyId;
  /** debiaspi: ask for one cell (`direct`) or offer the open cells (`choice`). */
  mode: "direct" | "choice";
  /** debiaspi choice mode: offer only the k cells with the largest deficits (0 = all open cells). */
  subgroup: number;
  /**
   * debiaspi: which open cell to ask for first. `deficit`: the largest deficit (the paper's rule).
   * `effort`: the largest expected number of generations still needed, deficit / estimated compliance,
   * so cells the model rarely honours are asked for early, while misses still land in open bins.
   */
  order: "deficit" | "effort";
}

/** What became of a request: whether an image came back, and what the observer saw of its main subject. */
export interface Settlement {
  produced: boolean;
  labels?: Readonly<Record<string, string | null>>;
}

/** What a policy sees when it makes the next request. */
export interface PolicyContext {
  target: Target;
  tally: Tally;
  /** Randomness for this attempt only (derived from the run seed and the attempt index). */
  rng: Rng;
  /** Estimated share of closed-loop attempts that end kept; discounts pending requests. */
  keepRate: number;
}

export interface Policy {
  readonly id: PolicyId;
  /** Closed-loop policies read observations (bins fill from what was seen); open-loop ones stop after N images. */
  readonly closedLoop: boolean;
  next(ctx: PolicyContext): Request;
  /** Told when a request it made has finished (also replayed on resume). `produced` = an image came back. */
  settle?(request: Request, outcome: Settlement): void;
}

/** One policy as the registry knows it: declared in its own file, listed in policies/index.ts. */
export interface PolicyEntry {
  create(options: PolicyOptions, target: Target, seed: number): Policy;
}
