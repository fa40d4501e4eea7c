import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { planFromFile } from "../../src/experiments/config.js";
import { packageRoot } from "../../src/util/paths.js";

const studies = join(packageRoot(), "studies");

describe("the ready study configs", () => {
  it("are valid and plan their cells (the real-provider one with a placeholder key: planning calls no API)", () => {
    const files = readdirSync(studies).filter((f) => f.endsWith(".yaml"));
    expect(files).toEqual(expect.arrayContaining(["debiaspi-paper.yaml", "debiaspi-paper-real.yaml", "tiny.yaml"]));
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = "sk-placeholder-for-planning";
    try {
      for (const f of files) expect(planFromFile(join(studies, f)).cells.length, f).toBeGreaterThan(0);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });

  it("the paper's study covers (a) joint race x gender on every headline, (b) race alone, (c) every policy and tracker, (d) the Monk scale", () => {
    const plan = planFromFile(join(studies, "debiaspi-paper.yaml"));
    const cells = plan.cells;
    const where = (part: string) => cells.filter((c) => c.labels.part === part);
    expect(new Set(where("joint").map((c) => c.labels.prompt)).size).toBeGreaterThanOrEqual(60);
    expect(new Set(where("joint").map((c) => c.labels.policy))).toEqual(new Set(["none", "eip", "random", "quota", "debiaspi"]));
    expect(new Set(where("race").map((c) => c.labels.target))).toEqual(new Set(["race"]));
    expect(new Set(cells.filter((c) => c.labels.target === "skin_tone").map((c) => c.labels.observer))).toEqual(new Set(["self-report", "skin-tone", "requested"]));
    expect(cells.every((c) => c.labels.provider === "sim" && c.settings.concurrency === 1)).toBe(true);
  });
});
