import { describe, expect, it } from "vitest";
import { run } from "../../src/api.js";
import type { RunConfigInput } from "../../src/config/schema.js";
import { runLoop } from "../../src/engine/engine.js";
import { loopFor } from "./helpers.js";
import type { ImageProvider } from "../../src/providers/types.js";
import type { AttemptEvent, RunEvent } from "../../src/store/events.js";

/** Events without their timing, which varies from run to run. */
const timeless = (events: RunEvent[]): unknown[] => events.map((e) => (e.type === "attempt" ? { ...e, ms: 0 } : e));

const attempts = (events: RunEvent[]): AttemptEvent[] => events.filter((e): e is AttemptEvent => e.type === "attempt");

describe("the DebiasPI loop on sim", () => {
  it("meets every bin exactly with overflow discard (gender x race jointly)", async () => {
    const { summary, result } = await run(
      { prompt: "a photo of the face of a CEO", joint: [["race", "gender"]], n: 28, seed: 3, sim: { render: false } },
      { inMemory: true },
    );
    expect(result.status).toBe("complete");
    expect(summary.kept).toBe(28);
    expect(summary.exact).toBe(true);
    expect(summary.factors[0]!.tv).toBe(0);
    expect(Object.values(summary.factors[0]!.observed)).toEqual(Array(14).fill(2));
    // every image generated is accounted for: kept + set apart
    expect(summary.generations).toBe(summary.kept + summary.discarded.overflow + summary.discarded.unknown + summary.discarded.surplus);
    expect(summary.generationsPerKept).toBeLessThan(1.6);
  });

  it("without control (none) the same prompt drifts to the model's bias", async () => {
    const { summary } = await run({ prompt: "a photo of the face of a CEO", attributes: ["gender", "race"], n: 100, seed: 3, policy: "none", sim: { render: false } }, { inMemory: true });
    expect(summary.kept).toBe(100);
    expect(summary.generations).toBe(100);
    expect(summary.exact).toBe(false);
    expect(summary.attributes.race!.tv!).toBeGreaterThan(0.3);
  });

  it("with overflow keep stops at N images and stays close to the target", async () => {
    const { summary } = await run({ prompt: "a nurse", attributes: ["race"], n: 70, seed: 5, overflow: "keep", sim: { render: false } }, { inMemory: true });
    expect(summary.kept).toBe(70);
    expect(summary.discarded.overflow).toBe(0);
    expect(summary.attributes.race!.maxAbsDiff!).toBeLessThanOrEqual(3 / 70);
  });

  it("choice mode with subgroup k offers at most k options and still meets the bins", async () => {
    const { input, sink } = loopFor({ prompt: "a judge", attributes: ["race"], n: 21, seed: 11, mode: "choice", subgroup: 3 });
    const r = await runLoop(input);
    expect(r.status).toBe("complete");
    const reqs = attempts(sink.events).map((e) => e.request);
    expect(reqs.some((q) => q.kind === "choice")).toBe(true);
    for (const q of reqs) if (q.kind === "choice") expect(q.options.length).toBeLessThanOrEqual(3);
    expect(attempts(sink.events).filter((e) => e.decision === "kept")).toHaveLength(21);
  });

  it("quota asks for every bin once, open loop, and gives a slot back after a refusal", async () => {
    const { input, sink } = loopFor({ prompt: "a pilot", attributes: ["gender"], n: 10, seed: 1, policy: "quota", sim: { render: false, refusalRate: 0.3 } });
    const r = await runLoop(input);
    expect(r.status).toBe("complete");
    const evs = attempts(sink.events);
    const produced = evs.filter((e) => e.outcome === "image");
    expect(produced).toHaveLength(10);
    expect(evs.some((e) => e.outcome === "refusal")).toBe(true);
    const asked = produced.map((e) => (e.request.kind === "direct" ? e.request.cells.gender : "?"));
    expect(asked.filter((g) => g === "female")).toHaveLength(5);
    const slots = produced.map((e) => (e.request.kind === "direct" ? e.request.slot : -1)).sort((a, b) => a! - b!);
    expect(slots).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("is reproducible image for image at concurrency 1 with a seed", async () => {
    const a = loopFor({ prompt: "a firefighter", attributes: ["gender", "age"], n: 16, seed: 42, concurrency: 1 });
    const b = loopFor({ prompt: "a firefighter", attributes: ["gender", "age"], n: 16, seed: 42, concurrency: 1 });
    await runLoop(a.input);
    await runLoop(b.input);
    expect(timeless(a.sink.events)).toEqual(timeless(b.sink.events));
    const c = loopFor({ prompt: "a firefighter", attributes: ["gender", "age"], n: 16, seed: 43, concurrency: 1 });
    await runLoop(c.input);
    expect(attempts(c.sink.events).map((e) => e.prompt)).not.toEqual(attempts(a.sink.events).map((e) => e.prompt));
  });

  it("counts pending requests so parallel requests do not overfill bins", async () => {
    const { input, sink } = loopFor({ prompt: "a teacher", attributes: ["gender"], n: 8, seed: 2, concurrency: 8, sim: { render: false, latencyMs: 5 } });
    await runLoop(input);
    const first8 = attempts(sink.events)
      .sort((x, y) => x.i - y.i)
      .slice(0, 8)
      .map((e) => (e.request.kind === "direct" ? e.request.cells.gender : "?"));
    // The first eight requests went out together: four of each, not eight of the largest deficit.
    expect(first8.filter((g) => g === "female")).toHaveLength(4);
    expect(first8.filter((g) => g === "male")).toHaveLength(4);
  });

  it("ends with status budget, not a crash, when the target cannot be reached", async () => {
    const { input, sink } = loopFor({
      prompt: "a farmer",
      attributes: ["skin_tone"],
      n: 10,
      seed: 1,
      maxAttempts: 60,
      sim: { render: false, compliance: { categories: { skin_tone: { monk_1: 0 } } }, skinBroad: { white: [0, 1, 1, 1, 0, 0, 0, 0, 0, 0] } },
    });
    const r = await runLoop(input);
    expect(r.status).toBe("budget");
    expect(r.attempts).toBe(60);
    expect(sink.events.at(-1)).toMatchObject({ type: "end", reason: "budget" });
  });

  it("records provider errors and stops after ten in a row", async () => {
    const broken: ImageProvider = { id: "broken", generate: () => Promise.reject(new Error("connection refused")) };
    const { input, sink } = loopFor({ prompt: "a CEO", attributes: ["gender"], n: 4, seed: 1, concurrency: 1 }, { provider: broken });
    const r = await runLoop(input);
    expect(r.status).toBe("provider-errors");
    expect(attempts(sink.events)).toHaveLength(10);
    expect(attempts(sink.events)[0]).toMatchObject({ outcome: "error", error: "connection refused", decision: "error" });
  });

  it("sets apart an image whose controlled attribute could not be observed", async () => {
    const silent: ImageProvider = { id: "silent", generate: async () => ({ warnings: [], meta: {} }) };
    const { input, sink } = loopFor({ prompt: "a CEO", attributes: ["gender"], n: 2, seed: 1, maxAttempts: 5 }, { provider: silent });
    const r = await runLoop(input);
    expect(r.status).toBe("budget");
    expect(attempts(sink.events).every((e) => e.decision === "unknown")).toBe(true);
  });

  it("continues from its history after an interruption exactly as an uninterrupted run", async () => {
    const settings: RunConfigInput = { prompt: "a photo of a scientist", joint: [["race", "gender"]], n: 28, seed: 9, concurrency: 1 };
    const whole = loopFor(settings);
    await runLoop(whole.input);

    const first = loopFor(settings);
    const ctrl = new AbortController();
    let seen = 0;
    const part = await runLoop({ ...first.input, signal: ctrl.signal, onProgress: () => { if (++seen === 12) ctrl.abort(); } });
    expect(part.status).toBe("stopped");
    const second = loopFor(settings);
    const rest = await runLoop({ ...second.input, history: first.sink.events });
    expect(rest.status).toBe("complete");
    expect(timeless([...first.sink.events, ...second.sink.events])).toEqual(timeless(whole.sink.events));
  });

  it("finishes an attempt saved as pending without generating it again", async () => {
    const settings: RunConfigInput = { prompt: "a baker", attributes: ["gender"], n: 4, seed: 4, concurrency: 1 };
    const whole = loopFor(settings);
    await runLoop(whole.input);
    const evs = attempts(whole.sink.events);
    const history = whole.sink.events.slice(0, 2);
    const { observation, decision, kept, tally, ...pending } = evs[2]!;
    void observation; void decision; void kept; void tally;
    const calls: number[] = [];
    const second = loopFor(settings);
    const real = second.input.provider;
    const counting: ImageProvider = { id: "sim", generate: (req) => { calls.push(req.seed); return real.generate(req); } };
    await runLoop({ ...second.input, provider: counting, history, pending: [pending] });
    expect(calls).not.toContain(evs[2]!.seed);
    expect(timeless([...history, ...second.sink.events])).toEqual(timeless(whole.sink.events));
  });
});
