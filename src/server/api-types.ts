/**
 * The dashboard's JSON API: what each route answers. Pure types, shared by the server (src/server)
 * and the browser code (web/), so both sides are checked against one contract. It imports only
 * import-free type modules (the browser build must not reach node code).
 */
import type { AttributeSummaryBase, FactorSummary, RunStatus, RunSummaryBase } from "../analysis/summary-types.js";
import type { DashboardDefaults } from "../config/dashboard-defaults.js";

/** A field of the new-run form that was not accepted, named by its config path ("n", "target.race"). */
export interface FieldError {
  field: string;
  message: string;
}

/** 4xx/5xx answers: one message, and per-field errors when a run's settings were refused. */
export interface ApiError {
  error: string;
  errors?: FieldError[];
}

export interface ApiCategory {
  id: string;
  label: string;
}

export interface ApiAttribute {
  id: string;
  label: string;
  ordered: boolean;
  categories: ApiCategory[];
}

export interface ApiPromptSet {
  id: string;
  description: string;
  prompts: string[];
}

/** GET /api/options: everything the new-run form offers. */
export interface ApiOptions {
  attributes: ApiAttribute[];
  policies: string[];
  providers: { id: string; description: string; usage: string; env: string[] }[];
  observers: { id: string; description: string }[];
  promptSets: ApiPromptSet[];
  defaults: DashboardDefaults;
  limits: { maxN: number; maxBodyBytes: number };
  runsDir: string;
}

/** Whether this server is working on a run now. */
export interface ApiLiveState {
  /** `running`: the loop is going; `stopping`: stop was asked, images in flight finish; `idle`: not running here. */
  state: "running" | "stopping" | "idle";
  /** The last run of the loop in this server ended with an error (not bad input: that is refused before it starts). */
  error?: string;
  /** Running, but not started here as a run: by another process (the CLI) or as a cell of an experiment; stop it there. */
  external?: boolean;
}

/** One row of GET /api/runs. */
export interface ApiRunListItem {
  id: string;
  createdAt: string;
  prompt: string;
  policy: string;
  provider: string;
  observer: string;
  n: number;
  kept: number;
  status: RunStatus;
  exact: boolean;
  /** Mean TV over the controlled factors (0 = exactly on target). */
  tv: number | null;
  maxAbsDiff: number | null;
  generationsPerKept: number | null;
  refusals: number;
  errors: number;
  costUsd: number;
  /** The controlled factors, "race+gender" for a joint one. */
  factors: string[];
  live: ApiLiveState["state"];
}

/** One row of GET /api/experiments. */
export interface ApiExperimentListItem {
  id: string;
  title: string;
  createdAt: string;
  runs: number;
  incomplete: number;
  /** Mean TV over its runs' controlled factors. */
  meanTv: number | null;
  exactShare: number | null;
  live: ApiLiveState["state"];
}

/** An attempt as the dashboard shows it (the SSE `attempt` event and GET /api/runs/:id/attempts). */
export interface ApiAttempt {
  /** Position in events.jsonl (0-based); the SSE event id. */
  seq: number;
  i: number;
  t: string;
  outcome: "image" | "refusal" | "error";
  decision: "kept" | "overflow" | "unknown" | "surplus" | "refused" | "error";
  /** Run-relative image path ("images/ab12.png"); fetch it from /api/runs/:id/images/ab12.png. */
  image?: string;
  /** What the driving observer saw of the main subject (null = unknown). */
  labels: Record<string, string | null>;
  /** A direct request's cells, or the options of a choice request. */
  requested?: Record<string, string>;
  options?: Record<string, string>[];
  prompt: string;
  refusal?: string;
  error?: string;
  ms: number;
  kept: number;
  costUsd?: number;
}

export interface ApiEnd {
  seq: number;
  t: string;
  reason: Exclude<RunStatus, "incomplete">;
  message?: string;
}

export type ApiAttributeSummary = AttributeSummaryBase;

export type ApiFactorSummary = FactorSummary;

/** The measurements of a run (`debiaspi show --json` prints the same object with more fields). */
export type ApiSummary = RunSummaryBase;

/** GET /api/runs/:id */
export interface ApiRunDetail {
  id: string;
  createdAt: string;
  /** The resolved settings of run.json (prompt, n, policy, target, ...). */
  config: Record<string, unknown>;
  /** Labels of every category of the run's taxonomy: attribute -> category id -> label. */
  labels: Record<string, Record<string, string>>;
  summary: ApiSummary;
  live: ApiLiveState;
}

/** GET /api/compare?ids=a,b */
export interface ApiCompare {
  runs: {
    id: string;
    summary: ApiSummary;
    /** Attributes this run did not control, against the `none` run among the compared ones. */
    crossEffects: { attribute: string; tvVsNone: number; entropyChange: number }[];
  }[];
}

/** GET /api/runs/:id/report: the HTML report's sections, with image URLs that point at this server. */
export interface ApiReport {
  html: string;
  /** The report's stylesheet (scoped to `.dbp-report`). */
  css: string;
  /** False when the HTML report renderer is not available in this build. */
  available: boolean;
}

/** GET /api/experiments/:id */
export interface ApiExperimentDetail {
  id: string;
  title: string;
  createdAt: string;
  /** Whether this dashboard is running it; `done` of `total` cells finished so far. */
  live: ApiLiveState & { done?: number; total?: number };
  /** One row per cell whose run exists; `id` opens it with the run routes (/api/runs/:id). */
  runs: (ApiRunListItem & { labels: Record<string, string> })[];
  /** Cells not finished yet. */
  incomplete: string[];
  findings: { id: string; claim: string; reproduced: string; evidence: string }[];
}

/** Server-sent events of GET /api/runs/:id/events. */
export type ApiStreamEvent =
  | { type: "attempt"; data: ApiAttempt }
  | { type: "end"; data: ApiEnd }
  | { type: "summary"; data: ApiSummary }
  | { type: "state"; data: ApiLiveState };
