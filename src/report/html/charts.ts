/**
 * The report's charts as Vega-Lite specs (pure data in, spec out). `svg.ts` renders them to SVG when
 * the report is built; the dashboard may render the same specs in the browser.
 */
import type { TopLevelSpec } from "vega-lite";

/** One layer of a layered spec. */
type LayerItem = Extract<TopLevelSpec, { layer: unknown }>["layer"][number];
import type { JointCell, ShareRow } from "./data.js";
import { textWidth } from "./text-width.js";

/**
 * Okabe & Ito's colour-blind-safe palette (2008), yellow last (weak on white). A series keeps its
 * colour in every chart of a report.
 */
export const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442"];

/** The colour scale of the series `present`, each coloured by its place in `all` (every series of the report). */
export function seriesColors(all: readonly string[], present: readonly string[]): { domain: string[]; range: string[] } {
  return { domain: [...present], range: present.map((s) => PALETTE[all.indexOf(s) % PALETTE.length]!) };
}

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

/** A legend below the plot, at most three entries per row: a legend at the side makes narrow charts much wider. */
const BOTTOM_LEGEND = (entries: number) => ({ orient: "bottom" as const, direction: "horizontal" as const, columns: Math.min(3, entries) });

/** Shared look: readable sizes, no frame, titles left-aligned. */
export const CHART_CONFIG = {
  font: FONT,
  padding: { left: 6, right: 14, top: 6, bottom: 6 },
  background: "#ffffff",
  view: { stroke: null },
  title: { fontSize: 15, fontWeight: 600, anchor: "start", subtitleFontSize: 12, subtitleColor: "#555555", offset: 10, subtitlePadding: 4 },
  axis: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: 500, labelColor: "#222222", titleColor: "#222222", gridColor: "#e6e6e6" },
  legend: { labelFontSize: 12, titleFontSize: 13, orient: "right", direction: "vertical", labelLimit: 220, symbolSize: 140 },
} as const;

/**
 * Achieved share per category (bars, one per series) with Wilson 95 % intervals (rules), and the
 * target share (a black tick) when the attribute is controlled.
 */
export function sharesSpec(opts: {
  title: string;
  subtitle?: string | string[];
  axisTitle: string;
  categories: readonly string[];
  rows: readonly ShareRow[];
  series: readonly string[];
}): TopLevelSpec {
  const present = opts.series.filter((s) => opts.rows.some((r) => r.series === s));
  const color = seriesColors(opts.series, present);
  const targets = opts.categories.flatMap((label) => {
    const withTarget = opts.rows.filter((r) => r.label === label && r.target !== undefined);
    return withTarget.length > 0 ? [{ label, target: withTarget.reduce((s, r) => s + r.target!, 0) / withTarget.length }] : [];
  });
  const perCategory = Math.max(64, present.length * 14 + 16);
  // Vega estimates a label's width without a canvas at about 0.6 em per character.
  const long = opts.categories.some((c) => textWidth(c, 12) > perCategory - 6);
  const x = {
    field: "label",
    type: "nominal" as const,
    sort: [...opts.categories],
    title: opts.axisTitle,
    axis: { labelAngle: long ? -35 : 0, labelLimit: 240 },
    scale: { paddingInner: 0.25 },
  };
  const layers: LayerItem[] = [
    {
      mark: { type: "bar" },
      encoding: {
        x,
        xOffset: { field: "series", type: "nominal", sort: present },
        y: { field: "share", type: "quantitative", title: "share of kept images", axis: { format: ".0%", tickCount: 5 } },
        color: {
          field: "series",
          type: "nominal",
          scale: color,
          legend: present.length > 1 ? { title: "policy", ...BOTTOM_LEGEND(present.length) } : null,
        },
      },
    },
    {
      mark: { type: "rule", color: "#222222", strokeWidth: 1.2 },
      encoding: {
        x,
        xOffset: { field: "series", type: "nominal", sort: present },
        y: { field: "low", type: "quantitative" },
        y2: { field: "high" },
      },
    },
  ];
  if (targets.length > 0) {
    layers.push({
      data: { values: targets },
      mark: { type: "tick", color: "#000000", thickness: 2.5 },
      encoding: { x, y: { field: "target", type: "quantitative" } },
    });
  }
  return {
    title: { text: opts.title, ...(opts.subtitle ? { subtitle: opts.subtitle } : {}) },
    width: Math.max(220, opts.categories.length * perCategory),
    height: 220,
    data: { values: [...opts.rows] },
    layer: layers,
    config: CHART_CONFIG,
  };
}

/**
 * Joint target as a heatmap: one cell per combination, coloured by achieved share minus target share
 * (a diverging, colour-blind-safe blue-orange scale centred on 0), labelled with the numbers.
 */
export function heatmapSpec(opts: {
  title: string;
  subtitle?: string | string[];
  rowTitle: string;
  columnTitle: string;
  rows: readonly string[];
  columns: readonly string[];
  cells: readonly JointCell[];
  /** Label counts ("3 / 2": achieved / bins) instead of shares (pooled runs). */
  counts: boolean;
  /** Largest |achieved − target| the colour scale shows (share it between heatmaps that are compared). */
  extent: number;
  /** The same target in every cell: the numbers show only what was achieved (the caption gives the target). */
  even: boolean;
}): TopLevelSpec {
  const { extent, even } = opts;
  const values = opts.cells.map((c) => ({
    ...c,
    text: opts.counts ? (even ? `${c.count}` : `${c.count}/${c.bins}`) : even ? `${Math.round(c.share * 100)}%` : `${Math.round(c.share * 100)}/${Math.round(c.target * 100)}`,
    strong: Math.abs(c.diff) > extent * 0.55,
  }));
  return {
    title: { text: opts.title, ...(opts.subtitle ? { subtitle: opts.subtitle } : {}) },
    width: Math.max(130, opts.columns.length * 66),
    height: Math.max(64, opts.rows.length * 32),
    data: { values },
    encoding: {
      x: { field: "column", type: "nominal", sort: [...opts.columns], title: opts.columnTitle, axis: { orient: "top", labelAngle: opts.columns.some((c) => textWidth(c, 12) > 62) ? -35 : 0, labelLimit: 240 } },
      y: { field: "row", type: "nominal", sort: [...opts.rows], title: opts.rowTitle, axis: { labelLimit: 240 } },
    },
    layer: [
      {
        mark: { type: "rect", stroke: "#ffffff", strokeWidth: 1 },
        encoding: {
          color: {
            field: "diff",
            type: "quantitative",
            title: "achieved − target",
            scale: { scheme: "blueorange", domain: [-extent, extent], domainMid: 0 },
            legend: { format: "+.0%", orient: "right", direction: "vertical", gradientLength: Math.max(60, opts.rows.length * 32 - 24) },
          },
        },
      },
      {
        mark: { type: "text", fontSize: 12 },
        encoding: {
          text: { field: "text" },
          color: { condition: { test: "datum.strong", value: "#ffffff" }, value: "#111111" },
        },
      },
    ],
    config: CHART_CONFIG,
  };
}

/**
 * Mean TV to the target after each kept image, one line per policy (colour); when the runs differ by
 * observer or provider (variant), the variant is the dash pattern, else the dash repeats the policy.
 */
export function convergenceSpec(opts: {
  title: string;
  subtitle?: string | string[];
  points: readonly { series: string; variant?: string; kept: number; tv: number }[];
  series: readonly string[];
}): TopLevelSpec {
  const present = opts.series.filter((s) => opts.points.some((p) => p.series === s));
  const colors = seriesColors(opts.series, present);
  const dashes = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [4, 4], [1, 3], [10, 4]];
  const variants = [...new Set(opts.points.map((p) => p.variant ?? ""))];
  const byVariant = variants.length > 1;
  const dashDomain = byVariant ? variants : present;
  return {
    title: { text: opts.title, ...(opts.subtitle ? { subtitle: opts.subtitle } : {}) },
    width: 460,
    height: 240,
    data: { values: opts.points.map((p) => ({ ...p, variant: p.variant ?? "" })) },
    mark: { type: "line", strokeWidth: 2, interpolate: "linear" },
    encoding: {
      x: { field: "kept", type: "quantitative", title: "kept images", axis: { tickMinStep: 1 } },
      y: { field: "tv", type: "quantitative", title: "mean TV to target", scale: { domainMin: 0 } },
      color: {
        field: "series",
        type: "nominal",
        scale: colors,
        legend: present.length > 1 ? { title: "policy", ...BOTTOM_LEGEND(present.length) } : null,
      },
      strokeDash: {
        field: byVariant ? "variant" : "series",
        type: "nominal",
        scale: { domain: dashDomain, range: dashDomain.map((_, i) => dashes[i % dashes.length]!) },
        legend: byVariant
          ? { title: "observer / provider", ...BOTTOM_LEGEND(dashDomain.length) }
          : present.length > 1
            ? { title: "policy", symbolStrokeWidth: 2.5, ...BOTTOM_LEGEND(present.length) }
            : null,
      },
      ...(byVariant ? { detail: { field: "variant", type: "nominal" as const } } : {}),
    },
    config: CHART_CONFIG,
  };
}
