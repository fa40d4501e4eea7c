import { runError } from "../analysis/summary.js";
import { plainTable } from "../report/plain-table.js";
import type { ExperimentManifest } from "./folder.js";
import type { ReportInput } from "../analysis/model.js";
import type { RunStatus } from "../analysis/summary-types.js";

/** The bundled studies of the paper (studies/debiaspi-paper*.yaml): only their output states the paper's findings. */
export const PAPER_STUDY_IDS: readonly string[] = ["debiaspi-paper", "debiaspi-paper-real"];
export const isPaperStudy = (id: string): boolean => PAPER_STUDY_IDS.includes(id);

/** One cell of an experiment as the terminal table and `experiment --json` show it. */
export interface CellRow {
  id: string;
  part?: string;
  prompt: string;
  policy: string;
  target: string;
  observer: string;
  provider: string;
  /** `not run` for a cell with no run folder yet. */
  status: RunStatus | "not run";
  kept: number;
  n: number;
  generations: number;
  refusals: number;
  /** Mean TV over the run's factors; null without a run. */
  tv: number | null;
  maxAbsDiff: number | null;
  exact: boolean;
  costUsd: number;
}

/** A row per cell of the manifest, in its order, measured from the runs loaded so far. */
export function cellRows(manifest: ExperimentManifest, input: ReportInput): CellRow[] {
  const runs = new Map(input.runs.map((r) => [r.id, r]));
  return manifest.cells.map((cell): CellRow => {
    const { labels } = cell;
    const base = { id: cell.id, ...(labels.part ? { part: labels.part } : {}), prompt: labels.prompt, policy: labels.policy, target: labels.target, observer: labels.observer, provider: labels.provider };
    const r = runs.get(cell.id);
    if (!r) return { ...base, status: "not run", kept: 0, n: typeof cell.settings.n === "number" ? cell.settings.n : 0, generations: 0, refusals: 0, tv: null, maxAbsDiff: null, exact: false, costUsd: 0 };
    const s = r.summary;
    const err = runError(s);
    return { ...base, status: s.status, kept: s.kept, n: s.n, generations: s.generations, refusals: s.refusals, tv: err.tv, maxAbsDiff: err.maxAbsDiff, exact: s.exact, costUsd: s.costUsd };
  });
}

/** Rows shown on a terminal before "... and N more cells" (the JSON has them all). */
export const TERMINAL_ROWS = 40;

const short = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** The per-cell table for the terminal: prompt, policy, target, observer, provider (those that vary), status and measures. */
export function formatCellTable(rows: readonly CellRow[], maxRows = TERMINAL_ROWS): string {
  if (rows.length === 0) return "";
  // Only the labels that differ between cells are columns; the others are said once above the table.
  const labelKeys = (["part", "prompt", "policy", "target", "observer", "provider"] as const).filter((k) => new Set(rows.map((r) => r[k] ?? "")).size > 1);
  const fixed = (["policy", "target", "observer", "provider"] as const).filter((k) => !labelKeys.includes(k)).map((k) => `${k} ${rows[0]![k]}`);
  const withCost = rows.some((r) => r.costUsd > 0);
  const t = plainTable([...labelKeys, "status", "kept", "gen.", "TV", "max|p-q|", "exact", ...(withCost ? ["cost"] : [])]);
  for (const r of rows.slice(0, maxRows)) {
    t.push([
      ...labelKeys.map((k) => short(r[k] ?? "", k === "prompt" ? 36 : 22)),
      r.status,
      `${r.kept}/${r.n}`,
      String(r.generations),
      r.tv === null ? "-" : r.tv.toFixed(3),
      r.maxAbsDiff === null ? "-" : r.maxAbsDiff.toFixed(3),
      r.status === "not run" ? "-" : r.exact ? "yes" : "no",
      ...(withCost ? [`$${r.costUsd.toFixed(2)}`] : []),
    ]);
  }
  const more = rows.length > maxRows ? `\n  ... and ${rows.length - maxRows} more cells (all of them: --json, or debiaspi export)` : "";
  return `${fixed.length > 0 ? `Cells (${fixed.join(", ")}):` : "Cells:"}\n${t.toString()}${more}`;
}
