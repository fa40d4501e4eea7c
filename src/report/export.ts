import { mkdirSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { mainSubject } from "../core/request.js";
import type { Request } from "../core/request.js";
import type { AttemptEvent } from "../store/events.js";
import type { ReportInput, ReportRun } from "../analysis/model.js";
import { runError } from "../analysis/summary.js";
import { writeAtomic } from "../store/files.js";

/*
 * Exports of a run or an experiment as CSV and JSON: runs, metrics, cells, images (and, for an
 * experiment, findings and cross-attribute effects). The columns are documented in docs/export-schema.md;
 * change both together and bump EXPORT_SCHEMA when a column changes meaning or goes away.
 */
export const EXPORT_SCHEMA = "debiaspi-export/2";

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export interface Table {
  name: string;
  columns: string[];
  rows: Row[];
}

const num = (x: number | null | undefined): number | null => (x === undefined || x === null || Number.isNaN(x) ? null : x);

/** Images counted in a distribution (unknowns left out). */
const total = (observed: Record<string, number>): number => Object.values(observed).reduce((s, c) => s + c, 0);

function labelColumns(run: ReportRun): Row {
  const l = run.labels;
  return {
    run_id: run.id,
    part: l.part ?? null,
    prompt_set: l.promptSet ?? null,
    concept: l.concept ?? null,
    prompt: l.prompt,
    policy: l.policy,
    target: l.target,
    observer: l.observer,
    provider: l.provider,
  };
}

const LABEL_COLUMNS = ["run_id", "part", "prompt_set", "concept", "prompt", "policy", "target", "observer", "provider"];

function runsTable(input: ReportInput): Table {
  const rows = input.runs.map((r): Row => {
    const s = r.summary;
    const error = runError(s);
    return {
      ...labelColumns(r),
      n: s.n,
      seed: s.seed,
      mode: s.mode,
      overflow: s.overflow,
      status: r.inProgress ? "in-progress" : s.status,
      kept: s.kept,
      generations: s.generations,
      attempts: s.attempts,
      refusals: s.refusals,
      errors: s.errors,
      discarded_overflow: s.discarded.overflow,
      discarded_unknown: s.discarded.unknown,
      discarded_surplus: s.discarded.surplus,
      generations_per_kept: num(s.generationsPerKept),
      cost_usd: s.costUsd,
      exact: s.exact,
      mean_tv: error.tv,
      max_tv: s.factors.length > 0 ? Math.max(...s.factors.map((f) => f.tv)) : null,
      max_abs_diff: error.maxAbsDiff,
      run_dir: relative(input.dir, r.runDir).split(sep).join("/") || ".",
    };
  });
  const columns = [
    ...LABEL_COLUMNS,
    "n",
    "seed",
    "mode",
    "overflow",
    "status",
    "kept",
    "generations",
    "attempts",
    "refusals",
    "errors",
    "discarded_overflow",
    "discarded_unknown",
    "discarded_surplus",
    "generations_per_kept",
    "cost_usd",
    "exact",
    "mean_tv",
    "max_tv",
    "max_abs_diff",
    "run_dir",
  ];
  return { name: "runs", columns, rows };
}

function metricsTable(input: ReportInput): Table {
  const rows: Row[] = [];
  for (const r of input.runs) {
    for (const f of r.summary.factors) {
      rows.push({
        run_id: r.id,
        scope_kind: "factor",
        scope: f.id,
        controlled: true,
        tv: f.tv,
        max_abs_diff: f.maxAbsDiff,
        kl: num(f.kl),
        fd: f.fd,
        mad: f.mad,
        chi_square_p: num(f.chiSquareP),
        normalized_entropy: total(f.observed) > 0 ? f.normalizedEntropy : null,
        unknown_rate: null,
        exact: f.exact,
      });
    }
    for (const a of Object.values(r.summary.attributes)) {
      rows.push({
        run_id: r.id,
        scope_kind: "attribute",
        scope: a.attribute,
        controlled: a.controlled,
        tv: num(a.tv),
        max_abs_diff: num(a.maxAbsDiff),
        kl: num(a.kl),
        fd: num(a.fd),
        mad: num(a.mad),
        chi_square_p: num(a.chiSquareP),
        normalized_entropy: a.normalizedEntropy,
        unknown_rate: a.unknownRate,
        exact: a.exact ?? null,
      });
    }
  }
  return { name: "metrics", columns: ["run_id", "scope_kind", "scope", "controlled", "tv", "max_abs_diff", "kl", "fd", "mad", "chi_square_p", "normalized_entropy", "unknown_rate", "exact"], rows };
}

function cellsTable(input: ReportInput): Table {
  const rows: Row[] = [];
  for (const r of input.runs) {
    for (const f of r.summary.factors) {
      const n = total(f.observed);
      for (const key of Object.keys(f.target)) {
        const c = f.observed[key] ?? 0;
        const iv = f.intervals[key];
        rows.push({ run_id: r.id, scope_kind: "factor", scope: f.id, category: key, controlled: true, target: f.target[key]!, bins: f.bins[key] ?? null, observed: c, share: n > 0 ? c / n : null, wilson_low: iv ? iv[0] : null, wilson_high: iv ? iv[1] : null, truth: null, corrected_share: null, corrected_low: null, corrected_high: null });
      }
    }
    for (const a of Object.values(r.summary.attributes)) {
      const n = total(a.observed);
      for (const [cat, c] of Object.entries(a.observed)) {
        const iv = a.intervals[cat];
        rows.push({
          run_id: r.id,
          scope_kind: "attribute",
          scope: a.attribute,
          category: cat,
          controlled: a.controlled,
          target: a.target?.[cat] ?? null,
          bins: a.bins?.[cat] ?? null,
          observed: c,
          share: n > 0 ? c / n : null,
          wilson_low: iv ? iv[0] : null,
          wilson_high: iv ? iv[1] : null,
          truth: a.truth ? (a.truth.observed[cat] ?? 0) : null,
          corrected_share: a.corrected?.shares[cat] ?? null,
          corrected_low: a.corrected?.intervals[cat]?.[0] ?? null,
          corrected_high: a.corrected?.intervals[cat]?.[1] ?? null,
        });
      }
    }
  }
  return { name: "cells", columns: ["run_id", "scope_kind", "scope", "category", "controlled", "target", "bins", "observed", "share", "wilson_low", "wilson_high", "truth", "corrected_share", "corrected_low", "corrected_high"], rows };
}

function requestText(req: Request): string {
  switch (req.kind) {
    case "plain":
      return "plain";
    case "eip":
      return `eip:${req.attributes.join("+")}`;
    case "direct":
      return Object.entries(req.cells)
        .map(([a, c]) => `${a}=${c}`)
        .join(";");
    case "choice":
      return `choice:${req.options.map((o) => Object.values(o).join("|")).join(",")}`;
  }
}

function imagesTable(input: ReportInput): Table {
  const attrs = [...new Set(input.runs.flatMap((r) => r.record.taxonomy.attributes.filter((a) => a.categories.length > 0).map((a) => a.id)))];
  const rows: Row[] = [];
  for (const r of input.runs) {
    const attempts = r.events.filter((e): e is AttemptEvent => e.type === "attempt").sort((a, b) => a.i - b.i);
    for (const e of attempts) {
      const seen = e.observation ? mainSubject(e.observation) : {};
      const truth = (e.meta?.truth as Record<string, string> | undefined) ?? undefined;
      const row: Row = {
        run_id: r.id,
        i: e.i,
        decision: e.decision,
        outcome: e.outcome,
        image: e.image ?? null,
        request: requestText(e.request),
        prompt: e.prompt,
        seed: e.seed,
        persons: e.observation ? e.observation.persons.length : null,
        cost_usd: e.costUsd ?? null,
        ms: e.ms,
        refusal: e.refusal ?? e.error ?? null,
      };
      for (const a of attrs) row[`observed.${a}`] = seen[a] ?? null;
      for (const a of attrs) row[`truth.${a}`] = truth ? (truth[a] ?? null) : null;
      rows.push(row);
    }
  }
  const columns = ["run_id", "i", "decision", "outcome", "image", "request", "prompt", "seed", "persons", "cost_usd", "ms", "refusal", ...attrs.map((a) => `observed.${a}`), ...attrs.map((a) => `truth.${a}`)];
  return { name: "images", columns, rows };
}

function findingsTable(input: ReportInput): Table {
  return {
    name: "findings",
    columns: ["id", "reproduced", "claim", "evidence"],
    rows: (input.findings ?? []).map((f) => ({ id: f.id, reproduced: f.reproduced, claim: f.claim, evidence: f.evidence })),
  };
}

function effectsTable(input: ReportInput): Table {
  const rows: Row[] = (input.effectSummary ?? []).map((e) => ({
    part: e.part ?? null,
    target: e.target,
    policy: e.policy,
    observer: e.observer,
    provider: e.provider,
    attribute: e.attribute,
    pairs: e.pairs,
    mean_tv_vs_none: e.meanTvVsNone,
    mean_entropy_change: e.meanEntropyChange,
    narrowed_share: e.narrowedShare,
    mean_tv_to_uniform: e.meanTvToUniform,
    mean_baseline_tv_to_uniform: e.meanBaselineTvToUniform,
  }));
  return {
    name: "effects",
    columns: ["part", "target", "policy", "observer", "provider", "attribute", "pairs", "mean_tv_vs_none", "mean_entropy_change", "narrowed_share", "mean_tv_to_uniform", "mean_baseline_tv_to_uniform"],
    rows,
  };
}

/** The export tables of a run or an experiment (findings and effects only for experiments). */
export function exportTables(input: ReportInput): Table[] {
  const tables = [runsTable(input), metricsTable(input), cellsTable(input), imagesTable(input)];
  if (input.kind === "experiment") tables.push(findingsTable(input), effectsTable(input));
  return tables;
}

const csvField = (v: Cell): string => {
  if (v === null) return "";
  const s = typeof v === "string" ? v : String(v);
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
};

/** RFC 4180 CSV with a header line; empty field for null. */
export function toCsv(table: Table): string {
  const lines = [table.columns.map(csvField).join(",")];
  for (const row of table.rows) lines.push(table.columns.map((c) => csvField(row[c] ?? null)).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

/** One JSON document with every table as a list of objects, plus what the export is of. */
export function toJson(input: ReportInput, tables: readonly Table[]): string {
  const doc: Record<string, unknown> = {
    schema: EXPORT_SCHEMA,
    kind: input.kind,
    title: input.title,
    dir: input.dir,
    createdAt: input.createdAt,
    version: input.version,
    incomplete: input.incomplete ?? [],
  };
  for (const t of tables) doc[t.name] = t.rows;
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Writes the export into `out` (created if needed); returns the files written. */
export function writeExport(input: ReportInput, options: { format: "csv" | "json"; out: string }): string[] {
  const out = resolve(options.out);
  mkdirSync(out, { recursive: true });
  const tables = exportTables(input);
  const write = (name: string, text: string): string => {
    const path = join(out, name);
    writeAtomic(path, text);
    return path;
  };
  if (options.format === "json") return [write("export.json", toJson(input, tables))];
  return tables.map((t) => write(`${t.name}.csv`, toCsv(t)));
}
