import { mergeOrThrow, planOrThrow, type RunPlan, type SettingsLayer } from "../app/plan-run.js";
import { readConfigFile } from "../config/resolve.js";
import type { RunConfigInput } from "../config/schema.js";
import { formatRun, runJson } from "../report/table.js";
import type { RunSummary } from "../analysis/summary.js";
import { EXIT, interruptedCode, type Io } from "./common.js";
import { flagName, flagsToConfig, type RunFlags } from "./flags.js";

/* What the run commands (run, compare, plan, resume) share: their settings layers and how they report a run. */

/** The settings layers of a run command: the --config file, then the flags (errors name the flag). */
export function layersFrom(prompt: string | undefined, opts: RunFlags & { config?: string }): SettingsLayer[] {
  const layers: SettingsLayer[] = [];
  if (opts.config) layers.push({ source: `config file ${opts.config}`, values: readConfigFile(opts.config) });
  layers.push({ source: "command line", values: flagsToConfig(prompt, opts), nameOf: flagName });
  return layers;
}

/** The merged, validated settings of the flags and --config (no run resolved: `plan` simulates its own). */
export function settingsFrom(prompt: string | undefined, opts: RunFlags & { config?: string }): RunConfigInput {
  return mergeOrThrow(layersFrom(prompt, opts));
}

/** The checked, resolved run of the flags and --config: every problem at once, the first one first. */
export const planFrom = (prompt: string | undefined, opts: RunFlags & { config?: string }): RunPlan => planOrThrow(layersFrom(prompt, opts));

/** How to continue a run stopped by Ctrl-C. */
export const resumeRun = (dir: string | undefined): string => `debiaspi resume ${dir ?? "<run folder>"}`;

/** Prints a run's summary; the exit code its status means. */
export function reportOutcome(io: Io, summary: RunSummary, json: boolean): number {
  io.out(json ? JSON.stringify(runJson(summary), null, 2) : formatRun(summary));
  if (summary.status === "incomplete") return interruptedCode();
  return summary.status === "complete" ? EXIT.ok : EXIT.incomplete;
}
