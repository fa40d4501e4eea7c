import type { Command } from "commander";
import { runPlan, type RunOptions } from "../api.js";
import type { Io } from "./common.js";
import { withInterrupt } from "./common.js";
import type { RunFlags } from "./flags.js";
import { progressReporter } from "./progress.js";
import { addQueueOptions, withQueue, withQueueFlags, type QueueFlags } from "./queue.js";
import { addRunOptions } from "./run-options.js";
import { planFrom, reportOutcome, resumeRun } from "./run-settings.js";

/** `debiaspi run`: generate a set of N images that follows the target. */
export function registerRunCommand(program: Command, io: Io): void {
  addQueueOptions(addRunOptions(program.command("run").argument("[prompt]", "the image prompt, e.g. \"a photo of the face of a CEO\"").description("generate a set of N images that follows the target")))
    .action(async (prompt: string | undefined, opts: RunFlags & QueueFlags & { config?: string; json?: boolean; progress: boolean }) => {
      const plan = planFrom(prompt, opts);
      const bar = progressReporter(opts.progress && !opts.json);
      const outcome = await withQueue(opts, resumeRun, (queue, at) =>
        withInterrupt(io, withQueueFlags(resumeRun, opts), (signal, dir) =>
          runPlan(plan, { signal, onProgress: bar.update, onStart: (d) => (dir.current = at.current = d), ...queue } satisfies RunOptions),
        ),
      ).finally(() => bar.stop());
      program.setOptionValue("exitCode", reportOutcome(io, outcome.summary, Boolean(opts.json)));
    });
}
