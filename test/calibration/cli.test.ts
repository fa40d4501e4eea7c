import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCalibration } from "../../src/calibration/schema.js";
import { closeFaceWorkers } from "../../src/observers/faces.js";
import { cli, tempDir } from "../cli/helpers.js";

const FIX = join(import.meta.dirname, "..", "fixtures", "fairface");
const CAL_DIR = join(FIX, "calibration");
const CAL_LABELS = join(FIX, "calibration-labels.csv");
const HELD_DIR = join(FIX, "heldout");

describe("debiaspi calibrate and --calibration on real photographs (faces, 52 FairFace fixtures)", () => {
  afterAll(() => closeFaceWorkers());
  const dir = tempDir();
  const calFile = join(dir, "faces.json");

  it("calibrates faces: confusion matrix, per-group accuracy, model hashes, a calibration file", async () => {
    const r = await cli("calibrate", CAL_DIR, "--labels", CAL_LABELS, "--observer", "faces", "--out", calFile, "--no-progress");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/true \\ observed/);
    expect(r.stdout).toMatch(/gender accuracy/);
    expect(r.stdout).toMatch(/measured skin_tone/);
    expect(r.stdout).toMatch(/12 labels left out: they lie in no single age bin \(40-49: 6, 60-69: 6\)/);
    const cal = parseCalibration(readFileSync(calFile, "utf8"), calFile);
    expect(cal.observer.id).toBe("faces");
    expect(cal.observer.models.map((m) => m.name)).toContain("faceres");
    expect(cal.observer.models.every((m) => /^[0-9a-f]{12}$/.test(m.sha256 ?? ""))).toBe(true);
    const g = cal.attributes.gender!;
    expect(g.n).toBe(36);
    expect(g.counts.flat().reduce((a, b) => a + b, 0)).toBe(36);
    // The age groups of the labels file are groups of the gender breakdown.
    expect(g.groups.filter((row) => row.group === "age").map((row) => row.value)).toEqual(["20-29", "30-39", "40-49", "50-59", "60-69", "70+"]);
    expect(cal.attributes.age!.n).toBe(24);
  }, 120_000);

  it("audit --calibration: on a disjoint 75 %-women split the corrected female share is closer to the truth than the raw one", async () => {
    const r = await cli("audit", HELD_DIR, "--observer", "faces", "--calibration", calFile, "--json");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { attributes: Record<string, { observed: Record<string, number>; corrected?: { shares: Record<string, number>; intervals: Record<string, [number, number]>; method: string } }>; calibration: { observer: string } };
    const g = out.attributes.gender!;
    const raw = g.observed.female! / (g.observed.female! + g.observed.male!);
    const c = g.corrected!;
    expect(c.method).toMatch(/^em-mle/);
    expect(Math.abs(c.shares.female! - 0.75)).toBeLessThan(Math.abs(raw - 0.75));
    expect(c.intervals.female![0]).toBeLessThan(0.75);
    expect(c.intervals.female![1]).toBeGreaterThan(0.75);
    expect(c.shares.female! + c.shares.male!).toBeCloseTo(1);
    expect(out.calibration.observer).toBe("faces");
  }, 120_000);

  it("refuses a calibration of another observer before observing anything", async () => {
    const r = await cli("audit", HELD_DIR, "--observer", "skin-tone", "--calibration", calFile);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/calibrates observer "faces", not "skin-tone"/);
  });
});

describe("calibrate: bad input is one line, exit 2, nothing written", () => {
  const dir = tempDir();
  const out = join(dir, "cal.json");
  const labels = (name: string, text: string): string => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const refuse = async (file: string, pattern: RegExp): Promise<void> => {
    const r = await cli("calibrate", CAL_DIR, "--labels", file, "--observer", "self-report", "--out", out, "--no-progress");
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
    expect(existsSync(out)).toBe(false);
  };

  it("a labels file naming files not in the folder", () =>
    refuse(labels("missing.csv", "file,gender\nfairface_0002.jpg,female\nnope.jpg,male\n"), /names 1 file not in .*: nope\.jpg/));
  it("an unknown category", () => refuse(labels("unknown.csv", "file,gender\nfairface_0002.jpg,robot\n"), /unknown gender "robot"; accepted: female or male/));
  it("duplicate rows", () => refuse(labels("dup.json", JSON.stringify([{ filename: "fairface_0002.jpg", gender: "female" }, { filename: "fairface_0002.jpg", gender: "male" }])), /fairface_0002\.jpg is listed twice \(rows 1 and 2\)/));
  it("duplicate rows, same file twice", () => refuse(labels("dup2.csv", "file,gender\nfairface_0002.jpg,female\nFAIRFACE_0002.jpg,male\n"), /listed twice/));
  it("no overlap with the folder", () => refuse(labels("none.csv", "file,gender\nx.jpg,female\ny.jpg,male\n"), /names no image of/));
  it("a labels file of another format", () => refuse(labels("l.txt", "file gender"), /must be a \.csv or \.json file/));
  it("a calibration file that is not one", async () => {
    const bad = labels("bad-cal.json", '{"format":"debiaspi-calibration/1","observer":{}}');
    const r = await cli("audit", HELD_DIR, "--observer", "faces", "--calibration", bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a debiaspi calibration file/);
  });
});
