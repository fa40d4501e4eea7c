import { describe, expect, it } from "vitest";
import { run } from "../../src/api.js";
import { resolveTarget } from "../../src/core/target.js";
import { builtinTaxonomy, findAttribute, withGenderPreset } from "../../src/core/taxonomy.js";
import { cli, tempDir } from "../cli/helpers.js";

describe("gender categories presets", () => {
  it("binary is the built-in taxonomy; non-binary adds non_binary; inclusive adds non_binary and cant_tell", () => {
    const ids = (p: "binary" | "non-binary" | "inclusive") => findAttribute(withGenderPreset(builtinTaxonomy(), p), "gender")!.categories.map((c) => c.id);
    expect(ids("binary")).toEqual(["female", "male"]);
    expect(ids("non-binary")).toEqual(["female", "male", "non_binary"]);
    expect(ids("inclusive")).toEqual(["female", "male", "non_binary", "cant_tell"]);
    expect(findAttribute(builtinTaxonomy(), "gender")!.categories).toHaveLength(2); // the input is not changed
  });

  it("can't tell is observed, never requested: weight 0 in a uniform target, a weight for it refused", () => {
    const tax = withGenderPreset(builtinTaxonomy(), "inclusive");
    const t = resolveTarget(tax, { attributes: ["gender"] }, 30);
    expect(t.factors[0]!.bins).toEqual([10, 10, 10, 0]);
    expect(() => resolveTarget(tax, { attributes: ["gender"], weights: { gender: { cant_tell: 1, female: 1 } } }, 10)).toThrow(/"Can't tell" is observed, never requested/);
  });

  it("a run with inclusive categories: sim draws some people nobody can tell (set apart), the bins are met", async () => {
    const { summary } = await run({ prompt: "a portrait photo of a person", n: 30, attributes: ["gender"], genderCategories: "inclusive", seed: 9, concurrency: 1, sim: { render: false } }, { inMemory: true });
    expect(summary.status).toBe("complete");
    expect(summary.attributes.gender!.observed).toMatchObject({ female: 10, male: 10, non_binary: 10 });
    expect(summary.attributes.gender!.observed.cant_tell ?? 0).toBe(0); // never kept: a can't-tell image fills no bin
    // Unrequested, about 12 % of people are drawn as can't tell (an assumption of sim).
    const race = await run({ prompt: "a portrait photo of a person", n: 100, attributes: ["race"], genderCategories: "inclusive", seed: 9, concurrency: 1, sim: { render: false } }, { inMemory: true });
    const g = race.summary.attributes.gender!.observed;
    expect(g.cant_tell).toBeGreaterThan(4);
    expect(g.cant_tell).toBeLessThan(25);
  });

  it("the flag takes only the presets (exit 2, one line naming the choices)", async () => {
    const r = await cli("run", "a nurse", "--gender-categories", "all", "--out", tempDir());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--gender-categories: must be one of "binary", "non-binary", "inclusive"/);
  });
});
