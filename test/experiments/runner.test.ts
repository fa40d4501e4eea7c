import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadRun } from "../../src/api.js";
import { planFromFile } from "../../src/experiments/config.js";
import { EXPERIMENT_FORMAT } from "../../src/experiments/folder.js";
import { loadReportInput } from "../../src/experiments/load.js";
import { resumeExperiment, runExperiment } from "../../src/experiments/runner.js";
import type { ReportInput } from "../../src/analysis/model.js";
import { cli } from "../cli/helpers.js";
import { runConfig, SMALL, writeConfig } from "./helpers.js";

/** The kept images of every cell, in order: identical when two experiments produced the same sets. */
const keptImages = (input: ReportInput): Record<string, string[]> =>
  Object.fromEntries(input.runs.map((r) => [r.id, r.events.flatMap((e) => (e.type === "attempt" && e.decision === "kept" ? [e.image!] : []))]));

describe("experiment runner", () => {
  it("runs every cell into runs/<cell-id>/, writes experiment.json and findings.json; a rerun skips finished cells", async () => {
    const { plan, outcome, path } = await runConfig(SMALL);
    expect(outcome.counts.complete).toBe(4);
    expect(outcome.ran).toBe(4);
    expect(readdirSync(join(outcome.dir, "runs")).sort()).toEqual(plan.cells.map((c) => c.id).sort());
    const manifest = JSON.parse(readFileSync(join(outcome.dir, "experiment.json"), "utf8")) as { format: string; cells: unknown[]; version: string };
    expect(manifest.format).toBe(EXPERIMENT_FORMAT);
    expect(manifest.cells).toHaveLength(4);
    const findings = JSON.parse(readFileSync(join(outcome.dir, "findings.json"), "utf8")) as { findings: { id: string; reproduced: string }[] };
    expect(findings.findings.find((f) => f.id === "joint-race-gender")?.reproduced).toBe("yes");
    const input = loadReportInput(outcome.dir);
    expect(input.kind).toBe("experiment");
    expect(input.incomplete).toEqual([]);
    expect(input.runs.every((r) => r.labels.part === "main" && r.labels.promptSet === "headlines" && r.labels.concept === "career success")).toBe(true);

    const again = await runExperiment(planFromFile(path));
    expect(again.ran).toBe(0);
    expect(keptImages(again.input)).toEqual(keptImages(input));
  });

  it("resumes a cell cut off mid-run (no end line) and ends with the same images as an uninterrupted experiment", async () => {
    const { outcome, path } = await runConfig(SMALL);
    const before = keptImages(outcome.input);
    const victim = outcome.manifest.cells[3]!.id;
    const events = join(outcome.dir, "runs", victim, "events.jsonl");
    writeFileSync(events, readFileSync(events, "utf8").split("\n").slice(0, 5).join("\n") + "\n");
    expect(loadReportInput(outcome.dir).incomplete).toEqual([victim]);
    const reports: string[] = [];
    const again = await runExperiment(planFromFile(path), { onCell: (r) => reports.push(`${r.cell.id}:${r.action}`) });
    expect(reports.filter((r) => r.endsWith(":resumed"))).toEqual([`${victim}:resumed`]);
    expect(reports.filter((r) => r.endsWith(":skipped"))).toHaveLength(3);
    expect(keptImages(again.input)).toEqual(before);
  });

  it("stops when aborted, leaves the experiment resumable, and --resume finishes it", async () => {
    const controller = new AbortController();
    const { outcome } = await runConfig({ ...SMALL, jobs: 1 }, { signal: controller.signal, onCell: () => controller.abort() });
    expect(outcome.interrupted).toBe(true);
    expect(outcome.input.incomplete!.length).toBeGreaterThan(0);
    expect(existsSync(join(outcome.dir, "findings.json"))).toBe(false);
    const r = await cli("experiment", "--resume", outcome.dir, "--json");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { counts: { complete: number }; incomplete: string[]; perCell: { status: string }[] };
    expect(json.counts.complete).toBe(4);
    expect(json.incomplete).toEqual([]);
    expect(json.perCell.map((c) => c.status)).toEqual(["complete", "complete", "complete", "complete"]);
    expect(existsSync(join(outcome.dir, "findings.json"))).toBe(true);
  });

  it("refuses a folder holding another plan, and one another live process works on", async () => {
    const { outcome, path } = await runConfig(SMALL);
    const config = readFileSync(path, "utf8").replace("n: 14", "n: 12");
    writeFileSync(path, config);
    await expect(runExperiment(planFromFile(path))).rejects.toThrow(/was made from a different config \(4 cells there, 4 in the config, 4 new or changed\); .*start it over with --fresh .*or write to a new folder with --out DIR$/);
    const refused = await cli("experiment", path, "--no-progress");
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    const fresh = await cli("experiment", path, "--fresh", "--no-progress", "--json");
    expect(fresh.code).toBe(0);
    expect((JSON.parse(fresh.stdout) as { ran: number }).ran).toBe(4);
    expect(loadRun(join(outcome.dir, "runs", outcome.manifest.cells[0]!.id)).summary.n).toBe(12);
    writeFileSync(join(outcome.dir, "experiment.lock"), String(process.ppid));
    await expect(resumeExperiment(outcome.dir)).rejects.toThrow(/is in progress in process/);
  });
});

describe("experiment folders of another format version", () => {
  it("are refused with one line by every command that reads them", async () => {
    const { outcome } = await runConfig(SMALL);
    const manifestPath = join(outcome.dir, "experiment.json");
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as Record<string, unknown>;
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, format: "debiaspi-experiment/0", version: "0.0.1" }));
    expect(() => loadReportInput(outcome.dir)).toThrow(/has format debiaspi-experiment\/0 \(written by debiaspi 0\.0\.1\); this version reads debiaspi-experiment\/1/);
    for (const args of [["experiment", "--resume", outcome.dir], ["check", outcome.dir], ["export", outcome.dir]]) {
      const r = await cli(...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/debiaspi-experiment\/0/);
    }
  });
});

describe("loadReportInput", () => {
  it("reads a lone run folder as a report of one run, labelled from its config", async () => {
    const { dir } = writeConfig({});
    const r = await cli("run", "A chef plates a dessert", "--joint", "race,gender", "--n", "14", "--seed", "1", "--out", dir, "--json", "--no-progress");
    const runDir = (JSON.parse(r.stdout) as { runDir: string }).runDir;
    const input = loadReportInput(runDir);
    expect(input.kind).toBe("run");
    expect(input.runs).toHaveLength(1);
    expect(input.runs[0]!.labels).toEqual({ promptSet: "single", prompt: "A chef plates a dessert", policy: "debiaspi", target: "race+gender", observer: "self-report", provider: "sim" });
    expect(input.runs[0]!.inProgress).toBeUndefined();
  });

  it("refuses a folder that is neither a run nor an experiment", () => {
    const { dir } = writeConfig({});
    expect(() => loadReportInput(dir)).toThrow(/is neither a run folder \(no run\.json\) nor an experiment folder \(no experiment\.json\)/);
    expect(() => loadReportInput(join(dir, "nope"))).toThrow(/does not exist or is not a folder/);
  });
});
