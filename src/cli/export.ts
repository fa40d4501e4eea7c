import type { Command } from "commander";
import { Option } from "commander";
import { join } from "node:path";
import { loadReportInput } from "../experiments/load.js";
import { EXPORT_SCHEMA, writeExport } from "../report/export.js";
import type { Io } from "./common.js";

/** `debiaspi export <run|experiment>`: CSV or JSON tables of runs, metrics, cells and images (docs/export-schema.md). */
export function registerExportCommand(program: Command, io: Io): void {
  program
    .command("export")
    .argument("<folder>", "a run folder or an experiment folder")
    .description("write runs, metrics, cells and images (and an experiment's findings and effects) as CSV or JSON; columns in docs/export-schema.md")
    .addOption(new Option("--format <format>", "csv: one file per table; json: one export.json").choices(["csv", "json"]).default("csv"))
    .option("-o, --out <dir>", "folder to write into (default <folder>/export)")
    .action((folder: string, opts: { format: "csv" | "json"; out?: string }) => {
      const input = loadReportInput(folder);
      const files = writeExport(input, { format: opts.format, out: opts.out ?? join(input.dir, "export") });
      const partial = (input.incomplete ?? []).length > 0 ? ` (${input.incomplete!.length} cells not finished yet)` : "";
      io.out(`exported ${input.runs.length} run${input.runs.length === 1 ? "" : "s"}${partial} (${EXPORT_SCHEMA}):\n${files.map((f) => `  ${f}`).join("\n")}`);
    });
}
