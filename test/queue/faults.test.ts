/**
 * Experiments on `debiaspi worker` processes through a real redis-server (started here on a free
 * loopback port, no persistence): a worker SIGKILLed mid-job and replaced, two experiments sharing the
 * queue, the coordinator SIGKILLed and run again. At concurrency 1 per cell a run is deterministic, so
 * the kept images must be exactly those of the same experiment run without a queue.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planFromFile } from "../../src/experiments/config.js";
import { loadReportInput } from "../../src/experiments/load.js";
import { runExperiment } from "../../src/experiments/runner.js";
import type { ReportInput } from "../../src/analysis/model.js";
import { linesWritten, SMALL, writeConfig } from "../experiments/helpers.js";
import { BIN, killAndWait, redisAvailable, spawnWorker, startRedis, workerReady, type TestRedis } from "./redis.js";

const CONFIG = { ...SMALL, jobs: 2, settings: { concurrency: 1, sim: { latencyMs: 80 } } };

const keptImages = (input: ReportInput): Record<string, string[]> =>
  Object.fromEntries(input.runs.map((r) => [r.id, r.events.flatMap((e) => (e.type === "attempt" && e.decision === "kept" ? [e.image!] : []))]));

/** Every attempt line of every cell: no index twice, no image file twice. */
function duplicates(expDir: string): string[] {
  const out: string[] = [];
  const runs = join(expDir, "runs");
  for (const d of readdirSync(runs)) {
    const lines = readFileSync(join(runs, d, "events.jsonl"), "utf8").split("\n").filter((l) => l.trim());
    const attempts = lines.map((l) => JSON.parse(l) as { type: string; i?: number; image?: string }).filter((e) => e.type === "attempt");
    const seenI = new Set<number>();
    const seenImage = new Set<string>();
    for (const a of attempts) {
      if (seenI.has(a.i!)) out.push(`${d}: attempt ${a.i} twice`);
      seenI.add(a.i!);
      if (a.image && seenImage.has(a.image)) out.push(`${d}: image ${a.image} twice`);
      if (a.image) seenImage.add(a.image);
    }
  }
  return out;
}

function coordinator(config: string, url: string): { child: ChildProcess; exit: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, "experiment", config, "--no-progress", "--queue", url], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  return { child, exit: new Promise((done) => child.once("exit", (code) => done({ code, stderr }))) };
}

const until = async (what: () => boolean, ms = 60_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** Collects a worker's stderr (with --verbose it names each job it starts and finishes). */
function verboseWorker(url: string): { child: ChildProcess; log: () => string } {
  const child = spawn(process.execPath, [BIN, "worker", "--queue", url, "--concurrency", "2", "--stall-ms", "1000", "--verbose"], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.on("data", (b: Buffer) => (log += b.toString()));
  return { child, log: () => log };
}

const haveRedis = redisAvailable();

describe.skipIf(!haveRedis)("experiments on queue workers", () => {
  let redis: TestRedis;
  let expected: Record<string, string[]>;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    // The reference: the same experiment in this process, without a queue (latency does not change images).
    const ref = writeConfig({ ...CONFIG, settings: { concurrency: 1 } });
    const outcome = await runExperiment(planFromFile(ref.path));
    expected = keptImages(outcome.input);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => killAndWait(w)));
    await redis?.stop();
  });

  it("two experiments share the queue; a worker SIGKILLed mid-job is replaced; every cell full, nothing recorded twice", async () => {
    const a = verboseWorker(redis.url);
    const b = verboseWorker(redis.url);
    workers.push(a.child, b.child);
    await Promise.all([workerReady(a.child), workerReady(b.child)]);
    const one = writeConfig(CONFIG);
    const two = writeConfig(CONFIG);
    const dirOne = join(one.dir, "out", "small");
    const first = coordinator(one.path, redis.url);
    const second = coordinator(two.path, redis.url);
    // Kill worker a right after it started a job, once some lines are written.
    await until(() => linesWritten(dirOne) >= 8);
    const startedBefore = (a.log().match(/job \S+: started/g) ?? []).length;
    await until(() => (a.log().match(/job \S+: started/g) ?? []).length > startedBefore);
    const started = [...a.log().matchAll(/job (\S+): started/g)].map((m) => m[1]!);
    const finished = new Set([...a.log().matchAll(/job (\S+): done/g)].map((m) => m[1]!));
    const held = started.filter((j) => !finished.has(j));
    await killAndWait(a.child);
    expect(held.length).toBeGreaterThan(0);
    const c = verboseWorker(redis.url);
    workers.push(c.child);
    const [r1, r2] = await Promise.all([first.exit, second.exit]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r2.code, r2.stderr).toBe(0);
    // The jobs the dead worker held were taken again (after the stalled check) and finished elsewhere.
    for (const j of held) expect(`${b.log()}${c.log()}`).toContain(`job ${j}: done`);
    for (const dir of [dirOne, join(two.dir, "out", "small")]) {
      const input = loadReportInput(dir);
      expect(input.incomplete).toEqual([]);
      expect(input.runs.map((r) => r.summary.status)).toEqual(input.runs.map(() => "complete"));
      expect(duplicates(dir)).toEqual([]);
      expect(keptImages(input)).toEqual(expected);
    }
  });

  it("the coordinator SIGKILLed mid-way and run again finishes from the run folders and the queue", async () => {
    if (workers.filter((w) => w.exitCode === null && w.signalCode === null).length === 0) {
      const w = spawnWorker(redis.url);
      workers.push(w);
      await workerReady(w);
    }
    const cut = writeConfig(CONFIG);
    const dir = join(cut.dir, "out", "small");
    const first = coordinator(cut.path, redis.url);
    await until(() => linesWritten(dir) >= 17);
    await killAndWait(first.child);
    expect((loadReportInput(dir).incomplete ?? []).length).toBeGreaterThan(0);
    const again = coordinator(cut.path, redis.url);
    const r = await again.exit;
    expect(r.code, r.stderr).toBe(0);
    const input = loadReportInput(dir);
    expect(input.incomplete).toEqual([]);
    expect(duplicates(dir)).toEqual([]);
    expect(keptImages(input)).toEqual(expected);
  });
});
