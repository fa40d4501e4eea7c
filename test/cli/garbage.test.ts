import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveRun } from "../../src/config/resolve.js";
import { cli, tempDir, type CliResult } from "./helpers.js";

/** Bad input: exit code 2, one line on stderr, nothing on stdout, no stack trace, no run folder. */
function expectOneLineError(r: CliResult, msg: RegExp): void {
  expect(r.stderr).toMatch(msg);
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stdout).toBe("");
}

const run = (out: string, ...args: string[]): Promise<CliResult> => cli("run", "a CEO", "--n", "4", "--out", out, "--no-progress", ...args);

describe("item 11: garbage on the command line is refused with one line", () => {
  const cases: [string, string[], RegExp][] = [
    ["an empty --attributes", ["--attributes", ""], /--attributes: .*empty/],
    ["an --attributes of commas", ["--attributes", " , ,"], /--attributes: .*empty/],
    ["--target with nothing after =", ["--target", "race="], /--target "race=": .*after "="/],
    ["a hex weight", ["--target", "gender=female:0x10,male:1"], /--target .*weight "0x10" of female is not a decimal number/],
    ["a weight with a unit", ["--target", "gender=female:1kg,male:1"], /weight "1kg"/],
    ["an Infinity weight", ["--target", "gender=female:Infinity,male:1"], /weight "Infinity"/],
  ];
  for (const [what, args, msg] of cases) {
    it(what, async () => {
      const out = tempDir();
      expectOneLineError(await run(out, ...args), msg);
      expect(readdirSync(out)).toEqual([]);
    });
  }

  it("decimal and exponent weights are still accepted", async () => {
    const out = tempDir();
    const r = await run(out, "--target", "gender=female:1.5e0,male:.5", "--json");
    expect(r.code, r.stderr).toBe(0);
  });

  it("a prompt of only invisible characters", async () => {
    for (const prompt of ["\u200b", " \u200b\u200d ", "\ufeff\t"]) {
      const out = tempDir();
      expectOneLineError(await cli("run", prompt, "--out", out, "--no-progress"), /PROMPT: must (have a visible character|not be empty)/);
    }
  });

  it("compare --policies ''", async () => {
    expectOneLineError(await cli("compare", "a CEO", "--policies", "", "--out", tempDir()), /--policies: .*empty/);
    expectOneLineError(await cli("compare", "a CEO", "--policies", ",", "--out", tempDir()), /--policies: .*empty/);
  });

  it("parser errors are one line (no '(run with --help for usage)' after them)", async () => {
    for (const args of [["run", "--bogus"], ["frobnicate"], ["show"], ["run", "--policy", "nope"], ["run", "a", "b"]]) {
      const r = await cli(...args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
      expect(r.stderr).not.toContain("--help for usage");
    }
  });
});

describe("item 11: garbage in a config file is refused with one line", () => {
  const write = (text: string): string => {
    const p = join(tempDir(), "c.yaml");
    writeFileSync(p, text);
    return p;
  };

  it("a custom YAML tag", async () => {
    const cfg = write("prompt: !shout a CEO\nn: 4\n");
    expectOneLineError(await cli("run", "--config", cfg, "--out", tempDir(), "--no-progress"), /config file .*c\.yaml.*line 1.*tag "!shout"/);
  });

  it("duplicate taxonomy ids", async () => {
    const cfg = write(
      ["prompt: a CEO", "attributes: [mood]", "taxonomy:", "  attributes:", "    mood:", "      categories:", "        - id: calm", "        - id: tense", "        - id: Calm", ""].join("\n"),
    );
    expectOneLineError(await cli("run", "--config", cfg, "--out", tempDir(), "--no-progress"), /taxonomy: category "calm" of "mood" is listed twice/);
    const attrs = write(["prompt: a CEO", "taxonomy:", "  attributes:", "    mood:", "      categories: [{id: a}, {id: b}]", "    Mood:", "      categories: [{id: c}, {id: d}]", ""].join("\n"));
    expectOneLineError(await cli("run", "--config", attrs, "--out", tempDir(), "--no-progress"), /taxonomy: attribute "mood" is listed twice/);
  });
});

describe("item 10: joint weights are never silently ignored", () => {
  const target = (jointTarget: Record<string, Record<string, number>>, joint: string[][] | undefined): number[] => {
    const { target: t } = resolveRun({ prompt: "a CEO", n: 100, ...(joint ? { joint } : {}), jointTarget });
    return t.factors.find((f) => f.attributes.length > 1)!.q;
  };

  it("a key in another order than the joint is the same weights, cells reordered", () => {
    const inOrder = target({ "race,gender": { "black|female": 3, "white|male": 1 } }, [["race", "gender"]]);
    const swapped = target({ "gender,race": { "female|black": 3, "male|white": 1 } }, [["race", "gender"]]);
    expect(swapped).toEqual(inOrder);
    expect(Math.max(...swapped)).toBeCloseTo(0.75);
    expect(target({ "gender+race": { "female|black": 3, "male|white": 1 } }, [["race", "gender"]])).toEqual(inOrder);
  });

  it("an unknown group, no joint at all, or a key given twice is exit 2 with one line", async () => {
    const out = tempDir();
    const cfg = (text: string): string => {
      const p = join(tempDir(), "j.yaml");
      writeFileSync(p, text);
      return p;
    };
    expectOneLineError(
      await cli("run", "--config", cfg("prompt: a CEO\njoint: [[race, gender]]\njointTarget:\n  race,age:\n    black|young: 1\n"), "--out", out, "--no-progress"),
      /jointTarget "race,age": no joint target of these attributes \(joint: race\+gender\)/,
    );
    expectOneLineError(
      await cli("run", "--config", cfg("prompt: a CEO\njointTarget:\n  race,gender:\n    black|female: 1\n"), "--out", out, "--no-progress"),
      /jointTarget "race,gender": no joint target of these attributes \(joint: none\); add joint: \[\[race, gender\]\]/,
    );
    expectOneLineError(
      await cli("run", "--config", cfg("prompt: a CEO\njoint: [[race, gender]]\njointTarget:\n  race,gender:\n    black|female: 1\n  gender,race:\n    female|black: 2\n"), "--out", out, "--no-progress"),
      /jointTarget: "race,gender" and "gender,race" name the same joint target; give its weights once/,
    );
    expectOneLineError(
      await cli("run", "--config", cfg("prompt: a CEO\njoint: [[race, gender]]\njointTarget:\n  race,nope:\n    black|female: 1\n"), "--out", out, "--no-progress"),
      /unknown attribute in jointTarget "nope"/,
    );
    expect(readdirSync(out)).toEqual([]);
  });
});

describe("item 6: serve refuses bad settings with one line", () => {
  it("--port -1, --port 70000, --runs a file", async () => {
    expectOneLineError(await cli("serve", "--port", "-1"), /--port must be between 0 and 65535, got -1/);
    expectOneLineError(await cli("serve", "--port", "70000"), /--port must be between 0 and 65535, got 70000/);
    expectOneLineError(await cli("serve", "--port", "0", "--runs", "/etc/passwd"), /--runs \/etc\/passwd is not a folder/);
    expectOneLineError(await cli("serve", "--port", "0", "--experiments", "/etc/passwd"), /--experiments \/etc\/passwd is not a folder/);
  });
});

describe("item 10 in the dashboard's run form", () => {
  it("accepts a jointTarget key in another order and names the field of an unknown group", async () => {
    const { validateRunRequest } = await import("../../src/server/validate.js");
    const runs = tempDir();
    const swapped = validateRunRequest({ prompt: "a CEO", joint: [["race", "gender"]], jointTarget: { "gender,race": { "female|black": 1 } } }, runs);
    expect(swapped.ok).toBe(true);
    const unknown = validateRunRequest({ prompt: "a CEO", joint: [["race", "gender"]], jointTarget: { "race,age": { "black|young": 1 } } }, runs);
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.errors).toEqual([{ field: "jointTarget.race,age", message: expect.stringMatching(/no joint target of these attributes/) }]);
  });
});
