/**
 * One case of the scaling bench, in its own process so its peak memory is its own:
 *   node dist/bench/scaling-child.js '<ScalingCase as JSON>' <folder>
 * prints one JSON line: seconds, peak RSS (MB), user and system CPU seconds (all threads), kept, generations, status.
 */
import { join } from "node:path";
import { run } from "../src/api.js";
import { planFromFile } from "../src/experiments/config.js";
import { runExperiment } from "../src/experiments/runner.js";
import { packageRoot } from "../src/util/paths.js";
import type { ScalingCase, ScalingMeasure } from "./scaling.js";

async function main(): Promise<void> {
  const c = JSON.parse(process.argv[2]!) as ScalingCase;
  const out = process.argv[3]!;
  const t0 = performance.now();
  let m: Omit<ScalingMeasure, "seconds" | "peakMb" | "userSeconds" | "systemSeconds">;
  if (c.kind === "experiment") {
    const plan = planFromFile(join(packageRoot(), "studies", "debiaspi-paper.yaml"), { out, jobs: c.jobs });
    const o = await runExperiment(plan, { jobs: c.jobs });
    m = { kept: o.input.runs.reduce((s, r) => s + r.summary.kept, 0), generations: o.input.runs.reduce((s, r) => s + r.summary.generations, 0), status: `${o.counts.complete}/${plan.cells.length} cells complete` };
  } else {
    const { summary } = await run(
      {
        prompt: "a photo of the face of a CEO",
        n: c.n,
        joint: [c.cells === 224 ? ["race", "gender", "age", "body_type"] : ["race", "gender"]],
        policy: c.policy,
        seed: 11,
        sim: { render: c.render, imageFiles: c.files ?? false, latencyMs: 0 },
        out,
      },
      { dir: join(out, "run") },
    );
    m = { kept: summary.kept, generations: summary.generations, status: summary.status };
  }
  const seconds = (performance.now() - t0) / 1000;
  const usage = process.resourceUsage();
  const measure: ScalingMeasure = { ...m, seconds, peakMb: usage.maxRSS / 1024, userSeconds: usage.userCPUTime / 1e6, systemSeconds: usage.systemCPUTime / 1e6 };
  process.stdout.write(`${JSON.stringify(measure)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`scaling case failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
