import { loadReportInput } from "../experiments/load.js";
import type { ReportRun } from "../report/model.js";
import { REPORT_CSS, renderReportSections } from "../report/html/index.js";
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
