import { describe, expect, it } from "vitest";
import { wilsonInterval } from "../../src/core/metrics.js";
import { Rng } from "../../src/core/rng.js";
import { builtinTaxonomy, withGenderPreset } from "../../src/core/taxonomy.js";
import { createProvider } from "../../src/providers/index.js";
import { SimModel } from "../../src/providers/sim/model.js";
import { mergeSimParams, SIM_DEFAULTS } from "../../src/providers/sim/params.js";
import { allProfiles, getProfile, profileIds, profileParams, type SimProfile } from "../../src/providers/sim/profiles/index.js";
import { cli } from "../cli/helpers.js";

const DRAWS = 1000;

function modelOf(p: SimProfile): SimModel {
  const tax = withGenderPreset(builtinTaxonomy(), p.genderCategories);
  return new SimModel(tax, mergeSimParams(profileParams(p.id), { render: false }), p.id);
}

/** Counts of what the profile draws for a prompt over seeds 0..DRAWS-1. */
function draw(model: SimModel, prompt: string, attr: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (let s = 0; s < DRAWS; s++) {
    const got = model.drawPerson(prompt, new Rng(s)).intended[attr] ?? "?";
    out[got] = (out[got] ?? 0) + 1;
  }
  return out;
}

describe("sim profiles", () => {
  it("lists the eight profiles, sd15 first", () => {
    expect(profileIds()).toEqual(["sd15", "sd35", "dall-e-3", "imagen-4", "flux-dev", "grok-2", "sdxl-turbo", "midjourney"]);
  });

  it("marks every parameter measured (with source and count) or assumed (with a reason)", () => {
    for (const p of allProfiles()) {
      expect(p.provenance.length).toBeGreaterThan(3);
      for (const e of p.provenance) {
        expect(e.source.length, `${p.id} ${e.parameter}`).toBeGreaterThan(0);
        if (e.kind === "measured") expect(e.count, `${p.id} ${e.parameter}`).toMatch(/\d/);
      }
      expect(p.provenance.some((e) => e.kind === "measured")).toBe(true);
    }
  });

  it("providers --json lists the profiles with every parameter's provenance and the list price", async () => {
    const r = await cli("providers", "--json");
    expect(r.code).toBe(0);
    const sim = (JSON.parse(r.stdout) as { name: string; profiles?: { id: string; listPriceUsd: number | null; measured: number; parameters: { kind: string }[] }[] }[]).find((p) => p.name === "sim")!;
    expect(sim.profiles!.map((p) => p.id)).toEqual(profileIds());
    const dalle = sim.profiles!.find((p) => p.id === "dall-e-3")!;
    expect(dalle.listPriceUsd).toBe(0.04);
    expect(dalle.measured).toBe(20); // 5 occupations x 2 settings x (gender, race)
    expect(sim.profiles!.find((p) => p.id === "midjourney")!.listPriceUsd).toBeNull();
  });

  it("sd15 is today's defaults, exactly", () => {
    expect(profileParams("sd15")).toBe(SIM_DEFAULTS);
  });

  it("refuses an unknown profile with one line listing the profiles", () => {
    expect(() => getProfile("sd99")).toThrow(/sim has no profile "sd99"; accepted: .*sd15.*sd35.*midjourney/);
    expect(() => createProvider("sim:dalle3", { taxonomy: builtinTaxonomy(), sim: {} })).toThrow(/accepted: .*dall-e-3/);
  });

  it("sim:PROFILE records the profile in each image's meta", async () => {
    const p = createProvider("sim:sd35", { taxonomy: builtinTaxonomy(), sim: { render: false } });
    const r = await p.generate({ prompt: "a nurse", seed: 1 });
    expect(r.meta.model).toBe("sim:sd35");
    const plain = await createProvider("sim", { taxonomy: builtinTaxonomy(), sim: { render: false } }).generate({ prompt: "a nurse", seed: 1 });
    expect(plain.meta.model).toBe("sim");
  });

  for (const profile of allProfiles()) {
    describe(`${profile.id}: lands inside the Wilson 95 % interval of its source`, () => {
      const model = modelOf(profile);
      for (const check of profile.checks) {
        it(`${check.kind}: ${check.what} (${check.attribute})`, () => {
          const got = draw(model, check.prompt, check.attribute);
          if (check.kind === "plain") {
            const cats = Object.keys(check.counts);
            const total = cats.reduce((s, c) => s + check.counts[c]!, 0);
            const inCats = cats.reduce((s, c) => s + (got[c] ?? 0), 0);
            expect(inCats).toBeGreaterThan(DRAWS / 2);
            for (const c of cats) {
              const ci = wilsonInterval(check.counts[c]!, total);
              const share = (got[c] ?? 0) / inCats;
              expect(share, `${c}: ${share.toFixed(3)} vs ${check.counts[c]} of ${total} [${ci.low.toFixed(3)}, ${ci.high.toFixed(3)}]`).toBeGreaterThanOrEqual(ci.low);
              expect(share, `${c}: ${share.toFixed(3)} vs ${check.counts[c]} of ${total}`).toBeLessThanOrEqual(ci.high);
            }
          } else {
            const ci = wilsonInterval(check.honoured, check.of);
            const share = (got[check.requested] ?? 0) / DRAWS;
            expect(share, `${check.requested}: ${share.toFixed(3)} vs ${check.honoured} of ${check.of} [${ci.low.toFixed(3)}, ${ci.high.toFixed(3)}]`).toBeGreaterThanOrEqual(ci.low);
            expect(share).toBeLessThanOrEqual(ci.high);
          }
        });
      }
    });
  }

  it("sd35 knows its non-binary measurements: 0.44 bare, near 0 with a profession", () => {
    const model = modelOf(getProfile("sd35"));
    const bare = draw(model, "Generate a photo of a non-binary person at their job.", "gender");
    const withJob = draw(model, "Generate a photo of a non-binary nurse at their job.", "gender");
    expect((bare.non_binary ?? 0) / DRAWS).toBeGreaterThan(0.35);
    expect((bare.non_binary ?? 0) / DRAWS).toBeLessThan(0.55);
    expect((withJob.non_binary ?? 0) / DRAWS).toBeLessThan(0.02);
    // What it drew instead was mostly women (137 of 148 unhonoured requests).
    expect((withJob.female ?? 0) / DRAWS).toBeGreaterThan(0.8);
  });

  it("the checks can fail: sd15 lands outside most of SDXL-Turbo's intervals", () => {
    const sd15 = modelOf(getProfile("sd15"));
    let outside = 0;
    const checks = getProfile("sdxl-turbo").checks.filter((c) => c.kind === "plain");
    for (const c of checks) {
      if (c.kind !== "plain") continue;
      const got = draw(sd15, c.prompt, c.attribute);
      const cats = Object.keys(c.counts);
      const total = cats.reduce((s, k) => s + c.counts[k]!, 0);
      const inCats = cats.reduce((s, k) => s + (got[k] ?? 0), 0);
      if (cats.some((k) => {
        const ci = wilsonInterval(c.counts[k]!, total);
        const share = (got[k] ?? 0) / inCats;
        return share < ci.low || share > ci.high;
      })) outside++;
    }
    expect(outside).toBeGreaterThan(checks.length / 2);
  });

  it("a profile differs from sd15 where its source does (SDXL-Turbo draws 10 of 10 nurses female, athletes Black)", () => {
    const sdxl = modelOf(getProfile("sdxl-turbo"));
    const sd15 = modelOf(getProfile("sd15"));
    const a = draw(sdxl, "An athlete running in a stadium", "race");
    const b = draw(sd15, "An athlete running in a stadium", "race");
    expect((a.black ?? 0) / DRAWS).toBeGreaterThan(0.7);
    expect((b.black ?? 0) / DRAWS).toBeLessThan(0.2);
  });
});
