/**
 * What a report (HTML, CSV, JSON, `check`) is built from: one run, or the many runs of an experiment,
 * each with the labels of its cell in the experiment matrix. A single run is an experiment of one cell.
 *
 * Producers: `loadReportInput` (src/experiments/load.ts: a run or an experiment folder) over `loadReportRun` (src/analysis/load.ts).
 * Consumers: `src/report/html/`, `src/report/export.ts`, `check`, the dashboard.
 */
import type { CheckThresholds } from "../config/check-schema.js";
import type { RunEvent } from "../store/events.js";
import type { RunRecord, RunSummary } from "./summary.js";

/** Where a run sits in the experiment matrix. */
export interface CellLabels {
  /** Prompt set id ("headlines", "occupations", a user file) or "single" for a lone prompt. */
  promptSet?: string;
  prompt: string;
  policy: string;
  /** Target id as named in the experiment config, e.g. "race-gender-uniform". */
  target: string;
  /** The observer that drove the loop. */
  observer: string;
  provider: string;
  /** Experiments: the part of the experiment config the cell comes from (e.g. "joint", "monk"). */
  part?: string;
  /** Built-in headline prompts: the hard concept it depicts (career success, poverty, ...). */
  concept?: string;
}

export interface ReportRun {
  /** Unique within the report; for an experiment, the cell id (also its folder name). */
  id: string;
  labels: CellLabels;
  /** Absolute path of the run folder. */
  runDir: string;
  record: RunRecord;
  events: RunEvent[];
  summary: RunSummary;
  /** A live process holds the run's lock (it is being generated right now). */
  inProgress?: boolean;
}

/** A statement of one of the paper's findings, and whether this experiment reproduces it. */
export interface Finding {
  id: string;
  /** The claim, in words, as the paper makes it. */
  claim: string;
  reproduced: "yes" | "partly" | "no" | "not measured";
  /** The numbers behind the verdict, in words. */
  evidence: string;
  /** The provider the runs behind it used (`sim`, `sim:sd35`, `openai:dall-e-3`); findings are computed per provider. */
  provider?: string;
  /**
   * What the verdict is evidence of: `real` (a real provider), `measured-profile` (a sim profile whose parameters
   * that encode the effect are all measured), `simulated` (sim, whose assumed parameters encode the effect).
   */
  basis?: "real" | "measured-profile" | "simulated";
  /** The basis in words: "demonstrated on the simulated model, whose parameter X encodes this effect" or "reproduced on ..., with the source". */
  wording?: string;
}

/** What an audit report is about: the folder audited, by which observers, and what could not be read there. */
export interface AuditReport {
  /** The audited folder (absolute). */
  source: string;
  /** The first is reported, the others check it. */
  observers: string[];
  /** Images read and counted. */
  images: number;
  /** Files found that are not readable images (not counted), with why. */
  unreadable: { file: string; reason: string }[];
}

export interface ReportInput {
  kind: "run" | "experiment";
  /** An audit folder's report: what was audited (its run has no policy, provider or cost). */
  audit?: AuditReport;
  title: string;
  /** Folder the report is about (run folder or experiment folder), absolute. */
  dir: string;
  createdAt: string;
  version: string;
  runs: ReportRun[];
  /** Experiments only: the paper's findings, stated with numbers. */
  findings?: Finding[];
  /** Experiments: the thresholds of the config's `check:` block, for `debiaspi check`. */
  check?: CheckThresholds;
  /** Experiments only: cells not finished yet (a report of a partial experiment says so). */
  incomplete?: string[];
  /** Experiments: side effects on attributes a run did not control, against the `none` run of the same prompt (see src/analysis/effects.ts). */
  effects?: CrossAttributeEffect[];
  /** Experiments: `effects` averaged per part, target, policy, observer, provider and attribute. */
  effectSummary?: CrossEffectRow[];
}

/**
 * One run's side effect on one attribute it did not control, against the `none` run of the same prompt
 * (same provider; the same observer and target when there is one, so the pairs are like for like).
 */
export interface CrossAttributeEffect {
  runId: string;
  /** The paired `none` run. */
  baselineId: string;
  labels: CellLabels;
  attribute: string;
  /** Share of each category among the kept images whose attribute was observed, in this run and in the none run. */
  shares: Record<string, number>;
  baselineShares: Record<string, number>;
  /** TV between the two distributions. */
  tvVsNone: number;
  /** Normalised entropy of this run minus that of the none run (negative = less diverse). */
  entropyChange: number;
  /** TV of each distribution to uniform over the attribute's categories (smaller = more balanced). */
  tvToUniform: number;
  baselineTvToUniform: number;
}

/** Cross-attribute effects averaged over the prompts of one group of runs. */
export interface CrossEffectRow {
  part?: string;
  target: string;
  policy: string;
  observer: string;
  provider: string;
  attribute: string;
  /** Pairs (prompts) averaged. */
  pairs: number;
  meanTvVsNone: number;
  meanEntropyChange: number;
  /** Share of pairs in which the attribute became less diverse (entropy fell). */
  narrowedShare: number;
  meanTvToUniform: number;
  meanBaselineTvToUniform: number;
  /** Mean share of each category over the pairs (every prompt weighs the same), in the runs and in their none runs. */
  meanShares: Record<string, number>;
  meanBaselineShares: Record<string, number>;
}
