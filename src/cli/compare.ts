import type { Command } from "commander";
import { run } from "../api.js";
import type { RunConfigInput } from "../config/schema.js";
import { POLICY_IDS, type PolicyId } from "../policies/types.js";
import { compareRuns } from "../analysis/compare.js";
import { formatComparison } from "../report/compare.js";
import type { RunSummary } from "../analysis/summary.js";
import { runJson } from "../report/table.js";
import { withInterrupt, type Io } from "./common.js";
import { policyList, type RunFlags } from "./flags.js";
import { progressReporter } from "./progress.js";
import { addRunOptions } from "./run-options.js";
import { planFrom, resumeRun } from "./run-settings.js";

/** `debiaspi compare`: several policies on one prompt with the same settings, side by side. */
export function registerCompareCommand(program: Command, io: Io): void {
  addRunOptions(
    program
      .command("compare")
      .argument("[prompt]", "the image prompt")
      .description("run several policies on one prompt with the same settings and show them side by side")
      .option("--policies <list>", `policies to compare (default ${POLICY_IDS.join(",")})`, policyList),
  ).action(async (prompt: string | undefined, opts: RunFlags & { config?: string; json?: boolean; progress: boolean; policies?: PolicyId[] }) => {
    const policies = opts.policies ?? [...POLICY_IDS];
    // Checked once, with the seed every policy shares (random unless given).
    const planned = planFrom(prompt, opts);
    const base: RunConfigInput = { ...planned.input, seed: planned.config.seed };
    const results: { label: string; summary: RunSummary }[] = [];
    await withInterrupt(io, resumeRun, async (signal, dir) => {
      for (const policy of policies) {
        if (signal.aborted) break;
        const bar = progressReporter(opts.progress && !opts.json);
        if (!opts.json && process.stderr.isTTY && opts.progress) io.err(`${policy}:`);
        const outcome = await run({ ...base, policy }, { signal, onProgress: bar.update, onStart: (d) => (dir.current = d) }).finally(() => bar.stop());
        results.push({ label: policy, summary: outcome.summary });
      }
    });
    const rows = compareRuns(results);
    io.out(
      opts.json
        ? JSON.stringify({ runs: rows.map((r) => ({ policy: r.policy, crossEffects: r.crossEffects, ...runJson(r.summary) })) }, null, 2)
        : formatComparison(rows),
    );
  });
}
