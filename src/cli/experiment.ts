import type { Command } from "commander";
import { InputError } from "../core/errors.js";
import { EXPERIMENT_DEFAULTS, MAX_JOBS, planFromFile } from "../experiments/config.js";
import { cellRows, formatCellTable, isPaperStudy } from "../experiments/cell-table.js";
import { formatFindings } from "../analysis/findings.js";
import { resumeExperiment, runExperiment, type ExperimentOutcome, type ExperimentRunOptions } from "../experiments/runner.js";
import { EXIT, interruptedCode, withInterrupt, type Io } from "./common.js";
import { nonNegativeNumber, wholeNumber } from "./flags.js";
import { cellProgress } from "./progress.js";
import { addQueueOptions, withQueue, withQueueFlags, type QueueFlags } from "./queue.js";

/** How to continue an experiment stopped by Ctrl-C. */
const resumeExperimentHint = (dir: string | undefined): string => `debiaspi experiment --resume ${dir || "<experiment folder>"}`;

function outcomeText(o: ExperimentOutcome, seconds: number): string {
  const total = o.manifest.cells.length;
  const statuses = Object.entries(o.counts)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
  const lines = [`experiment ${o.manifest.id}: ${total} cells (${statuses}); ${o.ran} run by this invocation in ${seconds.toFixed(1)} s`];
  if (o.costStop) lines.push(o.costStop);
  if (o.interrupted) lines.push(`interrupted; continue with: debiaspi experiment --resume ${o.dir}`);
  const table = formatCellTable(cellRows(o.manifest, o.input));
  if (table) lines.push(table);
  // The paper's findings are claims about the paper's study: stated only when the config is that study.
  if (isPaperStudy(o.manifest.id) && o.input.findings && o.input.findings.length > 0) {
    lines.push((o.input.incomplete ?? []).length > 0 ? "Findings so far (finished cells only):" : "Findings:", formatFindings(o.input.findings));
  }
  lines.push(`folder: ${o.dir}`, `next: debiaspi report ${o.dir} | debiaspi export ${o.dir} | debiaspi check ${o.dir}`);
  return lines.join("\n");
}

export function registerExperimentCommand(program: Command, io: Io): void {
  addQueueOptions(program
    .command("experiment"))
    .argument("[config]", "experiment config (YAML or JSON): prompts x policies x targets x observers x providers, N per cell")
    .description("run an experiment matrix into one folder; run it again (or --resume) to continue where it stopped")
    .option("--resume <dir>", "continue the experiment in this folder (from its own experiment.json)")
    .option("-o, --out <dir>", "folder the experiment folder goes in (default: the config's out, else ./experiments)")
    .option("-J, --jobs <count>", `cells run at once (default: the config's jobs, else ${EXPERIMENT_DEFAULTS.jobs})`, wholeNumber("--jobs", { min: 1, max: MAX_JOBS }))
    .option("--max-cost <usd>", "stop the experiment, resumably, before a call would take its spending (cells already run included) past this many US dollars", nonNegativeNumber("--max-cost"))
    .option("--fresh", "start over: delete the experiment folder's runs first (needed when the config plans other cells than the folder holds)")
    .option("--json", "print one JSON object (folder, cell counts, one row per cell, and for the paper's study its findings) instead of text")
    .option("--no-progress", "no progress bar (it is only drawn on a terminal anyway)")
    .action(async (config: string | undefined, opts: QueueFlags & { resume?: string; out?: string; jobs?: number; maxCost?: number; json?: boolean; progress: boolean; fresh?: boolean }) => {
      if (!config && !opts.resume) throw new InputError("experiment: give a config file, or --resume <experiment folder>");
      if (config && opts.resume) throw new InputError("experiment: give either a config file or --resume <folder>, not both");
      if (opts.fresh && opts.resume) throw new InputError("experiment: --fresh starts over from a config file; it cannot be used with --resume");
      const plan = config ? planFromFile(config, { ...(opts.out !== undefined ? { out: opts.out } : {}), ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}) }) : undefined;
      const bar = cellProgress(opts.progress && !opts.json);
      const started = Date.now();
      const outcome = await withQueue(opts, resumeExperimentHint, (queue, at) =>
        withInterrupt(io, withQueueFlags(resumeExperimentHint, opts), (signal, dir) => {
          dir.current = at.current = opts.resume;
          const options: ExperimentRunOptions = {
            signal,
            ...queue,
            ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}),
            ...(opts.maxCost !== undefined ? { maxCostUsd: opts.maxCost } : {}),
            onStart: (d, total) => {
              dir.current = at.current = d;
              bar.start(total);
            },
            onCell: bar.cell,
          };
          return plan ? runExperiment(plan, { ...options, fresh: Boolean(opts.fresh) }) : resumeExperiment(opts.resume!, options);
        }),
      ).finally(() => bar.stop());
      const seconds = (Date.now() - started) / 1000;
      if (opts.json) {
        io.out(
          JSON.stringify(
            {
              dir: outcome.dir,
              id: outcome.manifest.id,
              cells: outcome.manifest.cells.length,
              counts: outcome.counts,
              ran: outcome.ran,
              seconds,
              interrupted: outcome.interrupted,
              ...(outcome.spentUsd !== undefined ? { spentUsd: outcome.spentUsd } : {}),
              ...(outcome.costStop ? { costStop: outcome.costStop } : {}),
              incomplete: outcome.input.incomplete ?? [],
              perCell: cellRows(outcome.manifest, outcome.input),
              ...(isPaperStudy(outcome.manifest.id) ? { findings: outcome.input.findings ?? [] } : {}),
            },
            null,
            2,
          ),
        );
      } else io.out(outcomeText(outcome, seconds));
      const code = outcome.interrupted ? interruptedCode() : outcome.counts.complete === outcome.manifest.cells.length ? EXIT.ok : EXIT.incomplete;
      program.setOptionValue("exitCode", code);
    });
}
