import { describe, expect, it } from "vitest";
import { planCells } from "../../src/plan/plan.js";
import { cli } from "./helpers.js";

const cell = (settings: Record<string, unknown>) => ({ id: "c", settings: { prompt: "a photo of the face of a CEO", n: 14, joint: [["race", "gender"]], seed: 5, ...settings } });

describe("debiaspi plan", () => {
  it("prints expected generations, cost and p90 as JSON, at the profile's list price", async () => {
    const r = await cli("plan", "a photo of the face of a CEO", "--provider", "sim:dall-e-3", "--joint", "race,gender", "--n", "14", "--seeds", "4", "--latency", "2000", "--concurrency", "2", "--json");
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.seeds).toBe(4);
    expect(j.expectedGenerations).toBeGreaterThanOrEqual(14);
    expect(j.expectedGenerationsP90).toBeGreaterThanOrEqual(j.expectedGenerations - 1e-9);
    // $0.04 per DALL-E 3 image (standard 1024x1024)
    expect(j.expectedCostUsd).toBeCloseTo(0.04 * j.expectedGenerations, 1);
    expect(j.expectedCostUsdP90).toBeGreaterThanOrEqual(j.expectedCostUsd);
    expect(j.prices["sim:dall-e-3 as dall-e-3"].usd).toBe(0.04);
    expect(j.expectedWallSeconds).toBeCloseTo((Math.ceil(j.expectedCalls / 2) * 2000) / 1000, -1);
  });

  it("is seeded: the same plan twice gives the same figures", async () => {
    const a = await planCells([cell({})], { simulate: "sim:sd35", seeds: 3, latencyMs: 1000, jobs: 1 });
    const b = await planCells([cell({})], { simulate: "sim:sd35", seeds: 3, latencyMs: 1000, jobs: 1 });
    expect(a).toEqual(b);
  });

  it("the profile decides: sd35 (0 of 120 non-binary with a profession) spends its budget where sd15 (assumed 0.95) completes", async () => {
    const target = { attributes: ["gender"], genderCategories: "non-binary", prompt: "a portrait photo of a nurse" };
    const sd35 = await planCells([cell(target)], { simulate: "sim:sd35", seeds: 3, latencyMs: 1000, jobs: 1 });
    const sd15 = await planCells([cell(target)], { simulate: "sim:sd15", seeds: 3, latencyMs: 1000, jobs: 1 });
    expect(sd35.expectedIncompleteCells).toBe(1);
    expect(sd15.expectedIncompleteCells).toBe(0);
    expect(sd35.expectedGenerations).toBeGreaterThan(3 * sd15.expectedGenerations);
  });

  it("says the cost is unknown when the model has no list price, and takes --price-usd", async () => {
    const unknown = await planCells([cell({})], { simulate: "sim:midjourney", seeds: 1, latencyMs: 0, jobs: 1 });
    expect(unknown.expectedCostUsd).toBeNull();
    expect(unknown.notes.join(" ")).toMatch(/cost unknown/);
    const given = await planCells([cell({})], { simulate: "sim:midjourney", seeds: 1, latencyMs: 0, jobs: 1, priceUsd: 0.1 });
    expect(given.expectedCostUsd).toBeCloseTo(0.1 * given.expectedGenerations, 6);
  });

  it("plans the paper study on a real provider without any key (checkers and the vlm are not called)", async () => {
    const r = await cli("plan", "--experiment", "studies/debiaspi-paper-real.yaml", "--seeds", "1", "--json");
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.cells).toBe(72);
    expect(j.profiles[0].id).toBe("dall-e-3");
    expect(j.expectedCostUsd).toBeGreaterThan(0);
  });

  it("refuses bad input with one line: an unknown profile, a real provider to simulate, run flags with --experiment", async () => {
    const bad = await cli("plan", "a nurse", "--provider", "sim:nope");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/sim has no profile "nope"; accepted: .*sd35/);
    const real = await cli("plan", "a nurse", "--provider", "a1111:http://localhost:1");
    expect(real.code).toBe(2);
    expect(real.stderr).toMatch(/--provider must be sim or sim:PROFILE/);
    const mixed = await cli("plan", "--experiment", "studies/tiny.yaml", "--n", "5");
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/--n cannot be used/);
  });
});
