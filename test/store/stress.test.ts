import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../cli/helpers.js";
import { dashboard } from "../server/helpers.js";

const BIN = resolve(__dirname, "../../bin/debiaspi.js");

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function launch(args: string[]): { done: Promise<Exit>; exited: () => boolean; stop: () => void } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let over = false;
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Exit>((ok) =>
    child.on("close", (code) => {
      over = true;
      ok({ code, stdout, stderr });
    }),
  );
  return { done, exited: () => over, stop: () => void child.kill("SIGINT") };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Line {
  type: string;
  i?: number;
  seed?: number;
  image?: string;
  decision?: string;
}
const readEvents = (dir: string): Line[] =>
  readFileSync(join(dir, "events.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Line);

function checkComplete(dir: string, n: number): void {
  const attempts = readEvents(dir).filter((e) => e.type === "attempt");
  expect(new Set(attempts.map((e) => e.i)).size).toBe(attempts.length);
  const kept = attempts.filter((e) => e.decision === "kept");
  expect(kept).toHaveLength(n);
  for (const e of attempts) if (e.image) expect(existsSync(join(dir, e.image))).toBe(true);
  expect(readdirSync(join(dir, "pending"))).toEqual([]);
  expect(existsSync(join(dir, "run.lock"))).toBe(false);
}

describe("stress: races between processes on one run folder", () => {
  it("repeated resume launches (CLI and dashboard) against a running CLI run are refused and never disturb it", async () => {
    const out = tempDir();
    // Slow enough to outlast the resumes; it is stopped with Ctrl-C (SIGINT) once they are done.
    const args = ["run", "a photo of the face of a teacher", "--joint", "race,gender", "--n", "2000", "--seed", "21", "--concurrency", "16", "--latency", "300", "--out", out, "--json", "--no-progress", "--image-files"];
    const main = launch(args);
    let dir: string | undefined;
    while (!main.exited()) {
      const d = readdirSync(out).filter((f) => !f.startsWith("."))[0];
      if (d && existsSync(join(out, d, "events.jsonl")) && readFileSync(join(out, d, "events.jsonl"), "utf8").split("\n").length > 3) {
        dir = join(out, d);
        break;
      }
      await sleep(5);
    }
    expect(dir).toBeDefined();
    const resumes: Exit[] = [];
    // The dashboard's resume route, against the same running CLI run, at the same time.
    const board = await dashboard(out);
    const id = dir!.slice(out.length + 1);
    const routeAnswers: number[] = [];
    for (let round = 0; round < 4; round++) {
      const viaRoute = Promise.all([0, 1].map(() => board.post(`/api/runs/${encodeURIComponent(id)}/resume`, {}).then((r) => r.status)));
      resumes.push(...(await Promise.all([0, 1, 2].map(() => launch(["resume", dir!, "--no-progress"]).done))));
      routeAnswers.push(...(await viaRoute));
      if (main.exited()) {
        const early = await main.done;
        expect.fail(`the run ended while resumes were launched: exit ${early.code}, ${early.stderr.trim().split("\n")[0]}`);
      }
    }
    await board.d.close();
    main.stop();
    const first = await main.done;
    expect(routeAnswers).toHaveLength(8);
    for (const status of routeAnswers) expect(status).toBe(409);
    expect(first.code).toBe(130);
    expect(first.stderr).not.toMatch(/internal error/);
    expect(resumes).toHaveLength(12);
    for (const r of resumes) {
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(/^debiaspi: error: run .* is in progress in process \d+; wait for it or stop it first$/);
    }
    // What the run wrote is whole: no attempt twice, every image on disk, nothing pending, no lock left.
    const attempts = readEvents(dir!).filter((e) => e.type === "attempt");
    expect(attempts.length).toBeGreaterThan(3);
    expect(new Set(attempts.map((e) => e.i)).size).toBe(attempts.length);
    for (const e of attempts) if (e.image) expect(existsSync(join(dir!, e.image))).toBe(true);
    expect(readdirSync(join(dir!, "pending"))).toEqual([]);
    expect(existsSync(join(dir!, "run.lock"))).toBe(false);
    expect(JSON.parse(first.stdout).status).toBe("incomplete");
  }, 120_000);

  it("several runs of one prompt started at once each get their own folder", async () => {
    const out = tempDir();
    // Ten at once: before folders were claimed with one mkdir, about one round in three had two share a folder.
    const seeds = [101, 102, 103, 104, 105, 106, 107, 108, 109, 110];
    const runs = await Promise.all(
      seeds.map((seed) => launch(["run", "a photo of the face of a pilot", "--attributes", "gender", "--n", "4", "--seed", String(seed), "--concurrency", "1", "--out", out, "--json", "--no-progress", "--image-files"]).done),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const dirs = runs.map((r) => (JSON.parse(r.stdout) as { runDir: string }).runDir);
    expect(new Set(dirs).size).toBe(seeds.length);
    expect(readdirSync(out).filter((f) => !f.startsWith(".")).sort()).toEqual(dirs.map((d) => d.slice(out.length + 1)).sort());
    dirs.forEach((dir, k) => {
      const record = JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as { id: string; config: { seed: number } };
      expect(record.config.seed).toBe(seeds[k]);
      expect(join(out, record.id)).toBe(dir);
      checkComplete(dir, 4);
    });
    // Every folder holds the images of its own seed: the same seed in memory makes the same attempts.
    const again = await launch(["run", "a photo of the face of a pilot", "--attributes", "gender", "--n", "4", "--seed", "104", "--concurrency", "1", "--out", tempDir(), "--json", "--no-progress", "--image-files"]).done;
    const ref = readEvents((JSON.parse(again.stdout) as { runDir: string }).runDir).filter((e) => e.type === "attempt");
    const got = readEvents(dirs[3]!).filter((e) => e.type === "attempt");
    expect(got.find((e) => e.i === 0)!.seed).toBe(ref.find((e) => e.i === 0)!.seed);
  }, 120_000);
});
