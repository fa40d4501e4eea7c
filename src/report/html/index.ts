/** The HTML report: `buildReport` writes a page; `renderReportSections` gives its body for embedding. */
export { buildReport, reportPage, REPORT_FILE, ASSETS_DIR, type BuildOptions, type BuildResult } from "./build.js";
export { renderChartSections, renderReportSections, type SectionOptions } from "./sections.js";
export { REPORT_CSS } from "./style.js";
export { REPORT_SCRIPT } from "./script.js";
export { convergenceSpec, heatmapSpec, sharesSpec, PALETTE } from "./charts.js";
export { renderChart } from "./svg.js";
export { DEFAULT_CAP, capFor, type GalleryCap } from "./gallery.js";
