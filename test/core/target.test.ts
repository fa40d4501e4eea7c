import { describe, expect, it } from "vitest";
import { apportion } from "../../src/core/apportion.js";
import { InputError } from "../../src/core/errors.js";
import { marginalTarget, resolveTarget } from "../../src/core/target.js";
import { applyTaxonomyPatch, builtinTaxonomy } from "../../src/core/taxonomy.js";

const tax = builtinTaxonomy();

describe("apportion (largest remainder)", () => {
  it("gives floor of quotas plus the largest remainders, summing to n", () => {
    // quotas 20 * [0.5, 0.3, 0.2] = 10, 6, 4 exactly
    expect(apportion([0.5, 0.3, 0.2], 20)).toEqual([10, 6, 4]);
    // 10 / 3 = 3.33 each; one seat left goes to the first in tie order
    expect(apportion([1, 1, 1], 10)).toEqual([4, 3, 3]);
    expect(apportion([1, 1, 1], 10, [2, 0, 1])).toEqual([3, 3, 4]);
    // quotas 7 * [0.45, 0.35, 0.2] = 3.15, 2.45, 1.4 -> floors 3,2,1 (6), one seat to the largest remainder .45
    expect(apportion([0.45, 0.35, 0.2], 7)).toEqual([3, 3, 1]);
  });
  it("never gives a seat to a zero weight", () => {
    expect(apportion([0, 1, 1], 5)).toEqual([0, 3, 2]);
  });
  it("rejects all-zero or negative weights", () => {
    expect(() => apportion([0, 0], 3)).toThrow(RangeError);
    expect(() => apportion([-1, 2], 3)).toThrow(RangeError);
  });
});

describe("resolveTarget", () => {
  it("defaults to uniform marginals and apportions N", () => {
    const t = resolveTarget(tax, { attributes: ["gender", "race"] }, 28);
    expect(t.factors.map((f) => f.id)).toEqual(["gender", "race"]);
    expect(t.factors[0]!.bins).toEqual([14, 14]);
    expect(t.factors[1]!.bins).toEqual([4, 4, 4, 4, 4, 4, 4]);
  });
  it("builds a joint factor whose cells are the product, weighted by the marginals", () => {
    const t = resolveTarget(tax, { attributes: [], joint: [["race", "gender"]], weights: { gender: { female: 3, male: 1 } } }, 56);
    expect(t.factors).toHaveLength(1);
    const f = t.factors[0]!;
    expect(f.cells).toHaveLength(14);
    expect(f.bins.reduce((a, b) => a + b, 0)).toBe(56);
    // 56 * (1/7) * (3/4) = 6 per female cell, 2 per male cell
    expect(f.bins.filter((_, i) => f.cells[i]![1] === "female")).toEqual([6, 6, 6, 6, 6, 6, 6]);
    expect(marginalTarget(tax, t, "gender")!.bins).toEqual([42, 14]);
  });
  it("takes explicit joint weights by cell", () => {
    const t = resolveTarget(tax, { attributes: [], joint: [["gender", "age"]], jointWeights: { "gender,age": { "female|18-29": 1, "male|65+": 1 } } }, 10);
    const f = t.factors[0]!;
    const bins = Object.fromEntries(f.cells.map((c, i) => [c.join("|"), f.bins[i]]));
    expect(bins["female|18-29"]).toBe(5);
    expect(bins["male|65+"]).toBe(5);
    expect(f.bins.reduce((a, b) => a + b, 0)).toBe(10);
  });
  it("accepts category aliases and labels in weights", () => {
    const t = resolveTarget(tax, { attributes: ["race"], weights: { race: { "East Asian": 1, Black: 1 } } }, 4);
    expect(t.factors[0]!.bins).toEqual([0, 2, 0, 2, 0, 0, 0]);
  });

  const bad: [string, () => unknown, RegExp][] = [
    ["unknown attribute", () => resolveTarget(tax, { attributes: ["religion"] }, 10), /unknown attribute "religion"; accepted: gender, race/],
    ["unknown category", () => resolveTarget(tax, { attributes: [], weights: { gender: { robot: 1 } } }, 10), /unknown category "robot" for attribute "gender"; accepted: female or male/],
    ["negative weight", () => resolveTarget(tax, { attributes: [], weights: { gender: { female: -1, male: 1 } } }, 10), /weight -1 is not accepted; weights are finite numbers >= 0/],
    ["all-zero weights", () => resolveTarget(tax, { attributes: [], weights: { gender: { female: 0, male: 0 } } }, 10), /all weights are zero/],
    ["N < 1", () => resolveTarget(tax, { attributes: ["gender"] }, 0), /N must be a whole number >= 1, got 0/],
    ["N absurd", () => resolveTarget(tax, { attributes: ["gender"] }, 10_000_000), /larger than the accepted maximum of 100000/],
    ["joint names an attribute twice", () => resolveTarget(tax, { attributes: [], joint: [["race", "race"]] }, 10), /names "race" twice/],
    ["attribute in two joints", () => resolveTarget(tax, { attributes: [], joint: [["race", "gender"], ["gender", "age"]] }, 10), /"gender" is in two joint targets/],
    ["profession without categories", () => resolveTarget(tax, { attributes: ["profession"] }, 10), /--professions/],
    ["no attribute at all", () => resolveTarget(tax, { attributes: [] }, 10), /no attribute to control/],
  ];
  for (const [name, fn, msg] of bad) {
    it(`rejects ${name} with an InputError saying what is accepted`, () => {
      expect(fn).toThrow(InputError);
      expect(fn).toThrow(msg);
    });
  }
});

describe("taxonomy patches", () => {
  it("adds categories, new attributes and professions without changing the built-in", () => {
    const patched = applyTaxonomyPatch(tax, {
      attributes: {
        gender: { categories: [{ id: "non_binary", phrase: "non-binary person", aliases: ["non-binary", "nonbinary"] }] },
        religion: { slot: "adjective", categories: [{ id: "muslim", label: "Muslim" }, { id: "christian", label: "Christian" }] },
      },
      professions: ["nurse", "software developer"],
    });
    expect(patched.attributes.find((a) => a.id === "gender")!.categories.map((c) => c.id)).toEqual(["female", "male", "non_binary"]);
    expect(patched.attributes.find((a) => a.id === "religion")!.categories).toHaveLength(2);
    expect(patched.attributes.find((a) => a.id === "profession")!.categories.map((c) => c.id)).toEqual(["nurse", "software_developer"]);
    expect(tax.attributes.find((a) => a.id === "gender")!.categories).toHaveLength(2);
    const t = resolveTarget(patched, { attributes: ["gender"] }, 9);
    expect(t.factors[0]!.bins).toEqual([3, 3, 3]);
  });
  it("rejects a new attribute with fewer than two categories", () => {
    expect(() => applyTaxonomyPatch(tax, { attributes: { x: { categories: [{ id: "a" }] } } })).toThrow(/needs at least two categories/);
  });
});
