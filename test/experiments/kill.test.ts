import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadReportInput } from "../../src/experiments/load.js";
import type { ReportInput } from "../../src/analysis/model.js";
import { linesWritten, SMALL, writeConfig } from "./helpers.js";

const BIN = resolve(__dirname, "../../bin/debiaspi.js");

const keptImages = (input: ReportInput): Record<string, string[]> =>
  Object.fromEntries(input.runs.map((r) => [r.id, r.events.flatMap((e) => (e.type === "attempt" && e.decision === "kept" ? [e.image!] : []))]));

function runAndKill(config: string, expDir: string, lines: number): Promise<number | null> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, "experiment", config, "--no-progress"], { stdio: "ignore" });
    const poll = setInterval(() => {
      if (linesWritten(expDir) >= lines) {
        clearInterval(poll);
        child.kill("SIGKILL");
      }
    }, 2);
    child.on("exit", (code) => {
      clearInterval(poll);
      done(code);
    });
  });
}

describe("experiment after kill -9", () => {
  it("running the same config again finishes it with exactly the images of an uninterrupted experiment", async () => {
    const config = { ...SMALL, jobs: 2, settings: { concurrency: 1, sim: { latencyMs: 4 } } };
    const ref = writeConfig(config);
    expect(spawnSync(process.execPath, [BIN, "experiment", ref.path, "--no-progress"], { encoding: "utf8" }).status).toBe(0);
    const expected = keptImages(loadReportInput(join(ref.dir, "out", "small")));

    const cut = writeConfig(config);
    const expDir = join(cut.dir, "out", "small");
    expect(await runAndKill(cut.path, expDir, 20)).toBeNull();
    expect(existsSync(join(expDir, "findings.json"))).toBe(false);
    expect((loadReportInput(expDir).incomplete ?? []).length).toBeGreaterThan(0);
    // The dead process's locks are stale: the rerun takes over.
    const again = spawnSync(process.execPath, [BIN, "experiment", cut.path, "--no-progress"], { encoding: "utf8" });
    expect(again.status, again.stderr).toBe(0);
    const input = loadReportInput(expDir);
    expect(input.incomplete).toEqual([]);
    expect(keptImages(input)).toEqual(expected);
    expect(existsSync(join(expDir, "findings.json"))).toBe(true);
  });
});
