import { describe, expect, it } from "vitest";
import { run } from "../../src/api.js";

describe("requests in flight share one abort signal", () => {
  it("a run at concurrency 16 with a provider that listens to it prints no MaxListenersExceededWarning", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    try {
      const { summary } = await run(
        { prompt: "a photo of the face of a CEO", n: 32, joint: [["gender", "race"]], seed: 3, concurrency: 16, sim: { latencyMs: 5, render: false } },
        { inMemory: true, signal: new AbortController().signal },
      );
      expect(summary.kept).toBe(32);
      await new Promise((r) => setTimeout(r, 10)); // warnings are emitted on a later tick
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.includes("MaxListeners"))).toEqual([]);
  });
});
