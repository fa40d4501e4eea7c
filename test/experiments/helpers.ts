import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { planFromFile, type PlannedExperiment } from "../../src/experiments/config.js";
import { runExperiment, type ExperimentOutcome, type ExperimentRunOptions } from "../../src/experiments/runner.js";
import { tempDir } from "../cli/helpers.js";

/** Writes an experiment config as YAML into a fresh temp folder; returns its path and the folder. */
export function writeConfig(config: Record<string, unknown>, name = "exp.yaml"): { path: string; dir: string } {
  const dir = tempDir("debiaspi-exp-");
  const path = join(dir, name);
  writeFileSync(path, stringify({ out: join(dir, "out"), ...config }));
  return { path, dir };
}

/** A small experiment: 2 headlines x none/debiaspi, race+gender jointly, N = 14, sequential and seeded. */
export const SMALL = {
  id: "small",
  seed: 3,
  prompts: { set: "headlines", limit: 2 },
  policies: ["none", "debiaspi"],
  targets: ["race+gender"],
  n: 14,
  settings: { concurrency: 1 },
};

export async function runConfig(config: Record<string, unknown>, options: ExperimentRunOptions = {}): Promise<{ plan: PlannedExperiment; outcome: ExperimentOutcome; path: string }> {
  const { path } = writeConfig(config);
  const plan = planFromFile(path);
  const outcome = await runExperiment(plan, options);
  return { plan, outcome, path };
}

/** Lines written so far in every cell of the experiment. */
export function linesWritten(expDir: string): number {
  const runs = join(expDir, "runs");
  if (!existsSync(runs)) return 0;
  let n = 0;
  for (const d of readdirSync(runs)) {
    const f = join(runs, d, "events.jsonl");
    if (existsSync(f)) n += readFileSync(f, "utf8").split("\n").length - 1;
  }
  return n;
}
