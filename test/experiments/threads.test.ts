import { describe, expect, it } from "vitest";
import { cellWorkerScript } from "../../src/experiments/cell-pool.js";
import { resumeExperiment } from "../../src/experiments/runner.js";
import type { ReportInput } from "../../src/analysis/model.js";
import { runConfig, SMALL } from "./helpers.js";

const keptImages = (input: ReportInput): Record<string, string[]> =>
  Object.fromEntries(input.runs.map((r) => [r.id, r.events.flatMap((e) => (e.type === "attempt" && e.decision === "kept" ? [e.image!] : []))]));

// The worker script is the compiled one (npm test builds first); without a build the cells run in-process.
describe.runIf(cellWorkerScript() !== undefined)("experiment cells in worker threads", () => {
  it("give the same runs as cells run in this thread, and report every cell", async () => {
    const config = { ...SMALL, jobs: 2, settings: { concurrency: 1, sim: { render: true } } };
    const cells: string[] = [];
    const threaded = await runConfig(config, { threads: true, onCell: (r) => cells.push(`${r.cell.id}:${r.action}:${r.summary.status}`) });
    const inline = await runConfig(config, { threads: false });
    expect(threaded.outcome.counts.complete).toBe(4);
    expect(cells.sort()).toEqual(threaded.plan.cells.map((c) => `${c.id}:ran:complete`).sort());
    expect(keptImages(threaded.outcome.input)).toEqual(keptImages(inline.outcome.input));
    expect(Object.values(keptImages(inline.outcome.input)).every((imgs) => imgs.length === 14)).toBe(true);
  }, 120_000);

  it("stop their cells cleanly when aborted; the experiment resumes to the same result", async () => {
    const config = { ...SMALL, jobs: 2, n: 20, settings: { concurrency: 1, sim: { latencyMs: 5 } } };
    const controller = new AbortController();
    const first = await runConfig(config, { threads: true, signal: controller.signal, onStart: () => setTimeout(() => controller.abort(), 150) });
    expect(first.outcome.interrupted).toBe(true);
    expect(first.outcome.input.incomplete!.length).toBeGreaterThan(0);
    const done = await resumeExperiment(first.outcome.dir, { threads: true });
    expect(done.counts.complete).toBe(4);
    const reference = await runConfig(config, { threads: false });
    expect(keptImages(done.input)).toEqual(keptImages(reference.outcome.input));
  }, 120_000);

  it("pass a bad cell's input error back as an InputError", async () => {
    const { writeFileSync, mkdirSync } = await import("node:fs");
    const { join } = await import("node:path");
    const first = await runConfig({ ...SMALL, jobs: 2 }, { threads: true });
    const cell = first.plan.cells[0]!.id;
    // A cell folder whose run.json is damaged: loading it is bad input, not a crash.
    mkdirSync(join(first.outcome.dir, "runs", cell), { recursive: true });
    writeFileSync(join(first.outcome.dir, "runs", cell, "run.json"), "{ not json");
    await expect(resumeExperiment(first.outcome.dir, { threads: true })).rejects.toMatchObject({ name: "InputError", message: expect.stringMatching(/run.json is missing or not valid JSON/) });
  }, 120_000);
});
