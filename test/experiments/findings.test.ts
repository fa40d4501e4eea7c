import { describe, expect, it } from "vitest";
import { crossAttributeEffects, summarizeCrossEffects } from "../../src/analysis/effects.js";
import { computeFindings } from "../../src/analysis/findings.js";
import { runConfig } from "./helpers.js";

/** The paper's study in miniature: 6 headlines, small N. */
const MINI_STUDY = {
  id: "mini-study",
  seed: 11,
  prompts: { set: "headlines", limit: 6, spread: true },
  settings: { concurrency: 1 },
  parts: [
    { id: "joint", policies: ["none", "eip", "quota", "debiaspi"], targets: ["race+gender"], n: 14 },
    { id: "race", policies: ["none", "debiaspi"], targets: ["race"], n: 28 },
    { id: "monk", policies: ["none", "debiaspi"], targets: ["skin_tone"], observers: ["self-report", "skin-tone"], n: 20 },
    { id: "trackers", policies: ["debiaspi"], targets: ["skin_tone"], observers: ["requested"], n: 20 },
  ],
};

describe("findings of the paper on sim", () => {
  it("states each finding with numbers and the verdict sim's design implies", async () => {
    const { outcome } = await runConfig(MINI_STUDY);
    const findings = outcome.input.findings!;
    const verdict = Object.fromEntries(findings.map((f) => [f.id, f.reproduced]));
    expect(verdict).toMatchObject({
      "joint-race-gender": "yes",
      "race-target-gender": "yes",
      "race-target-skin-tone": "yes",
      // sim draws age and body type independently of the requested race.
      "race-target-other": "no",
      "ablation-policies": "yes",
      trackers: "yes",
      "palest-skin-tones": "yes",
    });
    for (const f of findings) expect(f.evidence, f.id).toMatch(/\d\.\d{3}|\d+ %/);
    const trackers = findings.find((f) => f.id === "trackers")!.evidence;
    // Tracking the request believes the set is perfect; what was rendered says otherwise.
    expect(trackers).toMatch(/requested believed TV 0\.000, rendered TV 0\.[1-9]/);
    expect(trackers).toMatch(/skin-tone believed TV 0\.000, rendered TV 0\.000/);
  });

  it("says 'not measured' when the experiment has no runs for a finding", async () => {
    const { outcome } = await runConfig({ id: "only-none", seed: 2, prompts: { id: "x", prompts: ["A chef plates a dessert"] }, policies: ["none"], targets: ["gender"], n: 10 });
    const byId = Object.fromEntries(outcome.input.findings!.map((f) => [f.id, f]));
    expect(byId["joint-race-gender"]!.reproduced).toBe("not measured");
    expect(byId.trackers!.reproduced).toBe("not measured");
    expect(byId["palest-skin-tones"]!.reproduced).toBe("not measured");
    expect(byId["no-control-young-male"]!.evidence).toMatch(/Over 1 prompts without control/);
  });

  it("pairs each run with the none run of the same prompt for cross-attribute effects", async () => {
    const { outcome } = await runConfig({ id: "pairs", seed: 5, prompts: { set: "headlines", limit: 3 }, policies: ["none", "debiaspi"], targets: ["race"], n: 28, settings: { concurrency: 1 } });
    const effects = crossAttributeEffects(outcome.input.runs);
    const attrs = new Set(effects.map((e) => e.attribute));
    expect([...attrs].sort()).toEqual(["age", "body_type", "gender", "skin_tone"]);
    for (const e of effects) {
      const run = outcome.input.runs.find((r) => r.id === e.runId)!;
      const base = outcome.input.runs.find((r) => r.id === e.baselineId)!;
      expect(base.labels.policy).toBe("none");
      expect(base.labels.prompt).toBe(run.labels.prompt);
      expect(Object.values(e.shares).reduce((s, x) => s + x, 0)).toBeCloseTo(1, 9);
    }
    const rows = summarizeCrossEffects(effects);
    expect(rows.find((r) => r.attribute === "gender")!.pairs).toBe(3);
    expect(computeFindings(outcome.input.runs, effects).length).toBe(8);
  });
});
