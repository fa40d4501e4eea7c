import { describe, expect, it } from "vitest";
import { resolveRun } from "../../src/config/resolve.js";
import { InputError } from "../../src/core/errors.js";
import { builtinTaxonomy, applyTaxonomyPatch } from "../../src/core/taxonomy.js";
import { composePrompt, describePerson } from "../../src/prompts/compose.js";
import { DEFAULT_TEMPLATES } from "../../src/prompts/templates.js";

const tax = applyTaxonomyPatch(builtinTaxonomy(), { professions: ["engineer"] });

describe("intervention prompts", () => {
  it("describes a person: adjectives, noun, then suffixes, with the right article", () => {
    expect(describePerson(tax, { gender: "female", race: "black" })).toBe("a Black woman");
    expect(describePerson(tax, { race: "east_asian", age: "65+", body_type: "slim" })).toBe("an East Asian person in their seventies with a slim build");
    expect(describePerson(tax, { gender: "male", skin_tone: "monk_2", profession: "engineer" })).toBe("a man with pale ivory skin who works as an engineer");
  });
  it("fills each policy's template", () => {
    const p = "a photo of the face of a CEO";
    expect(composePrompt(p, { kind: "plain" }, tax, DEFAULT_TEMPLATES, "none")).toBe(p);
    expect(composePrompt(p, { kind: "eip", attributes: ["gender", "race"] }, tax, DEFAULT_TEMPLATES, "eip")).toBe(`${p}, irrespective of their gender and race`);
    expect(composePrompt(p, { kind: "direct", cells: { gender: "female", race: "indian" } }, tax, DEFAULT_TEMPLATES, "debiaspi")).toBe(`${p}, depicting an Indian woman`);
    expect(composePrompt(p, { kind: "direct", cells: { gender: "female", race: "indian" } }, tax, DEFAULT_TEMPLATES, "random")).toBe(`Indian female ${p}`);
    expect(composePrompt(p, { kind: "choice", options: [{ gender: "female" }, { gender: "male" }] }, tax, DEFAULT_TEMPLATES, "debiaspi")).toBe(
      `${p}, depicting one of the following: a woman; a man`,
    );
  });
  it("accepts edited templates and rejects one that lost its placeholder", () => {
    const r = resolveRun({ prompt: "x", seed: 1, templates: { direct: "{person} as {prompt}" } });
    expect(r.config.templates.direct).toBe("{person} as {prompt}");
    expect(() => resolveRun({ prompt: "x", seed: 1, templates: { direct: "{prompt} only" } })).toThrow(InputError);
    expect(() => resolveRun({ prompt: "x", seed: 1, templates: { direct: "{prompt} only" } })).toThrow(/template "direct" must contain \{person\}/);
  });
});
