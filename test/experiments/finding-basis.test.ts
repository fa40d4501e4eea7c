import { describe, expect, it } from "vitest";
import { verdictLabel, withBasis } from "../../src/analysis/finding-basis.js";
import { findingsMatrix, formatFindings } from "../../src/analysis/findings.js";
import { readFileSync } from "node:fs";
import { buildReport } from "../../src/report/html/build.js";
import type { Finding } from "../../src/analysis/model.js";
import { runConfig } from "./helpers.js";

const f = (id: string, reproduced: Finding["reproduced"] = "yes"): Finding => ({ id, claim: "c", reproduced, evidence: "e" });

describe("findings say what they are", () => {
  it("on sim: demonstrated, naming the parameter that encodes the effect and that it is assumed", () => {
    const g = withBasis(f("race-target-gender"), "sim");
    expect(g.basis).toBe("simulated");
    expect(g.wording).toMatch(/^demonstrated on the simulated model sim \(sim:sd15\), whose parameter encodes this effect: instructionGenderPull \(0\.5\), assumed; this is not evidence about a real model$/);
    expect(g.wording).not.toMatch(/reproduced/);
    expect(verdictLabel(g)).toBe("demonstrated on sim");
    expect(verdictLabel(withBasis(f("palest-skin-tones", "no"), "sim"))).toBe("not shown on sim");
    expect(withBasis(f("race-target-other", "no"), "sim:dall-e-3").wording).toMatch(/no parameter .* encodes this effect, so sim cannot show it/);
  });

  it("a measured profile may say reproduced, with the source; an assumed parameter keeps it demonstrated", () => {
    const joint = withBasis(f("joint-race-gender"), "sim:sd35");
    expect(joint.basis).toBe("measured-profile");
    expect(joint.wording).toMatch(/^reproduced on the profile sim:sd35 of Stable Diffusion 3\.5 Large Turbo/);
    expect(joint.wording).toMatch(/Source: data\/real-models\/sd35-counts\.csv/);
    expect(joint.wording).toMatch(/east_asian: 40 of 40 images without a profession/); // "Asian" requests honoured
    // DALL-E 3's profile measured 5 occupations, not the headlines' priors, and not its compliance.
    const dalle = withBasis(f("joint-race-gender"), "sim:dall-e-3");
    expect(dalle.basis).toBe("simulated");
    expect(dalle.wording).toMatch(/prior\.race \(white 0\.0481.*\), assumed; compliance\.categories\.race \(0\.9 for every category\), assumed/);
  });

  it("a real provider says reproduced on that provider", () => {
    const r = withBasis(f("trackers", "partly"), "openai:dall-e-3");
    expect(r.basis).toBe("real");
    expect(verdictLabel(r)).toBe("partly reproduced");
    expect(r.wording).toBe("partly reproduced on openai:dall-e-3, a real model");
  });

  it("the paper study on two profiles: findings per profile, a table of which holds where, rendered TV beside believed", async () => {
    const { outcome } = await runConfig({
      id: "two-profiles",
      seed: 4,
      prompts: { set: "headlines", limit: 2 },
      providers: ["sim", "sim:sdxl-turbo"],
      settings: { concurrency: 1 },
      parts: [
        { id: "joint", policies: ["none", "debiaspi"], targets: ["race+gender"], n: 14 },
        { id: "trackers", policies: ["debiaspi"], targets: ["race+gender"], observers: ["requested", "self-report"], n: 14 },
      ],
    });
    const findings = outcome.input.findings!;
    expect(new Set(findings.map((x) => x.provider))).toEqual(new Set(["sim", "sim:sdxl-turbo"]));
    for (const x of findings) expect(x.wording, x.id).toBeDefined();
    const m = findingsMatrix(findings);
    expect(m.providers).toEqual(["sim", "sim:sdxl-turbo"]);
    expect(m.rows.find((r) => r.id === "joint-race-gender")!.verdicts.every((v) => /on sim|not measured/.test(v))).toBe(true);
    expect(formatFindings(findings)).toMatch(/Which finding holds on which provider:\n {2}joint-race-gender: sim .* \| sim:sdxl-turbo /);
    const built = await buildReport(outcome.input, { thumbnails: false });
    const html = readFileSync(built.file, "utf8");
    expect(html).toContain("Which finding holds on which provider");
    expect(html).toContain("mean TV (rendered)");
    expect(html).not.toMatch(/class="badge v-yes">reproduced</);
  });
});
