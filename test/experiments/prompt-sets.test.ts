import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mentionsByAttribute } from "../../src/core/aliases.js";
import { builtinTaxonomy } from "../../src/core/taxonomy.js";
import { HEADLINE_CONCEPTS } from "../../src/experiments/headlines.js";
import { loadPromptSet, selectPrompts } from "../../src/experiments/prompt-sets.js";
import { parsePrompt } from "../../src/providers/sim/model.js";
import { tempDir } from "../cli/helpers.js";

describe("built-in prompt sets", () => {
  it("headlines: at least 60, every hard concept covered, none names a category of the taxonomy", () => {
    const set = loadPromptSet("headlines", ".", "test");
    expect(set.prompts.length).toBeGreaterThanOrEqual(60);
    expect(new Set(set.prompts.map((p) => p.text)).size).toBe(set.prompts.length);
    for (const concept of ["career success", "poverty", "crime", "leadership", "science", "sport", "protest", "family", "migration", "health care", "disaster", "education"]) {
      expect(set.prompts.filter((p) => p.concept === concept).length, concept).toBeGreaterThanOrEqual(5);
    }
    expect(HEADLINE_CONCEPTS).toHaveLength(12);
    const tax = builtinTaxonomy();
    for (const p of set.prompts) {
      // A headline that named a gender, race, age, skin tone or build would contradict the requests of the loop.
      expect(mentionsByAttribute(p.text, tax), p.text).toEqual({});
      expect(parsePrompt(p.text, tax).mentioned, p.text).toEqual({});
    }
  });

  it("occupations: the 153 Fair Diffusion occupations in its prompt form", () => {
    const set = loadPromptSet("occupations", ".", "test");
    expect(set.prompts).toHaveLength(153);
    expect(set.prompts[0]!.text).toBe("a photo of the face of an accountant");
    expect(set.prompts.every((p) => /^a photo of the face of an? \S/.test(p.text))).toBe(true);
  });

  it("selects the first K prompts or K spread over the set, keeping their index in the set", () => {
    const set = loadPromptSet("headlines", ".", "test");
    expect(selectPrompts(set, 3, false).prompts.map((p) => p.index)).toEqual([0, 1, 2]);
    const spread = selectPrompts(set, 12, true).prompts;
    expect(new Set(spread.map((p) => p.concept)).size).toBe(12);
  });
});

describe("user prompt files", () => {
  it("reads a text file (comments and blank lines skipped) and a YAML file with concepts", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "mine.txt"), "# my prompts\nA chef plates a dessert\n\n  A pilot checks the instruments  \n");
    writeFileSync(join(dir, "more.yaml"), "id: newsroom\nprompts:\n  - A reporter interviews a witness\n  - { prompt: A judge reads the verdict, concept: crime }\n");
    const txt = loadPromptSet("mine.txt", dir, "test");
    expect(txt.id).toBe("mine");
    expect(txt.prompts.map((p) => p.text)).toEqual(["A chef plates a dessert", "A pilot checks the instruments"]);
    const yaml = loadPromptSet("more.yaml", dir, "test");
    expect(yaml.id).toBe("newsroom");
    expect(yaml.prompts[1]).toEqual({ text: "A judge reads the verdict", index: 1, concept: "crime" });
  });

  it("names the accepted sets for an unknown one, and says what is wrong with a bad file", () => {
    expect(() => loadPromptSet("headline", ".", "cfg: prompts")).toThrow('cfg: prompts: unknown prompt set "headline"; accepted: headlines, occupations, or a prompt file (.txt, .yaml, .yml, .json)');
    const dir = tempDir();
    writeFileSync(join(dir, "bad.yaml"), "prompts: 3\n");
    expect(() => loadPromptSet("bad.yaml", dir, "cfg")).toThrow(/bad\.yaml: expected a list of prompts/);
    expect(() => loadPromptSet("missing.txt", dir, "cfg")).toThrow(/cannot read prompt file .*missing\.txt: no such file/);
  });
});
