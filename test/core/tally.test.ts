import { describe, expect, it } from "vitest";
import { mentionedCategories, readLabel } from "../../src/core/aliases.js";
import { Tally } from "../../src/core/tally.js";
import { resolveTarget } from "../../src/core/target.js";
import { builtinTaxonomy, getAttribute } from "../../src/core/taxonomy.js";

const tax = builtinTaxonomy();

describe("Tally", () => {
  const target = resolveTarget(tax, { attributes: ["gender"], joint: [["race", "age"]] }, 2);
  it("counts kept labels per factor and knows when a bin is full", () => {
    const t = new Tally(resolveTarget(tax, { attributes: ["gender"] }, 2));
    expect(t.fits({ gender: "female" })).toBe(true);
    t.add({ gender: "female" });
    expect(t.fits({ gender: "female" })).toBe(false);
    expect(t.fits({ gender: null })).toBe(false);
    expect(t.complete()).toBe(false);
    t.add({ gender: "male" });
    expect(t.complete()).toBe(true);
    expect(t.snapshot()).toEqual({ gender: { female: 1, male: 1 } });
  });
  it("finds joint cells and treats a missing label as unknown", () => {
    const t = new Tally(target);
    expect(t.cellOf(1, { race: "black", age: "30-44" })).toBeGreaterThanOrEqual(0);
    expect(t.cellOf(1, { race: "black" })).toBe(-1);
    expect(t.cellOf(1, { race: "martian", age: "30-44" })).toBe(-1);
  });
  it("tracks pending requests per cell", () => {
    const t = new Tally(resolveTarget(tax, { attributes: ["gender"] }, 4));
    t.changePending({ gender: "male" }, 1);
    t.changePending({ gender: "male" }, 1);
    expect(t.pending[0]).toEqual([0, 2]);
    t.changePending({ gender: "male" }, -1);
    expect(t.pending[0]).toEqual([0, 1]);
  });
});

describe("aliases", () => {
  const race = getAttribute(tax, "race");
  const skin = getAttribute(tax, "skin_tone");
  const gender = getAttribute(tax, "gender");
  it("reads labels, ids and aliases", () => {
    expect(readLabel(race, "East Asian")?.id).toBe("east_asian");
    expect(readLabel(race, "African-American")?.id).toBe("black");
    expect(readLabel(gender, "Woman")?.id).toBe("female");
    expect(readLabel(skin, "Monk 10")?.id).toBe("monk_10");
    expect(readLabel(race, "Asian")).toBeNull();
  });
  it("finds mentions on word boundaries, longest first", () => {
    expect(mentionedCategories("a woman with very dark brown skin", skin).map((c) => c.id)).toEqual(["monk_9"]);
    expect(mentionedCategories("a woman and a man", gender).map((c) => c.id)).toEqual(["female", "male"]);
    expect(mentionedCategories("a chairwoman", gender)).toEqual([]);
    expect(mentionedCategories("Monk 1 and monk 10", skin).map((c) => c.id)).toEqual(["monk_1", "monk_10"]);
  });
});

describe("pronouns", () => {
  it("are not read as a gender: a prompt about 'her patient' requests no one", () => {
    const gender = getAttribute(tax, "gender");
    expect(mentionedCategories("Nurse comforts her patient after his surgery", gender)).toEqual([]);
  });
});
