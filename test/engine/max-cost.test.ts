import { describe, expect, it } from "vitest";
import { loadRun, resume, run } from "../../src/api.js";
import { builtinTaxonomy } from "../../src/core/taxonomy.js";
import { CostBudget } from "../../src/engine/cost.js";
import type { ImageProvider } from "../../src/providers/index.js";
import { mergeSimParams, SIM_DEFAULTS } from "../../src/providers/sim/params.js";
import { SimModel } from "../../src/providers/sim/model.js";
import { expectedCallCostUsd, LIST_PRICES, listPrice } from "../../src/providers/prices.js";
import { cli, tempDir } from "../cli/helpers.js";

/** sim, charging a fixed price per call (as a paid provider would). */
function paid(usd: number): ImageProvider & { calls: number } {
  const sim = new SimModel(builtinTaxonomy(), mergeSimParams(SIM_DEFAULTS, { render: false }));
  const p = {
    id: "paid",
    calls: 0,
    async generate(req: Parameters<ImageProvider["generate"]>[0]) {
      p.calls++;
      return { ...(await sim.generate(req)), costUsd: usd };
    },
  };
  return p;
}

const settings = (out: string, maxCost: number) => ({ prompt: "a photo of a CEO", n: 10, attributes: ["gender"], seed: 3, concurrency: 1, out, maxCost });

describe("--max-cost", () => {
  it("stops before the call that would pass the cap, resumably, with status cost", async () => {
    const out = tempDir();
    const provider = paid(0.04);
    const { summary, result } = await run(settings(out, 0.1), { provider });
    expect(result.status).toBe("cost");
    expect(summary.status).toBe("cost");
    expect(provider.calls).toBe(2); // 0.04 + 0.04; a third would make 0.12 > 0.10
    expect(summary.costUsd).toBeCloseTo(0.08, 10);
    expect(result.message).toMatch(/spending cap of \$0\.10 reached: \$0\.08 spent/);
    // Resuming at the same cap is refused with the fix; a larger cap continues without losing anything.
    await expect(resume(summary.runDir, { provider })).rejects.toThrow(/spending cap of \$0\.1; pass --max-cost with a larger amount/);
    const more = await resume(summary.runDir, { provider, maxCost: 5 });
    expect(more.result.status).toBe("complete");
    expect(loadRun(summary.runDir).summary.kept).toBe(10);
    expect(more.summary.costUsd!).toBeLessThanOrEqual(5);
  });

  it("keeps a cap shared by concurrent runs (an experiment's budget)", async () => {
    const out = tempDir();
    const budget = new CostBudget(0.2);
    const a = paid(0.04);
    const b = paid(0.04);
    // The runs name a priced provider (dall-e-3, $0.04 listed), so each call reserves its price before it starts.
    const s = { prompt: "a nurse", n: 20, attributes: ["gender"], concurrency: 3, out, provider: "openai:dall-e-3" };
    await Promise.all([run({ ...s, seed: 1 }, { provider: a, costBudget: budget }), run({ ...s, seed: 2 }, { provider: b, costBudget: budget })]);
    expect(budget.spent).toBeLessThanOrEqual(0.2 + 1e-9);
    expect(a.calls + b.calls).toBe(5);
  });

  it("refuses a cap on a provider whose price is unknown, before anything is written (exit 2, with the fix)", async () => {
    const out = tempDir();
    const r = await cli("run", "a nurse", "--provider", "replicate:owner/model", "--observer", "requested", "--max-cost", "1", "--out", out, "--no-progress");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no list price is known for replicate:owner\/model.*-P priceUsd=USD/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    const bad = await cli("run", "a nurse", "--max-cost", "-3", "--out", out);
    expect(bad.code).toBe(2);
  });

  it("the price table: dated, sourced, unknown said as unknown", () => {
    for (const p of LIST_PRICES) {
      expect(p.date).toMatch(/^\d{4}-\d{2}$/);
      expect(p.source.length).toBeGreaterThan(5);
      if (p.usd === null) expect(p.note ?? "").toMatch(/unknown/);
    }
    expect(listPrice("openai:dall-e-3")?.usd).toBe(0.04);
    expect(listPrice("midjourney")?.usd).toBeNull();
    expect(expectedCallCostUsd("openai:dall-e-3", { quality: "hd" })?.usd).toBe(0.08);
    expect(expectedCallCostUsd("replicate:x/y", { priceUsd: 0.01 })?.usd).toBe(0.01);
    expect(expectedCallCostUsd("replicate:x/y")).toBeUndefined();
    expect(expectedCallCostUsd("sim:dall-e-3")?.usd).toBe(0);
  });
});

describe("experiment --max-cost", () => {
  it("stops the whole experiment at the cap (cells already run count) and continues with a larger one", async () => {
    const { runExperiment } = await import("../../src/experiments/runner.js");
    const { planFromFile } = await import("../../src/experiments/config.js");
    const { writeConfig, SMALL } = await import("../experiments/helpers.js");
    const { path } = writeConfig({ ...SMALL, jobs: 1 });
    const providers: ReturnType<typeof paid>[] = [];
    const provider = (): ImageProvider => {
      const p = paid(0.04);
      providers.push(p);
      return p;
    };
    const first = await runExperiment(planFromFile(path), { provider, maxCostUsd: 1 });
    expect(first.spentUsd!).toBeLessThanOrEqual(1 + 1e-9);
    expect(first.spentUsd!).toBeGreaterThan(1 - 0.04 - 1e-9);
    expect(first.counts.cost).toBe(1);
    expect(first.costStop).toMatch(/spending cap of \$1\.00 \(shared by the experiment\) reached.*stopped at cell/);
    const calls = providers.reduce((s, p) => s + p.calls, 0);
    expect(calls).toBe(25);
    // The same cap again: nothing more is spent.
    const same = await runExperiment(planFromFile(path), { provider, maxCostUsd: 1 });
    expect(providers.reduce((s, p) => s + p.calls, 0)).toBe(calls);
    expect(same.costStop).toBeDefined();
    const more = await runExperiment(planFromFile(path), { provider, maxCostUsd: 100 });
    expect(more.counts.complete).toBe(4);
    expect(more.costStop).toBeUndefined();
  });
});
