import type { Command } from "commander";
import { resume } from "../api.js";
import { withInterrupt, type Io } from "./common.js";
import { nonNegativeNumber, wholeNumber } from "./flags.js";
import { progressReporter } from "./progress.js";
import { addQueueOptions, withQueue, withQueueFlags, type QueueFlags } from "./queue.js";
import { reportOutcome, resumeRun } from "./run-settings.js";

/** `debiaspi resume`: continue a run that was stopped or killed. */
export function registerResumeCommand(program: Command, io: Io): void {
  addQueueOptions(program
    .command("resume"))
    .argument("<run>", "a run folder")
    .description("continue a run that was stopped or killed; nothing generated is lost or generated twice")
    .option("--max-attempts <count>", "raise the attempt budget", wholeNumber("--max-attempts"))
    .option("--max-cost <usd>", "raise (or set) the spending cap in US dollars", nonNegativeNumber("--max-cost"))
    .option("--json", "print one JSON object instead of tables")
    .option("--no-progress", "no progress bar")
    .action(async (dir: string, opts: QueueFlags & { maxAttempts?: number; maxCost?: number; json?: boolean; progress: boolean }) => {
      const bar = progressReporter(opts.progress && !opts.json);
      const outcome = await withQueue(opts, resumeRun, (queue, at) => {
        at.current = dir;
        return withInterrupt(io, withQueueFlags(resumeRun, opts), (signal, d) => {
          d.current = dir;
          return resume(dir, { signal, onProgress: bar.update, ...queue, ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}), ...(opts.maxCost !== undefined ? { maxCost: opts.maxCost } : {}) });
        });
      }).finally(() => bar.stop());
      program.setOptionValue("exitCode", reportOutcome(io, outcome.summary, Boolean(opts.json)));
    });
}
