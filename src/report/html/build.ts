/**
 * Writes the HTML report: one self-contained page (inline CSS, inline SVG charts, one small inline
 * script) that opens from disk with no network, plus `report-assets/thumbs/` next to it. Full images
 * are linked where they are, in the run folders, by relative paths.
 */
import { mkdirSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { ReportInput, ReportRun } from "../../analysis/model.js";
import { capFor, galleryImages, type GalleryCap } from "./gallery.js";
import { escapeHtml } from "./markup.js";
import { REPORT_SCRIPT } from "./script.js";
import { renderReportSections } from "./sections.js";
import { PAGE_CSS, REPORT_CSS } from "./style.js";
import { makeThumbnails, type Thumbnail } from "./thumbnails.js";
import { writeAtomic } from "../../store/files.js";
import { runImageFile } from "../../store/images.js";

export const REPORT_FILE = "report.html";
export const ASSETS_DIR = "report-assets";

export interface BuildOptions {
  /** Where to write the page (default `report.html` in the run or experiment folder). */
  outFile?: string;
  /** Make thumbnails for the gallery (default true); without, the gallery loads the full images. */
  thumbnails?: boolean;
  /** The box thumbnails fit in, pixels (default 192). */
  thumbnailSize?: number;
  /** Images shown per gallery cell. */
  galleryCap?: GalleryCap;
  /** Clock for the "built" time (tests). */
  now?: () => Date;
}

export interface BuildResult {
  /** Absolute path of the page. */
  file: string;
  /** Absolute path of the assets folder (thumbnails). */
  assetsDir: string;
  bytes: number;
  /** Images shown in the gallery. */
  images: number;
  /** Thumbnails written or reused. */
  thumbnails: number;
  /** Gallery images that could not be read (linked as they are). */
  unreadable: number;
  ms: number;
}

/** A path relative to the page's folder, as a URL (each segment encoded, forward slashes). */
function relativeUrl(fromDir: string, target: string): string {
  return relative(fromDir, target).split(sep).map(encodeURIComponent).join("/");
}

/** The whole document around the sections. */
export function reportPage(title: string, sections: string, builtAt: Date): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="debiaspi">
<title>${escapeHtml(title)} · debiaspi report</title>
<style>${PAGE_CSS}${REPORT_CSS}</style>
</head>
<body>
${sections}
<footer class="dbp-report"><p class="muted">Built ${escapeHtml(builtAt.toISOString().slice(0, 16).replace("T", " "))} UTC by debiaspi. Charts are Vega-Lite specifications rendered to SVG when the report was built; the page needs no network.</p></footer>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}

/** Builds the report of a run or an experiment and writes it; returns where, and what it holds. */
export async function buildReport(input: ReportInput, options: BuildOptions = {}): Promise<BuildResult> {
  const started = Date.now();
  const file = resolve(options.outFile ?? join(input.dir, REPORT_FILE));
  const outDir = dirname(file);
  const assetsDir = join(outDir, ASSETS_DIR);
  mkdirSync(outDir, { recursive: true });
  const cap = options.galleryCap ?? capFor(input.runs.length);
  const shown = galleryImages(input.runs, cap);
  // A drawn image is drawn into its run's images/ here, for the shown ones only: the page links files.
  const abs = (run: ReportRun, rel: string): string => runImageFile(run.runDir, rel) ?? resolve(run.runDir, rel);
  let thumbs = new Map<string, Thumbnail | null>();
  if (options.thumbnails !== false && shown.length > 0) {
    thumbs = await makeThumbnails(
      shown.map((s) => abs(s.run, s.image)),
      join(assetsDir, "thumbs"),
      options.thumbnailSize !== undefined ? { size: options.thumbnailSize } : {},
    );
  }
  const imageUrl = (run: ReportRun, rel: string): string => relativeUrl(outDir, abs(run, rel));
  const sections = await renderReportSections(input, {
    imageUrl,
    thumbnailUrl: (run, rel) => {
      const t = thumbs.get(abs(run, rel));
      return t ? relativeUrl(outDir, t.file) : imageUrl(run, rel);
    },
    thumbnailSize: (run, rel) => {
      const t = thumbs.get(abs(run, rel));
      return t ? { width: t.width, height: t.height } : undefined;
    },
    galleryCap: cap,
  });
  const page = reportPage(input.title, sections, options.now?.() ?? new Date());
  writeAtomic(file, page);
  const values = [...thumbs.values()];
  return {
    file,
    assetsDir,
    bytes: Buffer.byteLength(page),
    images: shown.length,
    thumbnails: values.filter((t) => t !== null).length,
    unreadable: values.filter((t) => t === null).length,
    ms: Date.now() - started,
  };
}
