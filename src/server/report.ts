import { loadReportInput } from "../experiments/load.js";
import type { ReportRun } from "../report/model.js";
import { REPORT_CSS, renderReportSections } from "../report/html/index.js";
import type { ApiReport } from "./api-types.js";

/**
 * The HTML report's sections for a run or experiment folder (the same content `debiaspi report`
 * writes), with image URLs served by the dashboard. Its stylesheet is scoped to `.dbp-report`.
 */
export async function renderReport(dir: string, imageUrl: (run: ReportRun, relPath: string) => string): Promise<ApiReport> {
  const html = await renderReportSections(loadReportInput(dir), { imageUrl, idPrefix: "dbp-" });
  return { available: true, html, css: REPORT_CSS };
}
