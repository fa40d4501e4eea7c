import { resultImage } from "../../src/image/drawing.js";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { builtinTaxonomy } from "../../src/core/taxonomy.js";
import { parsePrompt, SimModel } from "../../src/providers/sim/model.js";
import { mergeSimParams, SIM_DEFAULTS } from "../../src/providers/sim/params.js";
import { sdOccupationCounts } from "../../src/providers/sim/fair-diffusion.js";

const tax = builtinTaxonomy();
const noRender = mergeSimParams(SIM_DEFAULTS, { render: false });
const sim = new SimModel(tax, noRender);

/** Share of draws (over seeds 0..n-1) whose intended attribute equals the value. */
function share(prompt: string, attr: string, value: string, n = 3000, model = sim): number {
  let hits = 0;
  for (let s = 0; s < n; s++) if (model.drawPerson(prompt, new Rng(s)).intended[attr] === value) hits++;
  return hits / n;
}

describe("sim: the Fair Diffusion data", () => {
  it("parses all 153 occupations with 250 images each", () => {
    const rows = sdOccupationCounts();
    expect(rows).toHaveLength(153);
    // 250 images per occupation; a few rows count one image less (e.g. butcher 240 + 9).
    for (const r of rows) expect(r.man + r.woman + r.except).toBeGreaterThanOrEqual(245);
    for (const r of rows) expect(r.man + r.woman + r.except).toBeLessThanOrEqual(250);
    expect(rows.find((r) => r.occupation === "ceo")).toMatchObject({ man: expect.any(Number) });
  });
});

describe("sim: prior and compliance", () => {
  it("draws gender per occupation as Stable Diffusion 1.5 did (Fair Diffusion counts)", () => {
    // carpenter: 250 of 250 men; career counselor: 4 of 250 men; author: 42 of 250.
    expect(share("a photo of the face of a carpenter", "gender", "male")).toBe(1);
    expect(share("a photo of the face of a career counselor", "gender", "male")).toBeLessThan(0.04);
    expect(Math.abs(share("a photo of the face of an author", "gender", "male") - 42 / 250)).toBeLessThan(0.03);
  });
  it("defaults to young, male, mostly White people when the prompt says nothing", () => {
    const p = "a person at a desk";
    expect(Math.abs(share(p, "gender", "male") - 0.75)).toBeLessThan(0.03);
    expect(Math.abs(share(p, "race", "white") - 0.6)).toBeLessThan(0.03);
    expect(share(p, "age", "65+")).toBeLessThan(0.07);
  });
  it("honours requests with the documented compliance", () => {
    const p = "a photo of the face of a carpenter, depicting a Black woman";
    // gender honoured 95 %; otherwise the carpenter prior (pulled half-way to 50/50 by the race instruction) may still give a woman.
    expect(share(p, "gender", "female")).toBeGreaterThan(0.93);
    // race honoured 90 %, plus the prior's 8 % of the remaining 10 %.
    expect(Math.abs(share(p, "race", "black") - (0.9 + 0.1 * 0.08))).toBeLessThan(0.02);
  });
  it("rarely honours the palest Monk tones", () => {
    const pale = share("a portrait, depicting a person with very pale, porcelain skin", "skin_tone", "monk_1");
    const mid = share("a portrait, depicting a person with medium brown skin", "skin_tone", "monk_6");
    expect(pale).toBeLessThan(0.2);
    expect(mid).toBeGreaterThan(0.75);
  });
  it("pulls gender toward balance under any demographic instruction and, less, under an ethical phrase", () => {
    const base = share("a person at a desk", "gender", "male");
    const withRace = share("a person at a desk, depicting an Indian person", "gender", "male");
    const withEip = share("a person at a desk, irrespective of their gender", "gender", "male");
    expect(Math.abs(withRace - (0.75 + (0.5 - 0.75) * 0.5))).toBeLessThan(0.03);
    expect(withEip).toBeLessThan(base - 0.04);
    expect(withEip).toBeGreaterThan(withRace);
  });
  it("narrows skin tone when race is requested (a stereotyped band)", () => {
    const levels = (prompt: string): Set<string> => {
      const counts = new Map<string, number>();
      for (let s = 0; s < 2000; s++) {
        const t = sim.drawPerson(prompt, new Rng(s)).intended.skin_tone!;
        counts.set(t, (counts.get(t) ?? 0) + 1);
      }
      return new Set([...counts].filter(([, c]) => c >= 200).map(([k]) => k)); // levels with >= 10 %
    };
    const requested = levels("a photo of a nurse, depicting a Black person");
    expect(requested.size).toBeLessThanOrEqual(2);
    expect(levels("a photo of a nurse").size).toBeGreaterThanOrEqual(4);
  });
  it("makes a biased choice among offered options and honours the one it picked", () => {
    const parsed = parsePrompt("a CEO, depicting one of the following: a Black woman; an East Asian man", tax);
    expect(parsed.options).toEqual([
      { race: "black", gender: "female" },
      { race: "east_asian", gender: "male" },
    ]);
    let first = 0;
    for (let s = 0; s < 2000; s++) if (sim.drawPerson("a CEO, depicting one of the following: a Black woman; an East Asian man", new Rng(s)).choice === 0) first++;
    // CEO prior favours men (Fair Diffusion: most CEO images male) and East Asian over Black: the second option wins more.
    expect(first / 2000).toBeLessThan(0.5);
    expect(first).toBeGreaterThan(0);
  });
});

describe("sim: generate", () => {
  it("is deterministic from prompt and seed, image included", async () => {
    const full = new SimModel(tax);
    const a = await full.generate({ prompt: "a photo of the face of a CEO, depicting a Latino man", seed: 99 });
    const b = await full.generate({ prompt: "a photo of the face of a CEO, depicting a Latino man", seed: 99 });
    expect(a.selfReport).toEqual(b.selfReport);
    expect(a.drawing).toBe(b.drawing);
    expect(Buffer.from(resultImage(a)!.bytes).equals(Buffer.from(resultImage(b)!.bytes))).toBe(true);
    expect(a.mime).toBe("image/png");
    const c = await full.generate({ prompt: "a photo of the face of a CEO, depicting a Latino man", seed: 100 });
    expect(Buffer.from(resultImage(a)!.bytes).equals(Buffer.from(resultImage(c)!.bytes))).toBe(false);
    // With imageFiles the same portrait comes as bytes: the drawing draws exactly them.
    const files = await new SimModel(tax, { ...SIM_DEFAULTS, imageFiles: true }).generate({ prompt: "a photo of the face of a CEO, depicting a Latino man", seed: 99 });
    expect(files.drawing).toBeUndefined();
    expect(Buffer.from(files.image!).equals(Buffer.from(resultImage(a)!.bytes))).toBe(true);
  });
  it("sometimes renders a person lighter than it reports", async () => {
    let differ = 0;
    const n = 2000;
    for (let s = 0; s < n; s++) {
      const r = await sim.generate({ prompt: "a nurse, depicting a Black woman", seed: s });
      const truth = (r.meta.truth as Record<string, string>).skin_tone!;
      const reported = r.selfReport![0]!.skin_tone!.replace("Monk ", "monk_");
      if (truth !== reported) {
        differ++;
        expect(Number(truth.slice(5))).toBeLessThan(Number(reported.slice(5)));
      }
    }
    expect(differ / n).toBeGreaterThan(0.03);
    expect(differ / n).toBeLessThan(0.07);
  });
  it("refuses at the configured rate, as an outcome", async () => {
    const refusing = new SimModel(tax, mergeSimParams(SIM_DEFAULTS, { refusalRate: 0.5, render: false }));
    let refusals = 0;
    for (let s = 0; s < 400; s++) if ((await refusing.generate({ prompt: "a CEO", seed: s })).refusal) refusals++;
    expect(refusals).toBeGreaterThan(150);
    expect(refusals).toBeLessThan(250);
  });
  it("waits the simulated latency and stops when aborted", async () => {
    const slow = new SimModel(tax, mergeSimParams(SIM_DEFAULTS, { latencyMs: 5_000, render: false }));
    const ctrl = new AbortController();
    const p = slow.generate({ prompt: "a CEO", seed: 1, signal: ctrl.signal });
    setTimeout(() => ctrl.abort(new Error("stop")), 20);
    await expect(p).rejects.toThrow("stop");
  });
});
