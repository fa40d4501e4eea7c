import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../../src/api.js";
import type { RunConfigInput } from "../../../src/config/schema.js";
import { loadReportRun } from "../../../src/experiments/load.js";
import type { Finding, ReportInput, ReportRun } from "../../../src/analysis/model.js";

export const tempDir = (prefix = "debiaspi-report-"): string => mkdtempSync(join(tmpdir(), prefix));

const FIXED = new Date("2026-01-02T03:04:05Z");

/** Runs sim into `out` (seeded, concurrency 1) and loads the folder as a report run. */
export async function simRun(out: string, settings: Partial<RunConfigInput> & { prompt: string }): Promise<ReportRun> {
  const { summary } = await run({ n: 12, seed: 7, concurrency: 1, out, cache: false, ...settings } as RunConfigInput, { now: () => FIXED });
  return loadReportRun(summary.runDir);
}

export const SCRIPT_PROMPT = `a <script>alert("x")</script> & "CEO" at work`;

/**
 * A small experiment-like input: two prompts (one with markup in it) x three policies, race
 * controlled, skin tone checked from pixels, sim refusing some requests.
 */
export async function multiPolicyInput(out: string, findings?: Finding[]): Promise<ReportInput> {
  const runs: ReportRun[] = [];
  for (const prompt of ["a photo of the face of a nurse", SCRIPT_PROMPT]) {
    for (const policy of ["none", "eip", "debiaspi"] as const) {
      runs.push(await simRun(out, { prompt, policy, attributes: ["race"], checks: ["skin-tone"], sim: { refusalRate: 0.1 } }));
    }
  }
  return {
    kind: "experiment",
    title: "Two prompts, three policies",
    dir: out,
    createdAt: FIXED.toISOString(),
    version: "0.0.0-test",
    runs,
    ...(findings ? { findings } : {}),
  };
}
