import cliProgress from "cli-progress";
import type { Command } from "commander";
import { InputError } from "../core/errors.js";
import { planFromFile } from "../experiments/config.js";
import { formatFindings } from "../experiments/findings.js";
import { resumeExperiment, runExperiment, type CellReport, type ExperimentOutcome, type ExperimentRunOptions } from "../experiments/runner.js";
import { wholeNumber } from "./flags.js";

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Exit codes as for `run`: 0 every cell complete; 1 a cell ended without meeting its target; 2 bad input; 130 interrupted. */
const EXIT = { ok: 0, incomplete: 1, interrupted: 130 } as const;

/** A bar of finished cells on stderr when it is a terminal; nothing otherwise. */
function cellProgress(enabled: boolean): { start: (total: number) => void; cell: (r: CellReport) => void; stop: () => void } {
  if (!enabled || !process.stderr.isTTY) return { start: () => {}, cell: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: "{bar} {value}/{total} cells | {eta_formatted} left | {last}", hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    start: (total) => {
      bar.start(total, 0, { last: "" });
      started = true;
    },
    cell: (r) => bar.update(r.done, { last: `${r.cell.id}: ${r.summary.status}` }),
    stop: () => {
      if (started) bar.stop();
    },
  };
}

function outcomeText(o: ExperimentOutcome, seconds: number): string {
  const total = o.manifest.cells.length;
  const statuses = Object.entries(o.counts)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
  const lines = [`experiment ${o.manifest.id}: ${total} cells (${statuses}); ${o.ran} run by this invocation in ${seconds.toFixed(1)} s`];
  if (o.interrupted) lines.push(`interrupted; continue with: debiaspi experiment --resume ${o.dir}`);
  if (o.input.findings && o.input.findings.length > 0) {
    lines.push((o.input.incomplete ?? []).length > 0 ? "Findings so far (finished cells only):" : "Findings:", formatFindings(o.input.findings));
  }
  lines.push(`folder: ${o.dir}`, `next: debiaspi report ${o.dir} | debiaspi export ${o.dir} | debiaspi check ${o.dir}`);
  return lines.join("\n");
}

export function registerExperimentCommand(program: Command, io: CliIo): void {
  program
    .command("experiment")
    .argument("[config]", "experiment config (YAML or JSON): prompts x policies x targets x observers x providers, N per cell")
    .description("run an experiment matrix into one folder; run it again (or --resume) to continue where it stopped")
    .option("--resume <dir>", "continue the experiment in this folder (from its own experiment.json)")
    .option("-o, --out <dir>", "folder the experiment folder goes in (default: the config's out, else ./experiments)")
    .option("-J, --jobs <count>", "cells run at once (default: the config's jobs, else 2)", wholeNumber("--jobs"))
    .option("--json", "print one JSON object (folder, cell counts, findings) instead of text")
    .option("--no-progress", "no progress bar (it is only drawn on a terminal anyway)")
    .action(async (config: string | undefined, opts: { resume?: string; out?: string; jobs?: number; json?: boolean; progress: boolean }) => {
      if (!config && !opts.resume) throw new InputError("experiment: give a config file, or --resume <experiment folder>");
      if (config && opts.resume) throw new InputError("experiment: give either a config file or --resume <folder>, not both");
      if (opts.jobs !== undefined && opts.jobs < 1) throw new InputError(`--jobs must be at least 1, got ${opts.jobs}`);
      const plan = config ? planFromFile(config, { ...(opts.out !== undefined ? { out: opts.out } : {}), ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}) }) : undefined;
      const bar = cellProgress(opts.progress && !opts.json);
      const controller = new AbortController();
      let dir = opts.resume ?? "";
      let hits = 0;
      const onSigint = (): void => {
        hits += 1;
        if (hits > 1) process.exit(EXIT.interrupted);
        io.err(`\ndebiaspi: stopping after the images in flight; continue with: debiaspi experiment --resume ${dir || "<experiment folder>"}`);
        controller.abort(new Error("interrupted"));
      };
      process.on("SIGINT", onSigint);
      process.on("SIGTERM", onSigint);
      const started = Date.now();
      const options: ExperimentRunOptions = {
        signal: controller.signal,
        ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}),
        onStart: (d, total) => {
          dir = d;
          bar.start(total);
        },
        onCell: bar.cell,
      };
      let outcome: ExperimentOutcome;
      try {
        outcome = plan ? await runExperiment(plan, options) : await resumeExperiment(opts.resume!, options);
      } finally {
        bar.stop();
        process.off("SIGINT", onSigint);
        process.off("SIGTERM", onSigint);
      }
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
              incomplete: outcome.input.incomplete ?? [],
              findings: outcome.input.findings ?? [],
            },
            null,
            2,
          ),
        );
      } else io.out(outcomeText(outcome, seconds));
      const code = outcome.interrupted ? EXIT.interrupted : outcome.counts.complete === outcome.manifest.cells.length ? EXIT.ok : EXIT.incomplete;
      program.setOptionValue("exitCode", code);
    });
}
