import type { Command } from "commander";
import { loadRun } from "../api.js";
import { formatRun, runJson } from "../report/table.js";
import { EXIT, type Io } from "./common.js";

/** `debiaspi show`: the measurements of a run. */
export function registerShowCommand(program: Command, io: Io): void {
  program
    .command("show")
    .argument("<run>", "a run folder")
    .description("the measurements of a run: per attribute target, achieved with intervals, TV, max |p-q|, KL, exactness, cost")
    .option("--calibration <file>", "a calibration of the observer (debiaspi calibrate): corrected shares beside the raw ones")
    .option("--json", "print one JSON object instead of tables")
    .action((dir: string, opts: { json?: boolean; calibration?: string }) => {
      const { summary, missing } = loadRun(dir, opts.calibration ? { calibration: opts.calibration } : {});
      io.out(opts.json ? JSON.stringify(runJson(summary), null, 2) : formatRun(summary));
      if (missing) {
        io.err(`debiaspi: warning: ${missing}`);
        program.setOptionValue("exitCode", EXIT.incomplete);
      }
    });
}
