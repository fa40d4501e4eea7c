import { describe, expect, it } from "vitest";
import { run } from "../../src/api.js";
import { cli, tempDir } from "../cli/helpers.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";

describe("skin-tone as a checker of the sim's self-report", () => {
  it("reads from the pixels exactly what was rendered, so it catches the images the model rendered lighter than it reported", async () => {
    const out = tempDir();
    const { summary } = await run({ prompt: "a photo of the face of a nurse", attributes: ["race"], n: 60, seed: 8, checks: ["skin-tone"], out, concurrency: 1 });
    const events = readFileSync(join(summary.runDir, "events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; decision?: string; meta?: { truth?: { skin_tone?: string } }; selfReport?: { skin_tone?: string }[]; checks?: { persons: { labels: { skin_tone?: string } }[] }[] });
    const kept = events.filter((e) => e.type === "attempt" && e.decision === "kept");
    let lighter = 0;
    for (const e of kept) {
      const seen = e.checks![0]!.persons[0]!.labels.skin_tone;
      expect(seen).toBe(e.meta!.truth!.skin_tone);
      if (seen !== e.selfReport![0]!.skin_tone!.replace("Monk ", "monk_")) lighter++;
    }
    const g = summary.agreement.find((a) => a.attribute === "skin_tone" && a.checker === "skin-tone")!;
    expect(g.n).toBe(60);
    expect(g.n - g.agree).toBe(lighter);
    expect((await cli("show", summary.runDir)).stdout).toContain("Agreement on skin_tone: self-report vs skin-tone");
  });
});
