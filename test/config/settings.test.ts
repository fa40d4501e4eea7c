import { describe, expect, it } from "vitest";
import { Command } from "commander";
import { resolveRun } from "../../src/config/resolve.js";
import { runConfigSchema } from "../../src/config/schema.js";
import { dashboardDefaults, SETTING_DEFAULTS, SETTING_KEYS, SETTINGS, settingFlags } from "../../src/config/settings.js";
import { FLAG_NAMES, flagsToConfig } from "../../src/cli/flags.js";
import { addRunOptions } from "../../src/cli/run-options.js";

describe("the settings table", () => {
  it("is the config schema: the same keys, in its order", () => {
    expect(Object.keys(runConfigSchema.shape)).toEqual(SETTING_KEYS);
    expect(runConfigSchema.safeParse({ n: 0 }).success).toBe(false);
    expect(runConfigSchema.safeParse({ nn: 1 }).success).toBe(false);
  });

  it("fills a run's defaults from the table, each run with its own copy", () => {
    const a = resolveRun({ prompt: "a chef", seed: 1 });
    expect(a.config.n).toBe(SETTINGS.n.default);
    expect(a.config.policy).toBe(SETTING_DEFAULTS.policy);
    expect(a.config.attributes).toEqual(["gender", "race"]);
    expect(a.config.maxAttempts).toBe(Math.max(10 * 20, 20 + 50));
    expect(a.config).not.toHaveProperty("rate");
    expect(Object.keys(a.config)).toEqual(SETTING_KEYS.filter((k) => k in a.config));
    a.config.checks.push("faces");
    (a.config.providerOptions as Record<string, unknown>).steps = 3;
    expect(SETTING_DEFAULTS.checks).toEqual([]);
    expect(resolveRun({ prompt: "a chef", seed: 1 }).config.providerOptions).toEqual({});
  });

  it("gives the CLI its flags, with the table's default in the help", () => {
    const cmd = addRunOptions(new Command("run"));
    const help = cmd.helpInformation();
    for (const { flag } of settingFlags()) expect(help).toContain(flag.flags.split(" <")[0]!);
    const described = (long: string): string | undefined => cmd.options.find((o) => o.long === long)?.description;
    expect(described("--n")).toBe("images in the set (1 to 100000) (default 20)");
    expect(described("--max-attempts")).toBe("attempt budget (default 10 x N, at least N + 50)");
    expect(described("--no-render")).not.toMatch(/default/);
    expect(FLAG_NAMES.maxAttempts).toBe("--max-attempts");
    expect(FLAG_NAMES["sim.render"]).toBe("--no-render");
    expect(FLAG_NAMES.attributes).toBeUndefined();
  });

  it("reads the flags commander gives into config shape", () => {
    expect(flagsToConfig("a CEO", { n: 8, maxAttempts: 90, render: false, cache: false, check: ["faces"], attributes: ["age"], target: ["gender=female:1,male:3"], joint: ["race+gender"], providerOption: ["steps=30"] })).toEqual({
      prompt: "a CEO",
      n: 8,
      maxAttempts: 90,
      sim: { render: false },
      cache: false,
      checks: ["faces"],
      attributes: ["age", "gender"],
      target: { gender: { female: 1, male: 3 } },
      joint: [["race", "gender"]],
      providerOptions: { steps: 30 },
    });
    expect(flagsToConfig(undefined, { cache: true, render: true })).toEqual({});
  });

  it("gives the dashboard's form its defaults", () => {
    expect(dashboardDefaults()).toEqual({ n: 20, attributes: ["gender", "race"], policy: "debiaspi", mode: "direct", overflow: "discard", concurrency: 4, provider: "sim", observer: "self-report" });
  });
});
