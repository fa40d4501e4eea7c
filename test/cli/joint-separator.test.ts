import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { cli, tempDir } from "./helpers.js";

type Shown = { factors: { id: string; target: Record<string, number> }[]; attributes: Record<string, { observed: Record<string, number> }> };

describe("one separator for joint attributes: +, with the old , still read", () => {
  it("--joint race+gender and --joint race,gender make the same run", async () => {
    const runs: Shown[] = [];
    for (const joint of ["race+gender", "race,gender"]) {
      const r = await cli("run", "a CEO", "--joint", joint, "--n", "14", "--seed", "5", "--concurrency", "1", "--out", tempDir(), "--json", "--no-progress");
      expect(r.code, r.stderr).toBe(0);
      runs.push(JSON.parse(r.stdout) as Shown);
    }
    expect(runs[0]!.factors.map((f) => f.id)).toEqual(["race+gender"]);
    expect(runs[1]!.factors).toEqual(runs[0]!.factors);
    expect(runs[1]!.attributes).toEqual(runs[0]!.attributes);
  });

  it("jointTarget keys: race+gender and race,gender are the same key", async () => {
    const targets: Record<string, number>[] = [];
    for (const key of ["race+gender", "race,gender"]) {
      const dir = tempDir();
      const path = join(dir, "run.yaml");
      writeFileSync(path, stringify({ prompt: "a CEO", n: 6, seed: 1, joint: [["race", "gender"]], jointTarget: { [key]: { "black|female": 2, "white|male": 1 } }, out: dir }));
      const r = await cli("run", "--config", path, "--json", "--no-progress");
      expect(r.code, r.stderr).toBe(0);
      targets.push((JSON.parse(r.stdout) as Shown).factors[0]!.target);
    }
    expect(targets[0]!["black|female"]).toBeCloseTo(2 / 3, 10);
    expect(targets[1]).toEqual(targets[0]);
  });
});
