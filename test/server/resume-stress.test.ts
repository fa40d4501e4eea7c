import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AttemptEvent, RunEvent } from "../../src/store/events.js";
import { dashboard, tempDir, type Client } from "./helpers.js";

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/debiaspi.js");

const eventsOf = (dir: string): RunEvent[] =>
  readFileSync(join(dir, "events.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as RunEvent);

/** Every attempt index once, and the run ended complete. */
function expectCompleteOnce(dir: string, n: number): void {
  const events = eventsOf(dir);
  const idx = events.filter((e): e is AttemptEvent => e.type === "attempt").map((e) => e.i);
  expect(new Set(idx).size).toBe(idx.length);
  const kept = events.filter((e): e is AttemptEvent => e.type === "attempt" && e.decision === "kept").length;
  expect(kept).toBe(n);
  expect(events.at(-1)).toMatchObject({ type: "end", reason: "complete" });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("stress: repeated resume requests from the dashboard against a running run", () => {
  let c: Client;
  beforeAll(async () => {
    c = await dashboard(tempDir());
  });
  afterAll(async () => {
    await c.d.close();
  });

  it("a run the dashboard runs: 20 resumes while it runs are all 409, and it completes with nothing generated twice", async () => {
    const res = await c.post("/api/runs", { prompt: "a photo of a judge", n: 24, attributes: ["gender"], seed: 7, concurrency: 4, sim: { latencyMs: 40 } });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { id: string }).id;
    const statuses: number[] = [];
    for (let round = 0; round < 4; round++) {
      statuses.push(...(await Promise.all(Array.from({ length: 5 }, () => c.post(`/api/runs/${id}/resume`, {}).then((r) => r.status)))));
      await sleep(30);
    }
    expect(statuses.every((s) => s === 409)).toBe(true);
    await c.d.manager.settled(id);
    expectCompleteOnce(join(c.d.manager.runsDir, id), 24);
  });

  // Depends on the store-level fix of branch hard-store (a refused resume must not touch the running
  // process's pending files or events): until it is merged, this may fail with the CLI exiting 3.
  it("a run a CLI process runs: resumes from the dashboard are refused (409), the CLI run is not disturbed and exits 0", async () => {
    if (!existsSync(join(dirname(BIN), "..", "dist", "src", "cli", "main.js"))) throw new Error("build first: npm run build (the CLI runs dist/)");
    const runsDir = c.d.manager.runsDir;
    const before = new Set(readdirSync(runsDir));
    const child = spawn(process.execPath, [BIN, "run", "a photo of a pilot", "--attributes", "gender", "--n", "30", "--seed", "9", "--concurrency", "4", "--latency", "40", "--out", runsDir, "--no-progress", "--json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number>((ok) => child.on("exit", (code) => ok(code ?? -1)));
    // Wait for its folder and its lock.
    let id: string | undefined;
    for (let k = 0; k < 200 && !id; k++) {
      await sleep(25);
      // run.json too: a folder being claimed holds the lock before its run.json is written, and is no run yet (404).
      id = readdirSync(runsDir).find((f) => !before.has(f) && !f.startsWith(".") && existsSync(join(runsDir, f, "run.lock")) && existsSync(join(runsDir, f, "run.json")));
    }
    expect(id).toBeDefined();
    const statuses: number[] = [];
    for (let k = 0; k < 12; k++) {
      statuses.push((await c.post(`/api/runs/${id}/resume`, {})).status);
      await sleep(35);
    }
    const code = await exited;
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(statuses.every((s) => s === 409)).toBe(true);
    expectCompleteOnce(join(runsDir, id!), 30);
  }, 30_000);
});
