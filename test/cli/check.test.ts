import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, tempDir } from "./helpers.js";
import { runConfig, SMALL } from "../experiments/helpers.js";

async function oneRun(policy: string): Promise<string> {
  const r = await cli("run", "A chef plates a dessert", "--joint", "race,gender", "--n", "28", "--seed", "4", "--policy", policy, "--out", tempDir(), "--json", "--no-progress");
  return (JSON.parse(r.stdout) as { runDir: string }).runDir;
}

describe("check", () => {
  it("exit 0 when every distribution is within tolerance, 1 with a list of what is outside it", async () => {
    const good = await oneRun("debiaspi");
    const ok = await cli("check", good, "--max-tv", "0.05", "--max-abs-diff", "0.05", "--min-p", "0.05");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok: all 1 run within tolerance \(TV <= 0\.05, max\|p-q\| <= 0\.05, chi-square p >= 0\.05; 3 distributions checked\)/);

    const bad = await oneRun("none");
    const fail = await cli("check", bad);
    expect(fail.code).toBe(1);
    const lines = fail.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^FAIL: 1 of 1 run outside tolerance \(TV <= 0\.1\); \d violations?:/);
    // One line per violation: run, scope, metric, value, limit.
    expect(lines.slice(1).some((l) => /race\+gender\s+TV 0\.\d{3} > 0\.1/.test(l))).toBe(true);

    const json = await cli("check", bad, "--json", "--min-p", "0.05");
    expect(json.code).toBe(1);
    const result = JSON.parse(json.stdout) as { ok: boolean; tolerances: object; violations: { scope: string; metric: string; value: number; limit: number }[] };
    expect(result.ok).toBe(false);
    expect(result.tolerances).toEqual({ minP: 0.05 });
    expect(result.violations.every((v) => v.metric === "chiSquareP" && v.value < v.limit)).toBe(true);
  });

  it("checks every run of an experiment, or only some policies", async () => {
    const { outcome } = await runConfig(SMALL);
    const all = await cli("check", outcome.dir);
    expect(all.code).toBe(1);
    expect(all.stdout).toMatch(/^FAIL: 2 of 4 runs outside tolerance/);
    expect(all.stdout).not.toMatch(/__debiaspi__/);
    const dpi = await cli("check", outcome.dir, "--policies", "debiaspi", "--max-tv", "0");
    expect(dpi.code).toBe(0);
    expect(dpi.stdout).toMatch(/ok: all 2 runs within tolerance/);
  });

  it("refuses, with one line and exit 2, a run still in progress and bad tolerances; fails an unfinished run", async () => {
    const dir = await oneRun("debiaspi");
    writeFileSync(join(dir, "run.lock"), String(process.ppid));
    const live = await cli("check", dir);
    expect(live.code).toBe(2);
    expect(live.stderr.trim().split("\n")).toHaveLength(1);
    expect(live.stderr).toMatch(/is still in progress \(28 of 28 images kept\); check it when it has finished/);

    const cut = await oneRun("debiaspi");
    const events = join(cut, "events.jsonl");
    writeFileSync(events, readFileSync(events, "utf8").split("\n").slice(0, 10).join("\n") + "\n");
    const unfinished = await cli("check", cut);
    expect(unfinished.code).toBe(1);
    expect(unfinished.stdout).toMatch(/run\s+not finished \(no end line; continue with: debiaspi resume .*\); 10 of 28 images kept/);

    for (const args of [["--max-tv", "1.5"], ["--min-p", "abc"], ["--policies", "nonee"]]) {
      const r = await cli("check", cut, ...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("fails an experiment with cells not done, listing them", async () => {
    const controller = new AbortController();
    const { outcome } = await runConfig({ ...SMALL, jobs: 1 }, { signal: controller.signal, onCell: () => controller.abort() });
    const r = await cli("check", outcome.dir, "--max-tv", "1");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL: 3 of 4 runs outside tolerance/);
    expect(r.stdout.match(/run\s+(not run yet \(no run folder\)|not finished)/g)?.length).toBe(3);
  });

  it("takes the thresholds of the experiment's check: block, and a changed block on a rerun", async () => {
    const { outcome, path } = await runConfig({ ...SMALL, check: { maxTv: 0 } });
    const strict = await cli("check", outcome.dir, "--policies", "none");
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/\(TV <= 0\)/);
    writeFileSync(path, readFileSync(path, "utf8").replace("maxTv: 0\n", "maxTv: 1\n"));
    expect((await cli("experiment", path, "--no-progress")).code).toBe(0);
    expect((await cli("check", outcome.dir, "--policies", "none")).stdout).toMatch(/^ok: all 2 runs within tolerance \(TV <= 1;/);
  });
});
