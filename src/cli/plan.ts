import type { Command } from "commander";
import type { RunConfigInput } from "../config/schema.js";
import { InputError } from "../core/errors.js";
import { MAX_JOBS, planFromFile } from "../experiments/config.js";
import { planCells, type PlanCell, type PlanResult } from "../plan/plan.js";
import { usd } from "../engine/cost.js";
import { plainTable } from "../report/plain-table.js";
import type { Io } from "./common.js";
import { nonNegativeNumber, wholeNumber, type RunFlags } from "./flags.js";

/** Per-call latency assumed for the wall time when --latency is not given. */
export const PLAN_DEFAULT_LATENCY_MS = 10_000;

type PlanFlags = RunFlags & { config?: string; experiment?: string; seeds?: number; priceUsd?: number; jobs?: number; json?: boolean; provider?: string; latency?: number; concurrency?: number };

/** Run flags that make no sense with --experiment (the experiment config sets them per cell). */
const RUN_ONLY: string[] = ["attributes", "target", "joint", "policy", "mode", "n", "seed", "observer", "maxAttempts", "overflow"];

function text(r: PlanResult, what: string): string {
  const t = plainTable(["", "mean", "p90"]);
  t.push(["generations (images)", r.expectedGenerations.toFixed(0), r.expectedGenerationsP90.toFixed(0)]);
  t.push(["refusals", r.expectedRefusals.toFixed(0), r.expectedRefusalsP90.toFixed(0)]);
  t.push(["cost", r.expectedCostUsd === null ? "unknown" : usd(r.expectedCostUsd), r.expectedCostUsdP90 === null ? "unknown" : usd(r.expectedCostUsdP90)]);
  const h = (s: number): string => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);
  t.push([`wall time (${r.latencyMs} ms per call, ${r.jobs} at once)`, h(r.expectedWallSeconds), h(r.expectedWallSecondsP90)]);
  const lines = [
    `plan for ${what}: ${r.cells} cell(s), simulated over ${r.seeds} seed(s) on ${r.profiles.map((p) => `sim:${p.id} (${p.model})`).join(", ")}`,
    t.toString(),
    ...Object.entries(r.prices).map(([k, p]) => `price ${k}: ${p.usd === null ? "unknown" : `${usd(p.usd)} per image`} (${p.source})`),
  ];
  if (r.expectedIncompleteCells > 0) lines.push(`${r.expectedIncompleteCells.toFixed(1)} cell(s) per seed ran out of their attempt budget in the simulation`);
  lines.push(...r.notes.map((n) => `note: ${n}`));
  return lines.join("\n");
}

export function registerPlanCommand(
  program: Command,
  io: Io,
  helpers: { addRunOptions: (cmd: Command) => Command; settingsFrom: (prompt: string | undefined, opts: RunFlags & { config?: string }) => RunConfigInput },
): void {
  helpers
    .addRunOptions(
      program
        .command("plan")
        .argument("[prompt]", "the image prompt of the run to plan (or --experiment FILE)")
        .description("what a run or an experiment will take before you pay: generations, refusals, cost at list price and wall time, simulated on a profile of the model (mean and p90 over seeds)"),
    )
    .option("--experiment <file>", "plan this experiment config instead of a run")
    .option("--seeds <k>", "seeds simulated (default 3)", wholeNumber("--seeds", { min: 1, max: 1000 }))
    .option("--price-usd <usd>", "price per image instead of the list price", nonNegativeNumber("--price-usd"))
    .option("-J, --jobs <count>", "experiment cells run at once (default: the config's jobs)", wholeNumber("--jobs", { min: 1, max: MAX_JOBS }))
    .action(async (prompt: string | undefined, opts: PlanFlags) => {
      let cells: PlanCell[];
      let jobs = 1;
      let what: string;
      if (opts.experiment) {
        if (prompt !== undefined) throw new InputError("plan: give a prompt or --experiment FILE, not both");
        const given = RUN_ONLY.filter((k) => opts[k] !== undefined);
        if (given.length > 0) throw new InputError(`plan --experiment: ${given.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(", ")} cannot be used; the experiment config sets them per cell (--provider, --concurrency, --latency, --seeds, --jobs and --price-usd apply)`);
        // No keys needed: providers and observers are not built (every cell is checked when it is simulated).
        const plan = planFromFile(opts.experiment, { buildCheck: false, ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}) });
        cells = plan.cells.map((c) => ({ id: c.id, settings: c.settings as RunConfigInput }));
        jobs = plan.jobs;
        what = `experiment ${plan.id}`;
      } else {
        const settings = helpers.settingsFrom(prompt, opts);
        cells = [{ id: "run", settings: { ...settings, seed: settings.seed ?? 1 } }];
        what = `"${settings.prompt ?? ""}"`;
      }
      const result = await planCells(cells, {
        ...(opts.provider !== undefined ? { simulate: opts.provider } : {}),
        seeds: opts.seeds ?? 3,
        latencyMs: opts.latency ?? PLAN_DEFAULT_LATENCY_MS,
        ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
        jobs,
        ...(opts.priceUsd !== undefined ? { priceUsd: opts.priceUsd } : {}),
      });
      if (opts.latency === undefined) result.notes.push(`latency ${PLAN_DEFAULT_LATENCY_MS} ms per call is an assumption; give --latency MS`);
      io.out(opts.json ? JSON.stringify(result, null, 2) : text(result, what));
    });
}
