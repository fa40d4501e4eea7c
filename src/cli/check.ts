import type { Command } from "commander";
import { resolve } from "node:path";
import { InputError } from "../core/errors.js";
import { assertNotRunning, checkRuns, configTolerances, effectiveTolerances, formatCheck, type Tolerances } from "../analysis/check.js";
import { readManifest } from "../experiments/folder.js";
import { loadReportInput } from "../experiments/load.js";
import { checkJunit } from "../report/junit.js";
import { writeAtomic } from "../store/files.js";
import type { Io } from "./common.js";
import { nonNegativeNumber, policyList, unitNumber } from "./flags.js";

interface CheckFlags {
  calibration?: string;
  maxTv?: number;
  maxAbsDiff?: number;
  minP?: number;
  maxCostPerKept?: number;
  maxRefusalRate?: number;
  minAgreement?: number;
  policies?: string[];
  json?: boolean;
  junit?: string;
}

/**
 * `debiaspi check <run|experiment>`: exit 0 when every run is within tolerance, 1 with a list of what
 * is outside it (a run or cell not finished, nothing kept and missing image files are failures too),
 * 2 on bad input (including a run a live process is still generating).
 */
export function registerCheckCommand(program: Command, io: Io): void {
  program
    .command("check")
    .argument("<folder>", "a run folder or an experiment folder")
    .description("fail (exit 1) when a run's distribution is outside tolerance of its target, or it is unfinished, kept nothing or lost images; for fairness regression tests in CI")
    .option("--max-tv <x>", "largest accepted total variation to the target (default 0.1 when no distribution limit is given here or in the config's check: block)", unitNumber("--max-tv"))
    .option("--max-abs-diff <y>", "largest accepted |p - q| of any category or joint cell", unitNumber("--max-abs-diff"))
    .option("--min-p <z>", "smallest accepted chi-square goodness-of-fit p-value", unitNumber("--min-p"))
    .option("--max-cost-per-kept <usd>", "largest accepted cost per kept image, in US dollars", nonNegativeNumber("--max-cost-per-kept"))
    .option("--max-refusal-rate <x>", "largest accepted share of provider calls refused", unitNumber("--max-refusal-rate"))
    .option("--min-agreement <x>", "smallest accepted agreement of each checking observer with the driving one", unitNumber("--min-agreement"))
    .option("--policies <list>", "check only the runs of these policies, comma-separated (experiments)", policyList)
    .option("--junit <file>", "also write the result as JUnit XML (one test case per distribution checked) for CI")
    .option("--calibration <file>", "a calibration of the runs' observer: also gate the corrected shares (scope \"ATTR (corrected)\")")
    .option("--json", "print one JSON object instead of text")
    .action((folder: string, opts: CheckFlags) => {
      const flags: Tolerances = {};
      for (const k of ["maxTv", "maxAbsDiff", "minP", "maxCostPerKept", "maxRefusalRate", "minAgreement"] as const) if (opts[k] !== undefined) flags[k] = opts[k];
      const input = loadReportInput(folder, { analysis: false, ...(opts.calibration ? { calibration: opts.calibration } : {}) });
      assertNotRunning(input);
      const tolerances = effectiveTolerances(configTolerances(input), flags);
      const keep = (policy: string): boolean => !opts.policies || opts.policies.includes(policy);
      const runs = input.runs.filter((r) => keep(r.labels.policy));
      const present = new Set(input.runs.map((r) => r.id));
      // Experiment cells with no run folder yet: failures, unless --policies leaves them out.
      const notRun = input.kind === "experiment" ? readManifest(input.dir).cells.filter((c) => !present.has(c.id) && keep(c.labels.policy)).map((c) => c.id) : [];
      if (runs.length + notRun.length === 0) throw new InputError(`${folder}: no run of polic${opts.policies!.length > 1 ? "ies" : "y"} ${opts.policies!.join(", ")} to check`);
      const result = checkRuns(runs, tolerances, notRun);
      if (opts.junit) writeAtomic(resolve(opts.junit), checkJunit(result, `debiaspi check ${input.dir}`));
      io.out(opts.json ? JSON.stringify({ folder: input.dir, kind: input.kind, ...result }, null, 2) : formatCheck(result));
      program.setOptionValue("exitCode", result.ok ? 0 : 1);
    });
}
