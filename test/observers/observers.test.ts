import { describe, expect, it } from "vitest";
import { builtinTaxonomy } from "../../src/core/taxonomy.js";
import { requestedObserver } from "../../src/observers/requested.js";
import { readFreeText, selfReportObserver } from "../../src/observers/self-report.js";

const tax = builtinTaxonomy();
const plain = { kind: "plain" } as const;

describe("self-report observer", () => {
  it("reads a structured report in the model's own words against the aliases", async () => {
    const obs = await selfReportObserver.observe(
      { result: { warnings: [], meta: {}, selfReport: [{ gender: "Woman", race: "African American", "skin tone": "Monk 8", age: "elderly", body_type: "martian" }] }, request: plain, prompt: "" },
      tax,
    );
    expect(obs.persons[0]!.labels).toEqual({ gender: "female", race: "black", skin_tone: "monk_8", age: "65+", body_type: null });
  });
  it("reads a revised prompt: one mention is known, two are unknown, none is absent", () => {
    const text = "A photo of the face of a middle-aged Korean woman with fair skin, standing beside a man";
    expect(readFreeText(text, tax).labels).toEqual({ gender: null, race: "east_asian", age: "45-64", skin_tone: "monk_3" });
  });
  it("falls back to the revised prompt and says when there is no report at all", async () => {
    const fromRevised = await selfReportObserver.observe({ result: { warnings: [], meta: {}, revisedPrompt: "an Indian man at a desk" }, request: plain, prompt: "" }, tax);
    expect(fromRevised.persons[0]!.labels).toMatchObject({ gender: "male", race: "indian" });
    const none = await selfReportObserver.observe({ result: { warnings: [], meta: {} }, request: plain, prompt: "" }, tax);
    expect(none.persons).toEqual([]);
    expect(none.note).toMatch(/no self-report/);
  });
});

describe("requested observer", () => {
  it("takes a direct request as the truth", async () => {
    const obs = await requestedObserver.observe({ result: { warnings: [], meta: {} }, request: { kind: "direct", cells: { gender: "male" } }, prompt: "" }, tax);
    expect(obs.persons[0]!.labels).toEqual({ gender: "male" });
  });
  it("knows only what all options of a choice share, and nothing of a plain prompt", async () => {
    const obs = await requestedObserver.observe(
      { result: { warnings: [], meta: {} }, request: { kind: "choice", options: [{ gender: "female", race: "black" }, { gender: "female", race: "white" }] }, prompt: "" },
      tax,
    );
    expect(obs.persons[0]!.labels).toEqual({ gender: "female", race: null });
    const none = await requestedObserver.observe({ result: { warnings: [], meta: {} }, request: plain, prompt: "" }, tax);
    expect(none.persons[0]!.labels).toEqual({});
  });
});
