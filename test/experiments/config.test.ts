import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { planFromFile } from "../../src/experiments/config.js";
import { cli } from "../cli/helpers.js";
import { SMALL, writeConfig } from "./helpers.js";

describe("experiment config", () => {
  it("plans prompts x policies x targets x observers x providers, one seed per prompt", () => {
    const { path } = writeConfig({ ...SMALL, targets: ["race+gender", "gender"], observers: ["self-report", "requested"] });
    const plan = planFromFile(path);
    expect(plan.cells).toHaveLength(2 * 2 * 2 * 2);
    expect(new Set(plan.cells.map((c) => c.id)).size).toBe(plan.cells.length);
    expect(plan.cells[0]!.id).toBe("main__headlines-000__race+gender__none__self-report__sim");
    for (const prompt of new Set(plan.cells.map((c) => c.labels.prompt))) {
      const seeds = new Set(plan.cells.filter((c) => c.labels.prompt === prompt).map((c) => c.settings.seed));
      expect(seeds.size).toBe(1);
    }
    const joint = plan.cells.find((c) => c.labels.target === "race+gender")!;
    expect(joint.settings).toMatchObject({ joint: [["race", "gender"]], attributes: [], n: 14, concurrency: 1, cache: false });
    // The same config plans the same cells (so a rerun resumes).
    expect(planFromFile(path).planHash).toBe(plan.planHash);
  });

  it("parts override the top-level matrix; targets can be written out with weights", () => {
    const { path } = writeConfig({
      id: "parts",
      prompts: [{ id: "mine", prompts: ["A chef plates a dessert", "A pilot checks the instruments"] }],
      policies: ["debiaspi"],
      parts: [
        { id: "a", n: 8 },
        { id: "b", policies: ["none", "quota"], targets: [{ id: "older", target: { age: { "45-64": 1, "65+": 1 } } }] },
      ],
    });
    const plan = planFromFile(path);
    expect(plan.cells.filter((c) => c.labels.part === "a")).toHaveLength(2);
    const b = plan.cells.filter((c) => c.labels.part === "b");
    expect(b.map((c) => c.labels.policy).sort()).toEqual(["none", "none", "quota", "quota"]);
    expect(b[0]!.labels.target).toBe("older");
    expect(b[0]!.settings.target).toEqual({ age: { "45-64": 1, "65+": 1 } });
    expect(b[0]!.settings.n).toBe(20);
  });
});

describe("experiment config: bad input is one line, exit 2, nothing written", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["unknown policy", { ...SMALL, policies: ["none", "debias"] }, /policies\.1: must be one of "none", "eip", "random", "quota", "debiaspi"/],
    ["unknown prompt set", { ...SMALL, prompts: "headline" }, /unknown prompt set "headline"; accepted: headlines, occupations, or a prompt file/],
    ["unknown provider", { ...SMALL, providers: ["dalle"] }, /providers: unknown provider "dalle"; accepted: sim, openai, .*chat/],
    ["unknown observer", { ...SMALL, observers: ["eyes"] }, /observers: unknown observer "eyes"; accepted: .*self-report/],
    ["unknown key", { ...SMALL, polices: ["none"] }, /unknown key "polices"; accepted: id, title, description, out, seed, jobs, parts, prompts, policies/],
    ["unknown attribute in a target", { ...SMALL, targets: ["race+hair"] }, /target race\+hair: .*hair/],
    ["bad part", { ...SMALL, parts: [{ id: "x", policies: ["none"], observers: ["nope"] }] }, /parts\.0 \(x\)\.observers: unknown observer "nope"/],
    ["an observer blind to a target's attribute", { ...SMALL, observers: ["skin-tone"] }, /target race\+gender: observer skin-tone cannot see race, gender/],
    ["provider without its key", { ...SMALL, providers: ["openai:dall-e-3"] }, /OPENAI_API_KEY/],
    ["a self-report observer with a provider that reports nothing", { ...SMALL, providers: ["stability:core"] }, /observer self-report reads what the provider reports it drew, and stability:core reports nothing/],
  ];
  for (const [name, config, message] of cases) {
    it(name, async () => {
      const saved = process.env.OPENAI_API_KEY;
      delete process.env.OPENAI_API_KEY;
      try {
        const { path, dir } = writeConfig(config);
        const r = await cli("experiment", path);
        expect(r.code).toBe(2);
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).toContain(path);
        expect(existsSync(join(dir, "out")) ? readdirSync(join(dir, "out")) : []).toEqual([]);
      } finally {
        if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
      }
    });
  }

  it("a missing config file and a missing argument", async () => {
    const missing = await cli("experiment", "/nonexistent/study.yaml");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read config file \/nonexistent\/study\.yaml: no such file/);
    const none = await cli("experiment");
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/give a config file, or --resume/);
  });
});
