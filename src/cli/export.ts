import type { Command } from "commander";
import { Option } from "commander";
import { join } from "node:path";
import { loadReportInput } from "../experiments/load.js";
import { EXPORT_SCHEMA, writeExport } from "../report/export.js";
import { exportImages, SET_APART_DIR } from "../report/export-images.js";
import type { Io } from "./common.js";

/** `debiaspi export <run|experiment>`: CSV or JSON tables of runs, metrics, cells and images (docs/export-schema.md). */
export function registerExportCommand(program: Command, io: Io): void {
  program
    .command("export")
    .argument("<folder>", "a run folder or an experiment folder")
    .description("write runs, metrics, cells and images (and an experiment's findings and effects) as CSV or JSON; columns in docs/export-schema.md")
    .addOption(new Option("--format <format>", "csv: one file per table; json: one export.json").choices(["csv", "json"]).default("csv"))
    .option("-o, --out <dir>", "folder to write into (default <folder>/export)")
    .option("--images <dir>", "instead of the tables, copy the images with readable names (03-black-female.png; set-apart ones under set-apart/) and a manifest.csv into this new folder")
    .action((folder: string, opts: { format: "csv" | "json"; out?: string; images?: string }) => {
      const input = loadReportInput(folder, opts.images ? { analysis: false } : {});
      if (opts.images) {
        const done = exportImages(input, opts.images);
        io.out(`copied ${done.kept} kept image${done.kept === 1 ? "" : "s"}${done.setApart > 0 ? ` and ${done.setApart} set apart (in ${SET_APART_DIR}/)` : ""} to ${done.dir}\n  ${done.manifest}`);
        return;
      }
      const files = writeExport(input, { format: opts.format, out: opts.out ?? join(input.dir, "export") });
      const partial = (input.incomplete ?? []).length > 0 ? ` (${input.incomplete!.length} cells not finished yet)` : "";
      io.out(`exported ${input.runs.length} run${input.runs.length === 1 ? "" : "s"}${partial} (${EXPORT_SCHEMA}):\n${files.map((f) => `  ${f}`).join("\n")}`);
    });
}
