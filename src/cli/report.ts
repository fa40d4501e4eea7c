import { existsSync, statSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import type { Command } from "commander";
import { InputError } from "../core/errors.js";
import { loadReportInput } from "../experiments/load.js";
import type { Io } from "./common.js";

/** Where `--out` puts the page: into an existing folder as `reportFile` (report.html), or the .html file named. */
export function reportTarget(out: string | undefined, reportFile: string): string | undefined {
  if (out === undefined) return undefined;
  const path = resolve(out);
  if (existsSync(path) && statSync(path).isDirectory()) return join(path, reportFile);
  if (![".html", ".htm"].includes(extname(path).toLowerCase())) {
    throw new InputError(`--out ${out}: give an existing folder or a file name ending in .html`);
  }
  return path;
}

/** `debiaspi report <run|experiment>`: the HTML report of a run or an experiment folder. */
export function registerReportCommand(program: Command, io: Io): void {
  program
    .command("report")
    .argument("<folder>", "a run folder or an experiment folder")
    .description("write an HTML report (tables, charts, gallery) that opens from disk with no network")
    // report.html is REPORT_FILE: the report module is only loaded by the action (it brings vega, ~300 ms at start-up).
    .option("-o, --out <file>", "where to write it: a .html file or a folder (default <folder>/report.html)")
    .option("--no-thumbnails", "link the full images in the gallery instead of making thumbnails")
    .option("--calibration <file>", "a calibration of the observer: a calibration section and corrected shares beside the raw ones")
    .option("--json", "print what was written as JSON")
    .action(async (folder: string, opts: { out?: string; thumbnails: boolean; json?: boolean; calibration?: string }) => {
      const { buildReport, REPORT_FILE } = await import("../report/html/index.js");
      const outFile = reportTarget(opts.out, REPORT_FILE);
      const input = loadReportInput(folder, opts.calibration ? { calibration: opts.calibration } : {});
      const result = await buildReport(input, { ...(outFile ? { outFile } : {}), thumbnails: opts.thumbnails });
      if (opts.json) {
        io.out(JSON.stringify({ ...result, kind: input.kind, runs: input.runs.length }, null, 2));
        return;
      }
      const kb = (result.bytes / 1024).toFixed(0);
      io.out(
        `report: ${result.file}\n  ${input.kind}, ${input.runs.length} run${input.runs.length === 1 ? "" : "s"}, ${result.images} gallery images` +
          `${opts.thumbnails ? ` (${result.thumbnails} thumbnails in ${result.assetsDir})` : ""}, ${kb} KB, ${(result.ms / 1000).toFixed(1)} s` +
          `${result.unreadable > 0 ? `\n  ${result.unreadable} images could not be read; they are linked as they are` : ""}`,
      );
    });
}
