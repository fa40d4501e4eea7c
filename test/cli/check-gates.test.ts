import { readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { checkRuns, violationText } from "../../src/analysis/check.js";
import { loadReportInput } from "../../src/experiments/load.js";
import { cli, tempDir } from "./helpers.js";

/** A finished run of a config file; returns its folder. */
async function runWith(config: Record<string, unknown>): Promise<string> {
  const dir = tempDir();
  const path = join(dir, "run.yaml");
  writeFileSync(path, stringify({ out: join(dir, "runs"), ...config }));
  const r = await cli("run", "--config", path, "--json", "--no-progress");
  return (JSON.parse(r.stdout) as { runDir: string }).runDir;
}

const JOINT = { prompt: "A chef plates a dessert", joint: [["race", "gender"]], n: 28, seed: 4, concurrency: 1 };
const GOOD = { prompt: "A chef plates a dessert", attributes: ["gender"], n: 8, seed: 4, concurrency: 1 };

describe("check as a CI gate (issue 11 item 9)", () => {
  it("fails, listed, on a run that kept nothing (the p-value of an empty set says nothing)", async () => {
    const dir = await runWith({ ...GOOD, maxAttempts: 12, sim: { refusalRate: 1 } });
    const r = await cli("check", dir, "--min-p", "0.05", "--max-tv", "1");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL: 1 of 1 run outside tolerance/);
    expect(r.stdout).toMatch(/run\s+no image kept \(12 provider calls, 12 refused, 0 failed\)/);
    expect(r.stdout).toMatch(/ended with status budget \(attempt budget of 12 spent.*\); 0 of 8 images kept/);
  });

  it("fails, listed, on a run without its end line (it was not finished)", async () => {
    const dir = await runWith(GOOD);
    const events = join(dir, "events.jsonl");
    writeFileSync(events, readFileSync(events, "utf8").split("\n").slice(0, 3).join("\n") + "\n");
    const r = await cli("check", dir, "--max-tv", "1");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/not finished \(no end line; continue with: debiaspi resume .*\); 3 of 8 images kept/);
  });

  it("fails, listed, when kept image files are missing, one file or the whole images folder", async () => {
    // Image files (as a real provider's): a drawn portrait cannot go missing.
    const dir = await runWith({ ...GOOD, sim: { imageFiles: true } });
    expect((await cli("check", dir)).code).toBe(0);
    const images = readdirSync(join(dir, "images"));
    unlinkSync(join(dir, "images", images[0]!));
    const one = await cli("check", dir);
    expect(one.code).toBe(1);
    expect(one.stdout).toMatch(/1 of 8 kept image files missing \(images\//);
    rmSync(join(dir, "images"), { recursive: true });
    const all = await cli("check", dir, "--json");
    expect(all.code).toBe(1);
    const json = JSON.parse(all.stdout) as { violations: { metric: string; value: number }[] };
    expect(json.violations).toContainEqual(expect.objectContaining({ metric: "missingImages", value: 8 }));
  });

  it("passes a run that drew no images (sim --no-render): nothing is missing that was never written", async () => {
    const dir = await runWith({ ...GOOD, sim: { render: false } });
    const r = await cli("check", dir);
    expect(r.stdout).toMatch(/^ok: all 1 run within tolerance/);
    expect(r.code).toBe(0);
  });
});

describe("check thresholds in the config, gates and JUnit (issue 15 item 4)", () => {
  it("reads the check: block of the run's config; flags override it one by one", async () => {
    const strict = await runWith({ ...GOOD, policy: "none", check: { maxTv: 0.01 } });
    const r = await cli("check", strict);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\(TV <= 0\.01\)/);
    expect((await cli("check", strict, "--max-tv", "1")).code).toBe(0);
  });

  it("refuses a bad check: block with its path, exit 2", async () => {
    const dir = tempDir();
    const path = join(dir, "run.yaml");
    writeFileSync(path, stringify({ ...GOOD, check: { maxTv: 2 } }));
    const r = await cli("run", "--config", path, "--no-progress");
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/check\.maxTv: must be at most 1$/);
    writeFileSync(path, stringify({ ...GOOD, check: { maxTV: 0.1 } }));
    expect((await cli("run", "--config", path, "--no-progress")).stderr).toMatch(/check: unknown key "maxTV"/);
  });

  it("gates on cost per kept image, refusal rate and checker agreement", async () => {
    const fallback = await runWith({ ...GOOD, checks: ["skin-tone"], attributes: ["skin_tone"], n: 10, sim: { refusalRate: 0.3 } });
    const json = JSON.parse((await cli("show", fallback, "--json")).stdout) as { refusals: number; attempts: number; agreement: { rate: number }[]; costUsd: number };
    expect(json.refusals).toBeGreaterThan(0);
    const refusalRate = json.refusals / json.attempts;
    const ok = await cli("check", fallback, "--max-tv", "1", "--max-refusal-rate", String(Math.min(1, refusalRate + 0.01)), "--min-agreement", "0");
    expect(ok.code, ok.stdout).toBe(0);
    const bad = await cli("check", fallback, "--max-tv", "1", "--max-refusal-rate", String(Math.max(0, refusalRate - 0.01)), "--min-agreement", "1", "--json");
    expect(bad.code).toBe(1);
    const result = JSON.parse(bad.stdout) as { violations: { metric: string; scope: string; value: number }[] };
    expect(result.violations.find((v) => v.metric === "refusalRate")?.value).toBeCloseTo(refusalRate, 10);
    // sim renders 5 % of images lighter than it reports: self-report and the pixels do not always agree.
    const agreementRate = json.agreement[0]!.rate;
    expect(result.violations.some((v) => v.metric === "agreement" && v.scope === "agreement:skin-tone:skin_tone")).toBe(agreementRate < 1);

    // sim costs nothing: the cost gate is checked on the same run with a price per image.
    const input = loadReportInput(fallback, { analysis: false });
    const run = { ...input.runs[0]!, summary: { ...input.runs[0]!.summary, costUsd: 0.04 * json.attempts } };
    const perKept = (0.04 * json.attempts) / run.summary.kept;
    expect(checkRuns([run], { maxCostPerKept: perKept + 0.001 }).ok).toBe(true);
    const over = checkRuns([run], { maxCostPerKept: perKept - 0.001 });
    expect(over.violations).toEqual([expect.objectContaining({ metric: "costPerKept", scope: "run" })]);
    expect(over.violations[0]!.value).toBeCloseTo(perKept, 10);
    expect(violationText(over.violations[0]!)).toMatch(/^cost per kept image \$0\.\d{4} > /);
  });

  it("writes JUnit XML: one testcase per distribution checked and one per run, failures inside", async () => {
    const good = await runWith(JOINT);
    const bad = await runWith({ ...JOINT, policy: "none" });
    const out = tempDir();
    const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", isArray: (name) => ["testsuite", "testcase", "failure"].includes(name) });
    type Suites = { testsuites: { tests: string; failures: string; testsuite: { name: string; tests: string; testcase: { classname: string; name: string; failure?: { type: string; message: string }[] }[] }[] } };

    const okFile = join(out, "ok.xml");
    expect((await cli("check", good, "--max-tv", "0.2", "--junit", okFile)).code).toBe(0);
    const okXml = readFileSync(okFile, "utf8");
    expect(XMLValidator.validate(okXml)).toBe(true);
    const ok = (parser.parse(okXml) as Suites).testsuites;
    // race+gender, race and gender, and the run itself.
    expect(ok.testsuite).toHaveLength(1);
    expect(ok.testsuite[0]!.testcase.map((c) => c.name)).toEqual(["run", "race+gender", "race", "gender"]);
    expect(ok.tests).toBe("4");
    expect(ok.failures).toBe("0");

    const badFile = join(out, "bad.xml");
    expect((await cli("check", bad, "--max-tv", "0.2", "--junit", badFile)).code).toBe(1);
    const badXml = readFileSync(badFile, "utf8");
    expect(XMLValidator.validate(badXml)).toBe(true);
    const failed = (parser.parse(badXml) as Suites).testsuites;
    const joint = failed.testsuite[0]!.testcase.find((c) => c.name === "race+gender")!;
    expect(joint.failure?.[0]?.type).toBe("tv");
    expect(joint.failure?.[0]?.message).toMatch(/^TV 0\.\d{3} > 0\.2$/);
    expect(Number(failed.failures)).toBe(failed.testsuite[0]!.testcase.filter((c) => c.failure).length);
  });
});
