import { Command, CommanderError } from "commander";
import { InputError } from "../core/errors.js";
import { QueueError } from "../queue/connection.js";
import { packageVersion } from "../util/paths.js";
import { registerAuditCommand } from "./audit.js";
import { registerCalibrateCommand } from "./calibrate.js";
import { registerCheckCommand } from "./check.js";
import { EXIT, type Io } from "./common.js";
import { registerCompareCommand } from "./compare.js";
import { registerDoctorCommand } from "./doctor.js";
import { registerExperimentCommand } from "./experiment.js";
import { registerExportCommand } from "./export.js";
import { registerPlanCommand } from "./plan.js";
import { registerPricesCommand } from "./prices.js";
import { registerProvidersCommand } from "./providers.js";
import { registerWorkerCommand } from "./queue.js";
import { registerReportCommand } from "./report.js";
import { registerResumeCommand } from "./resume.js";
import { addRunOptions } from "./run-options.js";
import { settingsFrom } from "./run-settings.js";
import { registerRunCommand } from "./run.js";
import { registerServe } from "./serve.js";
import { registerShowCommand } from "./show.js";

/* The debiaspi program: one file per command (each registers itself), the exit codes and the one-line errors here. */

const defaultIo: Io = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
};

export function buildProgram(io: Io = defaultIo): Command {
  const program = new Command();
  program
    .name("debiaspi")
    .description("Steer a text-to-image model to a chosen demographic distribution by prompt iteration, and measure it.")
    .version(packageVersion())
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride();

  registerRunCommand(program, io);
  registerResumeCommand(program, io);
  registerShowCommand(program, io);
  registerCompareCommand(program, io);
  registerAuditCommand(program, io);
  registerProvidersCommand(program, io);
  registerDoctorCommand(program, io);

  registerServe(program, io);

  registerExperimentCommand(program, io);
  registerCheckCommand(program, io);
  registerExportCommand(program, io);

  registerReportCommand(program, io);
  registerPlanCommand(program, io, { addRunOptions, settingsFrom });
  registerPricesCommand(program, io);
  registerWorkerCommand(program, io);
  registerCalibrateCommand(program, io);

  return program;
}

/** Runs the CLI; returns the exit code instead of exiting (tests call it in-process). */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: "user" });
    return (program.getOptionValue("exitCode") as number | undefined) ?? EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return EXIT.ok;
      return EXIT.input;
    }
    if (e instanceof QueueError) {
      io.err(`debiaspi: error: ${e.message}`);
      return EXIT.incomplete;
    }
    if (e instanceof InputError) {
      io.err(`debiaspi: error: ${e.message}`);
      return EXIT.input;
    }
    const err = e as Error;
    io.err(`debiaspi: internal error: ${err.message}\n${process.env.DEBIASPI_DEBUG ? err.stack ?? "" : "(set DEBIASPI_DEBUG=1 for the stack trace; please report it)"}`);
    return 3;
  }
}
