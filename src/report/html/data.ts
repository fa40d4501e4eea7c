/**
 * What the report's charts and tables show, computed from a ReportInput: runs grouped by policy
 * (the series) and target (the panel), counts pooled across prompts, averaged convergence, costs.
 * No I/O and no markup here.
 */
import { wilsonInterval } from "../../core/metrics.js";
import type { CellLabels, ReportInput, ReportRun } from "../../analysis/model.js";

/** Attributes and categories, in taxonomy order, with their human labels (union over the runs' taxonomies). */
export interface Catalog {
  attributes: { id: string; label: string; ordered: boolean; categories: { id: string; label: string }[] }[];
}

export function buildCatalog(runs: readonly ReportRun[]): Catalog {
  const attributes: Catalog["attributes"] = [];
  for (const run of runs) {
    for (const a of run.record.taxonomy.attributes) {
      let entry = attributes.find((x) => x.id === a.id);
      if (!entry) attributes.push((entry = { id: a.id, label: a.label, ordered: a.ordered, categories: [] }));
      for (const c of a.categories) if (!entry.categories.some((x) => x.id === c.id)) entry.categories.push({ id: c.id, label: c.label });
    }
  }
  return { attributes };
}

export function attributeLabel(catalog: Catalog, id: string): string {
  return catalog.attributes.find((a) => a.id === id)?.label ?? id;
}

export function categoryLabel(catalog: Catalog, attribute: string, id: string): string {
  return catalog.attributes.find((a) => a.id === attribute)?.categories.find((c) => c.id === id)?.label ?? id;
}

/** A joint cell key ("black|female") of a factor, in words ("Black · Female"). */
export function cellLabel(catalog: Catalog, attributes: readonly string[], key: string): string {
  return key
    .split("|")
    .map((c, i) => categoryLabel(catalog, attributes[i] ?? "", c))
    .join(" \u00b7 ");
}

/** Runs of one series (policy, plus observer/provider when those vary) on one target (panel). */
export interface RunGroup {
  key: string;
  /** The target id (with the experiment part, if any). */
  panel: string;
  /** The series label: the policy, with observer/provider when they vary in the report. */
  series: string;
  policy: string;
  /** The observer (and provider) named in the series label, "" when none is: charts draw one variant at a time. */
  variant: string;
  runs: ReportRun[];
}

export interface Grouping {
  groups: RunGroup[];
  panels: string[];
  series: string[];
  /** Policies in display order: a policy has the same colour in every chart. */
  policies: string[];
  /** How many distinct prompts the report covers. */
  prompts: number;
  varies: { observer: boolean; provider: boolean; target: boolean; prompt: boolean };
  /** The series a run (or a row about runs) with these labels belongs to. */
  seriesOf: (labels: Pick<CellLabels, "part" | "target" | "policy" | "observer" | "provider">) => string;
}

const distinct = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

/** Policies in the order the paper discusses them; others after, alphabetically. */
const POLICY_ORDER = ["none", "eip", "random", "quota", "debiaspi"];
function policyRank(p: string): number {
  const base = POLICY_ORDER.findIndex((x) => p === x || p.startsWith(`${x}-`) || p.startsWith(`${x} `));
  return base < 0 ? POLICY_ORDER.length : base;
}

/** The panel a run is shown in: its target, prefixed by the experiment part when that says more. */
export function panelOf(labels: Pick<CellLabels, "part" | "target">): string {
  const { part, target } = labels;
  return part && part !== target ? `${part}: ${target}` : target;
}

export function groupRuns(input: ReportInput): Grouping {
  const runs = input.runs;
  const varies = {
    observer: distinct(runs.map((r) => r.labels.observer)).length > 1,
    provider: distinct(runs.map((r) => r.labels.provider)).length > 1,
    target: distinct(runs.map((r) => r.labels.target)).length > 1,
    prompt: distinct(runs.map((r) => r.labels.prompt)).length > 1,
  };
  // A series names its observer (provider) when that varies within its panel, or differs from the one most runs use.
  const mostCommon = (key: "observer" | "provider"): string => {
    const counts = new Map<string, number>();
    for (const r of runs) counts.set(r.labels[key], (counts.get(r.labels[key]) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "";
  };
  const usual = { observer: mostCommon("observer"), provider: mostCommon("provider") };
  const panelVaries = new Map<string, { observer: boolean; provider: boolean }>();
  for (const panel of distinct(runs.map((r) => panelOf(r.labels)))) {
    const inPanel = runs.filter((r) => panelOf(r.labels) === panel);
    panelVaries.set(panel, {
      observer: distinct(inPanel.map((r) => r.labels.observer)).length > 1,
      provider: distinct(inPanel.map((r) => r.labels.provider)).length > 1,
    });
  }
  const variantOf = (labels: Pick<CellLabels, "part" | "target" | "observer" | "provider">): string => {
    const v = panelVaries.get(panelOf(labels)) ?? { observer: false, provider: false };
    return (["observer", "provider"] as const)
      .filter((k) => v[k] || labels[k] !== usual[k])
      .map((k) => labels[k])
      .join(", ");
  };
  const seriesOf = (labels: Pick<CellLabels, "part" | "target" | "policy" | "observer" | "provider">): string => {
    const variant = variantOf(labels);
    return variant ? `${labels.policy} (${variant})` : labels.policy;
  };
  const map = new Map<string, RunGroup>();
  for (const r of runs) {
    const series = seriesOf(r.labels);
    const panel = panelOf(r.labels);
    const key = `${panel}\u0000${series}`;
    let g = map.get(key);
    if (!g) map.set(key, (g = { key, panel, series, policy: r.labels.policy, variant: variantOf(r.labels), runs: [] }));
    g.runs.push(r);
  }
  const panels = distinct(runs.map((r) => panelOf(r.labels)));
  const groups = [...map.values()].sort(
    (a, b) =>
      panels.indexOf(a.panel) - panels.indexOf(b.panel) || a.variant.localeCompare(b.variant) || policyRank(a.policy) - policyRank(b.policy) || a.policy.localeCompare(b.policy),
  );
  const series = distinct(groups.map((g) => g.series));
  const policies = distinct(groups.map((g) => g.policy)).sort((a, b) => policyRank(a) - policyRank(b) || a.localeCompare(b));
  return { groups, panels, series, policies, prompts: distinct(runs.map((r) => r.labels.prompt)).length, varies, seriesOf };
}

/** One bar of a target-vs-achieved chart: a category's pooled share in one group. */
export interface ShareRow {
  /** The group's policy (charts show one variant at a time, coloured by policy). */
  series: string;
  category: string;
  label: string;
  count: number;
  /** Images whose category was known (the denominator). */
  n: number;
  share: number;
  low: number;
  high: number;
  /** Mean target share over the group's runs (absent for attributes the group does not control). */
  target?: number;
}

/** Attributes worth a chart in a panel: the controlled ones first, then the others seen, in taxonomy order. */
export function panelAttributes(catalog: Catalog, groups: readonly RunGroup[]): { controlled: string[]; other: string[] } {
  const controlled: string[] = [];
  const other: string[] = [];
  for (const a of catalog.attributes) {
    const summaries = groups.flatMap((g) => g.runs.map((r) => r.summary.attributes[a.id])).filter((s) => s !== undefined);
    if (summaries.length === 0) continue;
    if (summaries.some((s) => s.controlled)) controlled.push(a.id);
    else other.push(a.id);
  }
  return { controlled, other };
}

/** Counts of one attribute pooled over a group's runs, with Wilson 95 % intervals and the mean target. */
export function pooledShares(catalog: Catalog, group: RunGroup, attribute: string): ShareRow[] {
  const attr = catalog.attributes.find((a) => a.id === attribute);
  if (!attr) return [];
  const summaries = group.runs.map((r) => r.summary.attributes[attribute]).filter((s) => s !== undefined);
  if (summaries.length === 0) return [];
  const counts = attr.categories.map((c) => summaries.reduce((s, a) => s + (a.observed[c.id] ?? 0), 0));
  const n = counts.reduce((s, c) => s + c, 0);
  const withTarget = summaries.filter((s) => s.target !== undefined);
  return attr.categories.map((c, i) => {
    const iv = wilsonInterval(counts[i]!, n);
    const row: ShareRow = { series: group.policy, category: c.id, label: c.label, count: counts[i]!, n, share: n > 0 ? counts[i]! / n : 0, low: iv.low, high: iv.high };
    if (withTarget.length > 0) row.target = withTarget.reduce((s, a) => s + (a.target![c.id] ?? 0), 0) / withTarget.length;
    return row;
  });
}

/** One cell of a joint target's heatmap in one group. */
export interface JointCell {
  series: string;
  factor: string;
  /** Category (label) of the first attribute: the heatmap's row. */
  row: string;
  /** Categories (labels) of the other attributes: the heatmap's column. */
  column: string;
  count: number;
  bins: number;
  n: number;
  share: number;
  target: number;
  diff: number;
}

/** The joint factors (two or more attributes) present in a panel, by id. */
export function jointFactors(groups: readonly RunGroup[]): { id: string; attributes: string[] }[] {
  const out: { id: string; attributes: string[] }[] = [];
  for (const g of groups) {
    for (const r of g.runs) {
      for (const f of r.summary.factors) {
        if (f.attributes.length >= 2 && !out.some((x) => x.id === f.id)) out.push({ id: f.id, attributes: f.attributes });
      }
    }
  }
  return out;
}

/** Achieved against target per cell of a joint factor, counts pooled over the group's runs. */
export function jointCells(catalog: Catalog, group: RunGroup, factorId: string): JointCell[] {
  const factors = group.runs.map((r) => r.summary.factors.find((f) => f.id === factorId)).filter((f) => f !== undefined);
  const first = factors[0];
  if (!first) return [];
  const keys = Object.keys(first.target);
  const counts = keys.map((k) => factors.reduce((s, f) => s + (f.observed[k] ?? 0), 0));
  const bins = keys.map((k) => factors.reduce((s, f) => s + (f.bins[k] ?? 0), 0));
  const n = counts.reduce((s, c) => s + c, 0);
  return keys.map((k, i) => {
    const parts = k.split("|");
    const target = factors.reduce((s, f) => s + (f.target[k] ?? 0), 0) / factors.length;
    const share = n > 0 ? counts[i]! / n : 0;
    return {
      series: group.series,
      factor: factorId,
      row: categoryLabel(catalog, first.attributes[0]!, parts[0]!),
      column: parts
        .slice(1)
        .map((c, j) => categoryLabel(catalog, first.attributes[j + 1]!, c))
        .join(" \u00b7 "),
      count: counts[i]!,
      bins: bins[i]!,
      n,
      share,
      target,
      diff: share - target,
    };
  });
}

/** The mean convergence series of a group (index-wise mean over its runs), thinned to at most `maxPoints`. */
export function meanConvergence(group: RunGroup, maxPoints = 240): { kept: number; tv: number; runs: number }[] {
  // A run that controls nothing (an audit without a target) has no distance to converge: its TV is 0 by definition.
  const series = group.runs.filter((r) => r.summary.factors.length > 0).map((r) => r.summary.convergence).filter((s) => s.length > 0);
  const length = Math.max(0, ...series.map((s) => s.length));
  const points: { kept: number; tv: number; runs: number }[] = [];
  const step = Math.max(1, Math.ceil(length / maxPoints));
  for (let i = 0; i < length; i++) {
    if (i % step !== 0 && i !== length - 1) continue;
    const values = series.filter((s) => i < s.length).map((s) => s[i]!);
    points.push({ kept: i + 1, tv: values.reduce((a, b) => a + b, 0) / values.length, runs: values.length });
  }
  return points;
}

export interface CostRow {
  group: RunGroup;
  runs: number;
  attempts: number;
  generations: number;
  kept: number;
  refusals: number;
  errors: number;
  setApart: number;
  exactRuns: number;
  costUsd: number;
}

export function costRow(group: RunGroup): CostRow {
  const sum = (f: (r: ReportRun) => number): number => group.runs.reduce((s, r) => s + f(r), 0);
  return {
    group,
    runs: group.runs.length,
    attempts: sum((r) => r.summary.attempts),
    generations: sum((r) => r.summary.generations),
    kept: sum((r) => r.summary.kept),
    refusals: sum((r) => r.summary.refusals),
    errors: sum((r) => r.summary.errors),
    setApart: sum((r) => r.summary.discarded.overflow + r.summary.discarded.unknown + r.summary.discarded.surplus),
    exactRuns: group.runs.filter((r) => r.summary.exact).length,
    costUsd: sum((r) => r.summary.costUsd),
  };
}

/** Refusals per requested cell, pooled over a group's runs (direct requests only). */
export function refusalsByCell(group: RunGroup): { factor: string; cell: string; requested: number; refused: number }[] {
  const acc = new Map<string, { factor: string; cell: string; requested: number; refused: number }>();
  for (const r of group.runs) {
    for (const [factor, cells] of Object.entries(r.summary.refusalsByCell)) {
      for (const [cell, v] of Object.entries(cells)) {
        const key = `${factor}\u0000${cell}`;
        const row = acc.get(key) ?? { factor, cell, requested: 0, refused: 0 };
        row.requested += v.requested;
        row.refused += v.refused;
        acc.set(key, row);
      }
    }
  }
  return [...acc.values()];
}
