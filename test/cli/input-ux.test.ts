import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { serve } from "../../src/cli/serve.js";
import { cli, tempDir, type CliResult } from "./helpers.js";

/** Bad input: exit code 2, one line on stderr, nothing on stdout, no stack trace. */
function expectOneLineError(r: CliResult, msg: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(msg);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe("");
}

describe("doctor takes the provider from --config", () => {
  it("checks the provider named in the config file when --provider is not given", async () => {
    const dir = tempDir();
    const cfg = join(dir, "chat.yaml");
    writeFileSync(cfg, "provider: sim\nprompt: a CEO\n");
    const r = await cli("doctor", "--config", cfg);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok {3}sim: configuration valid/);
  });

  it("uses the config's providerOptions with its provider, and --provider still wins", async () => {
    const dir = tempDir();
    const cfg = join(dir, "opts.yaml");
    writeFileSync(cfg, "provider: sim\nproviderOptions:\n  steps: 3\n");
    expectOneLineError(await cli("doctor", "--config", cfg), /provider sim takes no providerOptions \(got steps\)/);
    writeFileSync(cfg, "provider: dalle9\n");
    const over = await cli("doctor", "--config", cfg, "--provider", "sim");
    expect(over.code).toBe(0);
    expect(over.stdout).toMatch(/^ok {3}sim: configuration valid/);
  });

  it("without --provider and without provider: in the config it says what to pass", async () => {
    const dir = tempDir();
    const cfg = join(dir, "none.yaml");
    writeFileSync(cfg, "prompt: a CEO\n");
    expectOneLineError(await cli("doctor", "--config", cfg), /doctor: no provider to check; pass --provider NAME\[:MODEL-OR-URL\] or set provider: in .*none\.yaml/);
    expectOneLineError(await cli("doctor"), /doctor: no provider to check; pass --provider/);
  });
});

describe("sim takes a profile, not a model", () => {
  it("refuses --provider sim:foo before anything starts, listing the profiles", async () => {
    const out = tempDir();
    expectOneLineError(await cli("run", "a CEO", "--provider", "sim:foo", "--out", out, "--no-progress"), /sim has no profile "foo"; accepted: sd15, sd35, dall-e-3, .* or midjourney/);
    expect(readdirSync(out)).toEqual([]);
    expectOneLineError(await cli("doctor", "--provider", "sim:foo"), /sim has no profile "foo"/);
  });
});

describe("numeric flags out of range say --flag: must be at least/at most X", () => {
  const cases: [string[], RegExp][] = [
    [["--n", "0"], /command line: --n: must be at least 1$/m],
    [["--concurrency", "0"], /command line: --concurrency: must be at least 1$/m],
    [["--concurrency", "1000"], /command line: --concurrency: must be at most 256$/m],
    [["--seed", "-1"], /command line: --seed: must be at least 0$/m],
    [["--max-attempts", "0"], /command line: --max-attempts: must be at least 1$/m],
    [["--subgroup", "-2"], /command line: --subgroup: must be at least 0$/m],
    [["--rate", "0"], /command line: --rate: must be more than 0$/m],
  ];
  for (const [flags, msg] of cases) {
    it(flags.join(" "), async () => {
      const out = tempDir();
      const r = await cli("run", "a CEO", ...flags, "--out", out, "--no-progress");
      expectOneLineError(r, msg);
      expect(r.stderr).not.toMatch(/Too small|Too big|expected number/);
      expect(readdirSync(out)).toEqual([]);
    });
  }

  it("a config file gets the same wording, with its name and key", async () => {
    const dir = tempDir();
    const cfg = join(dir, "cfg.yaml");
    writeFileSync(cfg, "prompt: a CEO\nconcurrency: 0\n");
    expectOneLineError(await cli("run", "--config", cfg, "--out", dir), /config file .*cfg\.yaml: concurrency: must be at least 1$/m);
    writeFileSync(cfg, "prompt: a CEO\nseed: 1.5\n");
    expectOneLineError(await cli("run", "--config", cfg, "--out", dir), /config file .*cfg\.yaml: seed: must be a whole number$/m);
  });
});

describe("an unknown attribute names the file and the key", () => {
  const attributeList = /accepted: gender, race, age, skin_tone, body_type or profession/;

  it("attributes: in a config file", async () => {
    const dir = tempDir();
    const cfg = join(dir, "cfg.yaml");
    writeFileSync(cfg, "prompt: a CEO\nattributes: [gender, rase]\n");
    const r = await cli("run", "--config", cfg, "--out", dir, "--no-progress");
    expectOneLineError(r, /config file .*cfg\.yaml: attributes: unknown attribute "rase"; accepted: /);
    expect(r.stderr).toMatch(attributeList);
  });

  it("target: and joint: in a config file", async () => {
    const dir = tempDir();
    const cfg = join(dir, "cfg.yaml");
    writeFileSync(cfg, "prompt: a CEO\ntarget:\n  gendr: {female: 1, male: 1}\n");
    expectOneLineError(await cli("run", "--config", cfg, "--out", dir), /config file .*cfg\.yaml: target: unknown attribute "gendr"; accepted: /);
    writeFileSync(cfg, "prompt: a CEO\njoint: [[race, agee]]\n");
    expectOneLineError(await cli("run", "--config", cfg, "--out", dir), /config file .*cfg\.yaml: joint: unknown attribute "agee"; accepted: /);
  });

  it("flags name the flag; attributes the config adds to the taxonomy are accepted", async () => {
    const dir = tempDir();
    expectOneLineError(await cli("run", "a CEO", "--target", "rase=female:1", "--out", dir), /command line: --target: unknown attribute "rase"/);
    expectOneLineError(await cli("run", "a CEO", "--target", "rase=uniform", "--out", dir), /command line: attributes: unknown attribute "rase"/);
    expectOneLineError(await cli("run", "a CEO", "-a", "gender,rase", "--out", dir), /command line: attributes: unknown attribute "rase"/);
    const cfg = join(dir, "tax.yaml");
    writeFileSync(cfg, "prompt: a CEO\nattributes: [glasses]\ntaxonomy:\n  attributes:\n    glasses:\n      categories: [{id: yes}, {id: no}]\n");
    const r = await cli("run", "--config", cfg, "--out", dir, "--n", "2", "--seed", "1", "--json", "--no-progress");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout).attributes)).toContain("glasses");
  });
});

describe("serve --runs with a folder that does not exist", () => {
  it("creates it and says so in one line; an existing folder gets no such line", async () => {
    const runs = join(tempDir(), "new", "runs");
    const out: string[] = [];
    await serve({ port: 0, runs, experiments: tempDir() }, { out: (t) => out.push(t), err: () => undefined }, async () => undefined);
    expect(existsSync(runs)).toBe(true);
    expect(out.filter((l) => l.startsWith("created the runs folder"))).toEqual([`created the runs folder ${runs} (it did not exist)`]);

    const again: string[] = [];
    await serve({ port: 0, runs, experiments: tempDir() }, { out: (t) => again.push(t), err: () => undefined }, async () => undefined);
    expect(again.join("\n")).not.toMatch(/created/);
  });
});

describe("experiment --jobs has the bounds of jobs: in the config", () => {
  it("refuses --jobs above 64 or below 1 before anything runs", async () => {
    const dir = tempDir();
    const cfg = join(dir, "exp.yaml");
    writeFileSync(cfg, `id: jobs\nprompts: { id: p, prompts: [a CEO] }\npolicies: [none]\nn: 2\nout: ${JSON.stringify(join(dir, "out"))}\n`);
    expectOneLineError(await cli("experiment", cfg, "--jobs", "100", "--no-progress"), /--jobs: must be at most 64$/m);
    expectOneLineError(await cli("experiment", cfg, "--jobs", "0", "--no-progress"), /--jobs: must be at least 1$/m);
    expectOneLineError(await cli("experiment", "--resume", join(dir, "out", "jobs"), "--jobs", "65"), /--jobs: must be at most 64$/m);
    expect(existsSync(join(dir, "out"))).toBe(false);
  });
});
