/**
 * The measurements of a run as the dashboard's API sends them. Pure types without imports, so the
 * browser build (web/) can import them through src/server/api-types.ts; summary.ts extends them with
 * the fields only the server and the CLI use.
 */

/** How a run ended: the reason of its end line, or `incomplete` without one. */
export type RunStatus = "complete" | "budget" | "provider-errors" | "observer-errors" | "cost" | "incomplete";

/** One attribute's counts against its target (when controlled), over the kept images. */
export interface AttributeSummaryBase {
  attribute: string;
  label: string;
  controlled: boolean;
  /** Target share per category (controlled attributes). */
  target?: Record<string, number>;
  /** Integer quota per category (controlled attributes). */
  bins?: Record<string, number>;
  /** Counts per category among the kept images (main subject, or every person with counting: per-person), unknowns left out. */
  observed: Record<string, number>;
  unknown: number;
  unknownRate: number;
  /** Wilson 95 % interval of each category's share. */
  intervals: Record<string, [number, number]>;
  tv?: number;
  maxAbsDiff?: number;
  kl?: number | null;
  chiSquareP?: number;
  normalizedEntropy: number;
  exact?: boolean;
}

/** One controlled factor (a joint one: its cells "black|female") against its target, over the kept images. */
export interface FactorSummary {
  id: string;
  attributes: string[];
  target: Record<string, number>;
  bins: Record<string, number>;
  observed: Record<string, number>;
  /** Wilson 95 % interval of each cell's share. */
  intervals: Record<string, [number, number]>;
  tv: number;
  maxAbsDiff: number;
  kl: number | null;
  fd: number;
  mad: number;
  chiSquareP: number;
  /** Normalised entropy of the observed shares (0 with nothing kept). */
  normalizedEntropy: number;
  exact: boolean;
}

/** The settings a summary reports: what the run (or the audit) was asked to do. */
export interface SummarySettings {
  prompt: string;
  policy: string;
  mode: string;
  overflow: string;
  provider: string;
  observer: string;
  seed: number;
  n: number;
  /** What the attribute tables count: the main subject of each image (default), or every person in it. */
  counting?: "main-subject" | "per-person";
}

/** The measurements of a run that the API sends (`debiaspi show --json` prints more). */
export interface RunSummaryBase extends Omit<SummarySettings, "counting"> {
  id: string;
  status: RunStatus;
  message?: string;
  kept: number;
  /** Kept images drawn when looked at (sim portraits named, not written: image/drawing.ts); absent when none is. */
  keptDrawn?: number;
  /** Images generated (attempts that returned an image). */
  generations: number;
  /** Every call to the provider, refusals and errors included. */
  attempts: number;
  refusals: number;
  errors: number;
  discarded: { overflow: number; unknown: number; surplus: number };
  generationsPerKept: number | null;
  costUsd: number;
  /** Every bin of every factor met exactly. */
  exact: boolean;
  attributes: Record<string, AttributeSummaryBase>;
  factors: FactorSummary[];
  /** Mean TV over the factors after each kept image. */
  convergence: number[];
}
