import { loadReportInput } from "../experiments/load.js";
import type { ReportRun } from "../analysis/model.js";
import { convergenceSpec, renderChart, REPORT_CSS, renderChartSections, renderReportSections } from "../report/html/index.js";
import type { RunSummaryBase } from "../analysis/summary-types.js";
import type { ReportInput } from "../analysis/model.js";
import { packageVersion } from "../util/paths.js";
import type { ApiReport } from "./api-types.js";

/** Where the embedded report's gallery finds an image (the link) and its thumbnail (the picture). */
export interface ReportImageLinks {
  imageUrl: (run: ReportRun, relPath: string) => string;
  thumbnailUrl: (run: ReportRun, relPath: string) => string;
}

/**
 * The HTML report's sections for a run or experiment folder (the same content `debiaspi report`
 * writes), with image and thumbnail URLs served by the dashboard. Its stylesheet is scoped to `.dbp-report`.
 */
export async function renderReport(dir: string, links: ReportImageLinks): Promise<ApiReport> {
  const html = await renderReportSections(loadReportInput(dir), { imageUrl: links.imageUrl, thumbnailUrl: links.thumbnailUrl, idPrefix: "dbp-" });
  return { available: true, html, css: REPORT_CSS };
}

/** The name a compared run goes by: its policy, numbered when two compared runs share it (as the compare page names them). */
export const compareNames = (policies: readonly string[]): string[] =>
  policies.map((p, k) => (policies.filter((x) => x === p).length > 1 ? `${p} #${k + 1}` : p));

/**
 * The report's charts for runs compared side by side: every run is a series of the same chart (named
 * as the page names it), so their bars, heatmaps and lines share one scale.
 */
export async function renderCompareCharts(runs: readonly ReportRun[]): Promise<ApiReport> {
  const names = compareNames(runs.map((r) => r.labels.policy));
  const input: ReportInput = {
    kind: "experiment",
    title: `${runs.length} runs side by side`,
    dir: runs[0]?.runDir ?? "",
    createdAt: new Date(0).toISOString(),
    version: packageVersion(),
    runs: runs.map((r, k) => ({ ...r, labels: { ...r.labels, policy: names[k]! } })),
  };
  return { available: true, html: await renderChartSections(input, { idPrefix: "dbp-cmp-" }), css: REPORT_CSS };
}

/** A run's convergence line as the report draws it (Vega-Lite rendered to SVG): the run page shows it, redrawn as the run goes on. */
export async function renderConvergenceChart(summary: Pick<RunSummaryBase, "policy" | "convergence">): Promise<{ svg: string }> {
  const points = summary.convergence.map((tv, i) => ({ series: summary.policy, kept: i + 1, tv }));
  const chart = await renderChart(convergenceSpec({ title: "Convergence", points, series: [summary.policy] }), "distance to the target (mean total variation) after each kept image", "dbp-conv");
  return { svg: chart.svg };
}
