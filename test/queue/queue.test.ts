import { drawPng } from "../../src/image/drawing.js";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "bullmq";
import { describe, expect, it } from "vitest";
import { resume, run } from "../../src/api.js";
import { resolveRun } from "../../src/config/resolve.js";
import { parseQueueUrl, QUEUE_NAME, QueueError } from "../../src/queue/connection.js";
import { AttemptQueue } from "../../src/queue/coordinator.js";
import { attemptJobId, runNamespace, type RunJobSpec } from "../../src/queue/jobs.js";
import { cli, tempDir } from "../cli/helpers.js";
import { freePort, redisAvailable, redisWithWorker } from "./redis.js";

describe("--queue input", () => {
  it("reads redis URLs and refuses a password in them, a wrong scheme and a bad database", () => {
    expect(parseQueueUrl("redis://10.0.0.5:7000/2", {}).connection).toEqual({ host: "10.0.0.5", port: 7000, db: 2 });
    expect(parseQueueUrl("redis://h", { DEBIASPI_REDIS_PASSWORD: "s3cret" }).connection).toMatchObject({ port: 6379, password: "s3cret" });
    expect(parseQueueUrl("redis://h", { DEBIASPI_REDIS_PASSWORD: "s3cret" }).label).not.toContain("s3cret");
    expect(() => parseQueueUrl("redis://:pw@h:1", {})).toThrow(/DEBIASPI_REDIS_PASSWORD, not in the URL/);
    expect(() => parseQueueUrl("http://h:1", {})).toThrow(/scheme http: is not redis:/);
    expect(() => parseQueueUrl("redis://h:1/x", {})).toThrow(/database "x" is not a number/);
  });

  it("the CLI says in one line what is wrong (exit 2), and that a dead Redis cannot be reached (exit 1) before any folder is made", async () => {
    const out = tempDir();
    const bad = await cli("run", "a photo of a nurse", "-n", "2", "-o", out, "--queue", "localhost:6379");
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toMatch(/--queue "localhost:6379"/);
    const orphan = await cli("run", "a photo of a nurse", "-n", "2", "-o", out, "--queue-dir", out);
    expect(orphan.code).toBe(2);
    expect(orphan.stderr).toMatch(/--queue-dir needs --queue/);
    const port = await freePort();
    const dead = await cli("run", "a photo of a nurse", "-n", "2", "-o", out, "--queue", `redis://127.0.0.1:${port}`);
    expect(dead.code).toBe(1);
    expect(dead.stderr).toMatch(new RegExp(`queue redis://127.0.0.1:${port}: cannot reach Redis \\(ECONNREFUSED\\)`));
    expect(readdirSync(out)).toEqual([]);
    const worker = await cli("worker", "--queue", "redis://127.0.0.1:1", "--provider", "nosuch");
    expect(worker.code).toBe(2);
    expect(worker.stderr).toMatch(/unknown provider/);
  });

  it("job ids: the same attempt of the same run gives the same id, another request or run another one", () => {
    const ns = runNamespace("/runs/a", "a", "2026-01-01T00:00:00.000Z");
    const at = { i: 3, prompt: "p", seed: 7, request: { kind: "direct" as const, cells: { gender: "female" } } };
    expect(attemptJobId(ns, at)).toBe(attemptJobId(ns, { ...at }));
    expect(attemptJobId(ns, at)).toMatch(new RegExp(`^${ns}-3-[0-9a-f]{8}$`));
    expect(attemptJobId(ns, { ...at, request: { kind: "direct", cells: { gender: "male" } } })).not.toBe(attemptJobId(ns, at));
    expect(attemptJobId(runNamespace("/runs/b", "a", "2026-01-01T00:00:00.000Z"), at)).not.toBe(attemptJobId(ns, at));
  });
});

const attemptLines = (dir: string): { i: number; decision: string }[] =>
  readFileSync(join(dir, "events.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { type: string; i: number; decision: string })
    .filter((e) => e.type === "attempt");

const haveRedis = redisAvailable();

describe.skipIf(!haveRedis)("queue against redis-server", () => {
  const env = redisWithWorker();

  it("Redis killed mid-run: the run stops with one clear error, and resumes once Redis is back (nothing recorded twice)", async () => {
    const out = tempDir();
    const queue = await AttemptQueue.open(env.redis.url);
    let dir = "";
    let stopped = false;
    const settings = { prompt: "a photo of the face of a judge", n: 24, attributes: ["gender"], seed: 5, concurrency: 3, out, sim: { latencyMs: 40, render: false } };
    const failed = await run(settings, {
      queue,
      onStart: (d) => (dir = d),
      onProgress: (p) => {
        if (p.kept >= 5 && !stopped) {
          stopped = true;
          void env.redis.stop();
        }
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await queue.close();
    expect(failed).toBeInstanceOf(QueueError);
    expect((failed as Error).message).toMatch(/connection to Redis lost .*resumable/);
    expect((failed as Error).message.split("\n")).toHaveLength(1);
    const before = attemptLines(dir);
    expect(before.length).toBeGreaterThan(0);
    expect(before.filter((e) => e.decision === "kept").length).toBeLessThan(24);
    expect(existsSync(join(dir, "run.lock"))).toBe(false);

    // Back, empty (no persistence): the same worker reconnects by itself; resume finishes the run.
    await env.redis.restart();
    const again = await AttemptQueue.open(env.redis.url);
    try {
      const done = await resume(dir, { queue: again });
      expect(done.result.status).toBe("complete");
    } finally {
      await again.close();
    }
    const lines = attemptLines(dir);
    expect(new Set(lines.map((e) => e.i)).size).toBe(lines.length);
    expect(lines.filter((e) => e.decision === "kept")).toHaveLength(24);
  });

  it("an image over the transfer limit is an error naming --queue-dir; through a shared folder it arrives and the file is collected", async () => {
    const queue = await AttemptQueue.open(env.redis.url);
    const resolved = resolveRun({ prompt: "a photo of a chef", n: 2, attributes: ["gender"] });
    const spec = (transfer: RunJobSpec["transfer"], ns: string): RunJobSpec => ({
      namespace: ns,
      // Image files: this test is about moving bytes (a drawing crosses as its name, tested below).
      provider: { spec: "sim", options: {}, sim: { imageFiles: true } },
      observer: { id: "self-report", options: {} },
      checks: [{ id: "skin-tone", options: {} }],
      taxonomy: resolved.taxonomy,
      transfer,
    });
    const attempt = { i: 0, prompt: "a photo of a chef, depicting a woman", seed: 9, request: { kind: "direct" as const, cells: { gender: "female" } } };
    try {
      let generated = 0;
      const tooBig = await queue.executor(spec({ kind: "redis", maxBytes: 100 }, "tlimit")).run(attempt, { onGenerated: () => (generated += 1) });
      expect(tooBig?.error).toMatch(/image of .* MB is over the queue's limit of 0\.0 MB; give the coordinator --queue-dir/);
      expect(generated).toBe(0);

      const shared = tempDir();
      let bytes = 0;
      const ok = await queue.executor(spec({ kind: "dir", dir: shared }, "tdir")).run(attempt, { onGenerated: (r) => (bytes = r.image?.byteLength ?? 0) });
      expect(ok?.error).toBeUndefined();
      expect(bytes).toBeGreaterThan(1000);
      expect(ok?.observation?.observer).toBe("self-report");
      expect(ok?.checks?.map((c) => c.observer)).toEqual(["skin-tone"]);
      expect(readdirSync(shared)).toEqual([]);

      // Through Redis (the default) the same attempt gives the same bytes, and its key is removed after.
      let viaRedis = 0;
      const inline = await queue.executor(spec({ kind: "redis", maxBytes: 8 << 20 }, "tredis")).run(attempt, { onGenerated: (r) => (viaRedis = r.image?.byteLength ?? 0) });
      expect(inline?.error).toBeUndefined();
      expect(viaRedis).toBe(bytes);

      // A drawing (the sim's default) crosses as its name: no bytes travel, so the 100-byte limit is no obstacle,
      // and the worker's skin-tone check, drawn from the name, reads what it read from the file's bytes.
      let drawing: string | undefined;
      const named = await queue
        .executor({ ...spec({ kind: "redis", maxBytes: 100 }, "tdraw"), provider: { spec: "sim", options: {}, sim: {} } })
        .run(attempt, { onGenerated: (r) => (drawing = r.drawing) });
      expect(named?.error).toBeUndefined();
      expect(drawing).toMatch(/^portrait-v1_/);
      expect(drawPng(drawing!)!.byteLength).toBe(bytes);
      expect(named?.checks).toEqual(ok?.checks);
    } finally {
      await queue.close();
    }
  });

  it("a job a worker cannot read fails with the reason instead of being retried", async () => {
    const raw = new Queue(QUEUE_NAME, { connection: parseQueueUrl(env.redis.url).connection });
    try {
      const job = await raw.add("attempt", { format: 99 }, { jobId: "garbage-1" });
      const { QueueEvents } = await import("bullmq");
      const events = new QueueEvents(QUEUE_NAME, { connection: parseQueueUrl(env.redis.url).connection });
      await expect(job.waitUntilFinished(events, 20_000)).rejects.toThrow(/not a debiaspi job of format 1 \(format: /);
      await events.close();
    } finally {
      await raw.close();
    }
  });
});
