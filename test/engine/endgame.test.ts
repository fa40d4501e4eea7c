import { afterEach, describe, expect, it, vi } from "vitest";
import { run } from "../../src/api.js";

/** Runs in memory on sim with 1 s latency under fake timers; returns the summary and the simulated seconds. */
async function timedRun(concurrency: number, n: number, seed: number) {
  vi.useFakeTimers();
  const t0 = Date.now();
  const p = run(
    { prompt: "Startup founder rings the opening bell at the stock exchange", n, joint: [["gender", "race"]], seed, concurrency, sim: { latencyMs: 1000, render: false } },
    { inMemory: true },
  );
  let settled = false;
  void p.finally(() => (settled = true));
  while (!settled) await vi.advanceTimersByTimeAsync(10);
  const { summary } = await p;
  return { summary, seconds: (Date.now() - t0) / 1000 };
}

describe("end game", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("keeps every slot busy to the end: no round of latency beyond what the generations need", async () => {
    for (const seed of [701600, 701601, 5]) {
      const { summary, seconds } = await timedRun(16, 160, seed);
      expect(summary.status).toBe("complete");
      expect(summary.exact).toBe(true);
      // Each round of 16 generations takes 1 s; the grace before over-requesting adds at most a few 20 ms waits.
      const rounds = Math.ceil(summary.generations / 16);
      expect(seconds).toBeLessThanOrEqual(rounds + 0.1);
      // The over-request is bounded: a few surplus images, not a round's worth more.
      expect(summary.discarded.surplus).toBeLessThanOrEqual(16);
    }
  });
});
