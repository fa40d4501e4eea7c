import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { Tally } from "../../src/core/tally.js";
import { resolveTarget } from "../../src/core/target.js";
import { builtinTaxonomy } from "../../src/core/taxonomy.js";
import { createPolicy } from "../../src/policies/index.js";

const tax = builtinTaxonomy();
const opts = { mode: "direct" as const, subgroup: 0, order: "deficit" as const };

describe("debiaspi policy", () => {
  it("asks for the cell with the largest deficit, counting pending requests", () => {
    const target = resolveTarget(tax, { attributes: ["age"], weights: { age: { "18-29": 1, "30-44": 3 } } }, 8);
    const tally = new Tally(target); // bins 2 and 6
    const policy = createPolicy({ policy: "debiaspi", ...opts }, target, 1);
    const ask = () => policy.next({ target, tally, rng: new Rng(1), keepRate: 1 });
    expect(ask()).toEqual({ kind: "direct", cells: { age: "30-44" } });
    for (let k = 0; k < 4; k++) tally.add({ age: "30-44" });
    tally.changePending({ age: "30-44" }, 1);
    // 30-44: 6 - 4 - 1 pending = 1 left; 18-29: 2 left.
    expect(ask()).toEqual({ kind: "direct", cells: { age: "18-29" } });
  });
  it("never asks for a full bin", () => {
    const target = resolveTarget(tax, { attributes: ["gender"] }, 2);
    const tally = new Tally(target);
    tally.add({ gender: "female" });
    const policy = createPolicy({ policy: "debiaspi", ...opts }, target, 1);
    for (let s = 0; s < 20; s++) expect(policy.next({ target, tally, rng: new Rng(s), keepRate: 1 })).toEqual({ kind: "direct", cells: { gender: "male" } });
  });
  it("in choice mode offers the open cells, at most k of them, largest deficit first", () => {
    const target = resolveTarget(tax, { attributes: ["race"], weights: { race: { white: 1, black: 3, indian: 2, east_asian: 2 } } }, 8);
    const tally = new Tally(target);
    const policy = createPolicy({ policy: "debiaspi", mode: "choice", subgroup: 2, order: "deficit" }, target, 1);
    const req = policy.next({ target, tally, rng: new Rng(1), keepRate: 1 });
    expect(req.kind).toBe("choice");
    if (req.kind !== "choice") return;
    expect(req.options).toHaveLength(2);
    expect(req.options[0]).toEqual({ race: "black" });
    expect(["indian", "east_asian"]).toContain(req.options[1]!.race);
  });
});

describe("debiaspi effort order", () => {
  it("asks first for the cell the model has been honouring least, at equal deficit", () => {
    const target = resolveTarget(tax, { attributes: ["skin_tone"], weights: { skin_tone: { monk_1: 1, monk_6: 1 } } }, 10);
    const tally = new Tally(target);
    const effort = createPolicy({ policy: "debiaspi", mode: "direct", subgroup: 0, order: "effort" }, target, 1);
    const deficit = createPolicy({ policy: "debiaspi", mode: "direct", subgroup: 0, order: "deficit" }, target, 1);
    // monk_1 asked 4 times, honoured once; monk_6 asked 4 times, honoured 4 times.
    for (const [asked, got] of [["monk_1", "monk_1"], ["monk_1", "monk_4"], ["monk_1", "monk_3"], ["monk_1", "monk_4"], ["monk_6", "monk_6"], ["monk_6", "monk_6"], ["monk_6", "monk_6"], ["monk_6", "monk_6"]] as const) {
      for (const p of [effort, deficit]) p.settle?.({ kind: "direct", cells: { skin_tone: asked } }, { produced: true, labels: { skin_tone: got } });
    }
    tally.add({ skin_tone: "monk_1" });
    tally.add({ skin_tone: "monk_6" });
    tally.add({ skin_tone: "monk_6" });
    // Deficits: monk_1 4, monk_6 3. Effort: 4 / (2/6) = 12 against 3 / (5/6) = 3.6.
    for (let s = 0; s < 10; s++) {
      expect(effort.next({ target, tally, rng: new Rng(s), keepRate: 1 })).toEqual({ kind: "direct", cells: { skin_tone: "monk_1" } });
    }
    tally.add({ skin_tone: "monk_1" });
    tally.add({ skin_tone: "monk_1" }); // deficits now monk_1 2, monk_6 3
    expect(deficit.next({ target, tally, rng: new Rng(1), keepRate: 1 })).toEqual({ kind: "direct", cells: { skin_tone: "monk_6" } });
    // Effort: 2 / (2/6) = 6 against 3.6: still the pale tone first.
    expect(effort.next({ target, tally, rng: new Rng(1), keepRate: 1 })).toEqual({ kind: "direct", cells: { skin_tone: "monk_1" } });
  });
});

describe("ablation policies", () => {
  const target = resolveTarget(tax, { attributes: ["gender"], weights: { gender: { female: 3, male: 1 } } }, 8);
  const tally = new Tally(target);
  it("none leaves the prompt alone and eip names the controlled attributes", () => {
    expect(createPolicy({ policy: "none", ...opts }, target, 1).next({ target, tally, rng: new Rng(1), keepRate: 1 })).toEqual({ kind: "plain" });
    expect(createPolicy({ policy: "eip", ...opts }, target, 1).next({ target, tally, rng: new Rng(1), keepRate: 1 })).toEqual({ kind: "eip", attributes: ["gender"] });
  });
  it("random draws categories i.i.d. from the target, whatever was generated", () => {
    const policy = createPolicy({ policy: "random", ...opts }, target, 1);
    let female = 0;
    for (let s = 0; s < 4000; s++) {
      const r = policy.next({ target, tally, rng: new Rng(s), keepRate: 1 });
      if (r.kind === "direct" && r.cells.gender === "female") female++;
    }
    expect(Math.abs(female / 4000 - 0.75)).toBeLessThan(0.025);
  });
  it("quota deals out exactly the bins, in a seeded shuffled order", () => {
    const deal = (seed: number) => {
      const policy = createPolicy({ policy: "quota", ...opts }, target, seed);
      return Array.from({ length: 8 }, () => {
        const r = policy.next({ target, tally, rng: new Rng(0), keepRate: 1 });
        return r.kind === "direct" ? r.cells.gender : "?";
      });
    };
    expect(deal(1).filter((g) => g === "female")).toHaveLength(6);
    expect(deal(1)).toEqual(deal(1));
    expect([2, 3, 4, 5].some((s) => deal(s).join() !== deal(1).join())).toBe(true);
  });
});
