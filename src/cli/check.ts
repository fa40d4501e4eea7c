import type { Command } from "commander";
import { InputError } from "../core/errors.js";
import { assertFinished, checkRuns, DEFAULT_TOLERANCES, formatCheck, type Tolerances } from "../experiments/check.js";
import { loadReportInput } from "../experiments/load.js";
import type { Io } from "./common.js";
import { policyList, unitNumber } from "./flags.js";

/**
 * `debiaspi check <run|experiment>`: exit 0 when every run is within tolerance, 1 with a list of what
 * is outside it, 2 on bad input (including a run or experiment that is not finished).
 */
export function registerCheckCommand(program: Command, io: Io): void {
  program
    .command("check")
    .argument("<folder>", "a run folder or an experiment folder")
    .description("fail (exit 1) when a run's distribution is outside tolerance of its target; for fairness regression tests in CI")
    .option("--max-tv <x>", "largest accepted total variation to the target (default 0.1 when no tolerance is given)", unitNumber("--max-tv"))
    .option("--max-abs-diff <y>", "largest accepted |p - q| of any category or joint cell", unitNumber("--max-abs-diff"))
    .option("--min-p <z>", "smallest accepted chi-square goodness-of-fit p-value", unitNumber("--min-p"))
    .option("--policies <list>", "check only the runs of these policies, comma-separated (experiments)", policyList)
    .option("--json", "print one JSON object instead of text")
    .action((folder: string, opts: { maxTv?: number; maxAbsDiff?: number; minP?: number; policies?: string[]; json?: boolean }) => {
      const given: Tolerances = {
        ...(opts.maxTv !== undefined ? { maxTv: opts.maxTv } : {}),
        ...(opts.maxAbsDiff !== undefined ? { maxAbsDiff: opts.maxAbsDiff } : {}),
        ...(opts.minP !== undefined ? { minP: opts.minP } : {}),
      };
      const tolerances = Object.keys(given).length > 0 ? given : DEFAULT_TOLERANCES;
      const input = loadReportInput(folder, { analysis: false });
      assertFinished(input);
      const runs = opts.policies ? input.runs.filter((r) => opts.policies!.includes(r.labels.policy)) : input.runs;
      if (runs.length === 0) throw new InputError(`${folder}: no run of polic${opts.policies!.length > 1 ? "ies" : "y"} ${opts.policies!.join(", ")} to check`);
      const result = checkRuns(runs, tolerances);
      io.out(opts.json ? JSON.stringify({ folder: input.dir, kind: input.kind, ...result }, null, 2) : formatCheck(result));
      program.setOptionValue("exitCode", result.ok ? 0 : 1);
    });
}
