import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../src/api.js";
import { buildCalibration } from "../../src/calibration/build.js";
import { mapLabelRows } from "../../src/calibration/labels.js";
import type { Calibration } from "../../src/calibration/schema.js";
import { CorrectedTally } from "../../src/calibration/tally.js";
import type { Observation } from "../../src/core/request.js";
import { resolveTarget } from "../../src/core/target.js";
import { builtinTaxonomy } from "../../src/core/taxonomy.js";
import { cli, tempDir } from "../cli/helpers.js";

const tax = builtinTaxonomy();

/** An observer that reads men right 90 %, women 50 % (40 % called men, 10 % unknown), as `faces` roughly does. */
function poorGenderCal(): Calibration {
  const rows = [...Array.from({ length: 100 }, (_, i) => ({ file: `f${i}`, gender: "female" })), ...Array.from({ length: 100 }, (_, i) => ({ file: `m${i}`, gender: "male" }))];
  const set = mapLabelRows(rows, tax, "l.json");
  const obs = (g: string | null): Observation => ({ observer: "faces", persons: [{ labels: { gender: g } }] });
  const observations = set.images.map((img, k) => {
    const i = k % 100;
    if (img.truth.gender === "female") return i < 50 ? obs("female") : i < 90 ? obs("male") : obs(null);
    return i < 90 ? obs("male") : i < 95 ? obs("female") : obs(null);
  });
  return buildCalibration({ labels: set, observations, taxonomy: tax, observer: { id: "faces", options: {}, models: [] }, source: "l.json", folder: "x", rows: 200, domain: "photographs", createdAt: "2026-12-01T00:00:00Z", version: "test" });
}

const dir = tempDir();
const calFile = join(dir, "cal.json");
writeFileSync(calFile, JSON.stringify(poorGenderCal()));

async function truthFemale(steer: "raw" | "corrected", seed: number, n = 100): Promise<{ err: number; gpk: number }> {
  const out = await run(
    { prompt: "a photo of the face of a nurse", n, attributes: ["gender"], provider: "sim", observer: "simulated", calibration: calFile, steer, seed, concurrency: 1, sim: { render: false } },
    { inMemory: true },
  );
  const t = out.summary.attributes.gender!.truth!.observed;
  return { err: Math.abs(t.female! / (t.female! + t.male!) - 0.5), gpk: out.summary.generationsPerKept! };
}

describe("steering on the corrected estimate with the simulated observer", () => {
  it("keeps the truth near the target where steering on raw labels does not (gender, N = 100)", async () => {
    const raw: number[] = [];
    const cor: number[] = [];
    for (const seed of [11, 12, 13]) {
      raw.push((await truthFemale("raw", seed)).err);
      cor.push((await truthFemale("corrected", seed)).err);
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    // This observer is harsher than faces (women 50 % right): raw steering ends 0.4 off; corrected about 0.06
    // at N = 100 (a small-sample excess of women that vanishes with N, below) and 0.01 at N = 400.
    expect(mean(raw)).toBeGreaterThan(0.3);
    expect(mean(cor)).toBeLessThan(0.09);
    expect((await truthFemale("corrected", 11, 400)).err).toBeLessThan(0.03);
  }, 90_000);

  it("is reproducible from the seed", async () => {
    expect(await truthFemale("corrected", 5)).toEqual(await truthFemale("corrected", 5));
  });

  it("counts an observed man as part woman and refuses an image that would move the counts away from the bins", () => {
    const target = resolveTarget(tax, { attributes: ["gender"] }, 4);
    const t = new CorrectedTally(target, poorGenderCal());
    const ask = (g: string) => ({ kind: "direct" as const, cells: { gender: g } });
    t.add({ gender: "male" }, ask("male"));
    t.add({ gender: "male" }, ask("male"));
    expect(t.counts[0]![0]!).toBeGreaterThan(0.2);
    expect(t.counts[0]![0]! + t.counts[0]![1]!).toBeCloseTo(2);
    // Male bin (2) nearly full in expectation: another observed man is set apart, an observed woman is kept.
    t.add({ gender: "female" }, ask("female"));
    expect(t.fits({ gender: "female" }, ask("female"))).toBe(true);
    expect(t.complete()).toBe(false);
    t.add({ gender: "female" }, ask("female"));
    expect(t.complete()).toBe(true);
    expect(t.fits({ gender: "female" }, ask("female"))).toBe(false);
  });
});

describe("run with a calibration", () => {
  it("carries the calibration in the run folder; show prints corrected shares", async () => {
    const out = join(dir, "runs");
    const r = await cli("run", "a photo of a doctor", "-a", "gender", "-n", "12", "--observer", "simulated", "--calibration", calFile, "--seed", "3", "-o", out, "--no-progress", "--json");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { runDir: string; attributes: Record<string, { corrected?: { shares: Record<string, number>; method: string } }> };
    expect(existsSync(join(s.runDir, "calibration.json"))).toBe(true);
    expect(s.attributes.gender!.corrected!.method).toMatch(/^em-mle/);
    const show = await cli("show", s.runDir);
    expect(show.stdout).toMatch(/Corrected for faces's errors/);
    expect(show.stdout).toMatch(/measured on photographs, this run's images are generated/);
  });

  it("refuses the simulated observer without a calibration, and --steer without one", async () => {
    const a = await cli("run", "a photo of a doctor", "-a", "gender", "--observer", "simulated", "-o", join(dir, "r2"));
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/give the calibration with --calibration FILE/);
    const b = await cli("run", "a photo of a doctor", "-a", "gender", "--steer", "raw", "-o", join(dir, "r3"));
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--steer needs a calibration/);
    expect(existsSync(join(dir, "r2"))).toBe(false);
  });

  it("refuses a calibration of another observer before generating", async () => {
    const r = await cli("run", "a photo of a doctor", "-a", "gender", "--observer", "self-report", "--calibration", calFile, "-o", join(dir, "r4"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/calibrates observer "faces", not "self-report"/);
    expect(existsSync(join(dir, "r4"))).toBe(false);
  });
});

describe("report with a calibration", () => {
  it("renders a calibration section with raw vs corrected and the domain warning", async () => {
    const out = join(dir, "runs-report");
    const r = await cli("run", "a photo of a doctor", "-a", "gender", "-n", "10", "--observer", "simulated", "--calibration", calFile, "--seed", "4", "-o", out, "--no-progress", "--json");
    const s = JSON.parse(r.stdout) as { runDir: string };
    const file = join(dir, "report.html");
    const rep = await cli("report", s.runDir, "--out", file, "--no-thumbnails");
    expect(rep.code).toBe(0);
    const page = readFileSync(file, "utf8");
    expect(page).toMatch(/<h2>Calibration<\/h2>/);
    expect(page).toMatch(/gender: raw vs corrected/);
    expect(page).toMatch(/true \\ observed/);
    expect(page).toMatch(/measured on photographs, this run&#39;s images are generated|measured on photographs, this run's images are generated/);
  }, 60_000);
});

describe("check and export with a calibration", () => {
  it("check gates the corrected shares; export adds corrected columns", async () => {
    const out = join(dir, "runs-check");
    const r = await cli("run", "a photo of a lawyer", "-a", "gender", "-n", "20", "--seed", "9", "-o", out, "--no-progress", "--json");
    const s = JSON.parse(r.stdout) as { runDir: string };
    // Run with self-report; a faces calibration of it is refused...
    const refused = await cli("check", s.runDir, "--calibration", calFile);
    expect(refused.code).toBe(2);
    // ...while a run of the simulated faces observer is checked on raw and corrected shares.
    const sim = await cli("run", "a photo of a lawyer", "-a", "gender", "-n", "20", "--seed", "9", "--observer", "simulated", "--calibration", calFile, "-o", out, "--no-progress", "--json");
    const dirSim = (JSON.parse(sim.stdout) as { runDir: string }).runDir;
    const strict = await cli("check", dirSim, "--max-abs-diff", "0.0001", "--json");
    const res = JSON.parse(strict.stdout) as { violations: { scope: string }[] };
    expect(res.violations.map((v) => v.scope)).toContain("gender (corrected)");
    const exp = await cli("export", dirSim, "--out", join(dir, "exp-sim"), "--format", "json");
    expect(exp.code).toBe(0);
    const data = JSON.parse(readFileSync(join(dir, "exp-sim", "export.json"), "utf8")) as { tables: Record<string, Record<string, unknown>[]> } | Record<string, unknown>;
    expect(JSON.stringify(data)).toMatch(/"corrected_share":0\.\d+/);
  }, 60_000);
});
