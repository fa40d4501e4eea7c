import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { flagsToConfig } from "../../src/cli/flags.js";
import { cli, tempDir } from "./helpers.js";

describe("--no-render", () => {
  it("sets sim.render to false next to --latency, and nothing without it", () => {
    expect(flagsToConfig(undefined, { render: false, latency: 5 })).toEqual({ sim: { render: false, latencyMs: 5 } });
    expect(flagsToConfig(undefined, { render: true })).toEqual({});
  });

  it("runs sim without drawing a PNG and measures the same set", async () => {
    const settings = ["a photo of the face of a CEO", "--joint", "race,gender", "--n", "28", "--seed", "4", "--concurrency", "1", "--latency", "0", "--no-progress", "--json"];
    const plain = tempDir();
    const bare = tempDir();
    const a = await cli("run", ...settings, "--out", plain);
    const b = await cli("run", ...settings, "--out", bare, "--no-render");
    expect([a.code, b.code]).toEqual([0, 0]);
    const ja = JSON.parse(a.stdout) as { runDir: string; attributes: unknown; generations: number };
    const jb = JSON.parse(b.stdout) as { runDir: string; attributes: unknown; generations: number };
    expect(jb.attributes).toEqual(ja.attributes);
    expect(jb.generations).toBe(ja.generations);
    const drawn = readFileSync(join(ja.runDir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { type: string; image?: string });
    expect(drawn.filter((l) => l.type === "attempt").every((l) => /^images\/portrait-v1_/.test(l.image ?? ""))).toBe(true);
    expect(readdirSync(join(jb.runDir, "images"))).toEqual([]);
    const lines = readFileSync(join(jb.runDir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { image?: string });
    expect(lines.every((l) => l.image === undefined)).toBe(true);
  });
});
