/**
 * Scale-out: kept images per second with 1, 2 and 4 `debiaspi worker` processes behind one Redis, on sim
 * with 200 ms latency, and what the coordinator pays per image (its own CPU time; the workers are other
 * processes). Starts its own redis-server (Debian's) on a free loopback port, without persistence.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../src/api.js";
import type { RunConfigInput } from "../src/config/schema.js";
import { AttemptQueue } from "../src/queue/coordinator.js";
import { packageRoot } from "../src/util/paths.js";
import { fmt, mdTable, pct, progress } from "./util.js";

export const QUEUE_LATENCY_MS = 200;
export const QUEUE_PROMPT = "Startup founder rings the opening bell at the stock exchange";

/** Worker processes (one generation at a time each, as one GPU), images per run, and whether images are rendered and stored. */
export const QUEUE_LEVELS: readonly { workers: number; n: number; render: boolean }[] = [
  { workers: 1, n: 20, render: false },
  { workers: 2, n: 40, render: false },
  { workers: 4, n: 80, render: false },
  { workers: 4, n: 80, render: true },
];

/** The coordinator keeps this many attempts in flight per worker, so a worker has its next job while a result travels back. */
export const QUEUE_IN_FLIGHT_PER_WORKER = 2;

export interface QueueBenchRow {
  workers: number;
  /** "queue", or "local" for the same run without a queue (the loop calls sim in-process). */
  mode: "queue" | "local";
  render: boolean;
  n: number;
  concurrency: number;
  seconds: number;
  kept: number;
  generations: number;
  imagesPerSecond: number;
  /** Coordinator CPU (user + system) per generation, ms. */
  cpuMsPerImage: number;
  exact: boolean;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}

function waitFor(child: ChildProcess, text: string, what: string): Promise<void> {
  return new Promise((ready, fail) => {
    let out = "";
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (out.includes(text)) ready();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => fail(new Error(`${what} exited with ${code}: ${out.slice(-300)}`)));
  });
}

const stop = (p: ChildProcess): Promise<void> =>
  p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((gone) => (p.once("exit", () => gone()), p.kill("SIGTERM")));

export async function queueBench(): Promise<QueueBenchRow[]> {
  const redisPath = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).stdout.trim();
  if (!redisPath) throw new Error("bench queue: redis-server is not installed (apt-get install -y redis-server)");
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "debiaspi-bench-queue-"));
  const redis = spawn(redisPath, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
  await waitFor(redis, "Ready to accept connections", "redis-server");
  const url = `redis://127.0.0.1:${port}`;
  const bin = join(packageRoot(), "bin", "debiaspi.js");
  const rows: QueueBenchRow[] = [];
  const queue = await AttemptQueue.open(url);
  try {
    for (const level of QUEUE_LEVELS) {
      const workers = Array.from({ length: level.workers }, () =>
        spawn(process.execPath, [bin, "worker", "--queue", url, "--concurrency", "1"], { stdio: ["ignore", "ignore", "pipe"] }),
      );
      await Promise.all(workers.map((w) => waitFor(w, " at once, provider", "worker")));
      const concurrency = level.workers * QUEUE_IN_FLIGHT_PER_WORKER;
      try {
        for (const mode of ["queue", "local"] as const) {
          const settings: RunConfigInput = {
            prompt: QUEUE_PROMPT,
            n: level.n,
            joint: [["gender", "race"]],
            policy: "debiaspi",
            overflow: "discard",
            seed: 910_000 + level.n,
            // Locally, as many in flight as the queue has workers: the same number of "GPUs".
            concurrency: mode === "queue" ? concurrency : level.workers,
            out: join(dir, "runs"),
            sim: { latencyMs: QUEUE_LATENCY_MS, render: level.render },
          };
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          const { summary } = await run(settings, { inMemory: !level.render, ...(mode === "queue" ? { queue } : {}) });
          const seconds = (performance.now() - t0) / 1000;
          const cpu = process.cpuUsage(cpu0);
          const row: QueueBenchRow = {
            workers: level.workers,
            mode,
            render: level.render,
            n: level.n,
            concurrency: settings.concurrency!,
            seconds,
            kept: summary.kept,
            generations: summary.generations,
            imagesPerSecond: summary.kept / seconds,
            cpuMsPerImage: (cpu.user + cpu.system) / 1000 / Math.max(1, summary.generations),
            exact: summary.exact,
          };
          rows.push(row);
          progress(`queue: ${mode} W=${level.workers} N=${level.n}${level.render ? " rendered" : ""}: ${seconds.toFixed(1)} s, ${row.imagesPerSecond.toFixed(2)} images/s, ${fmt(row.cpuMsPerImage, 2)} ms CPU/image`);
        }
      } finally {
        await Promise.all(workers.map(stop));
      }
    }
  } finally {
    await queue.close();
    await stop(redis);
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function queueTable(rows: readonly QueueBenchRow[]): string {
  return mdTable(
    ["workers", "where", "images", "N", "in flight", "wall s", "kept images/s", "ideal images/s", "share of ideal", "gen/kept", "coordinator CPU ms/image", "exact"],
    rows.map((r) => {
      const ideal = r.workers / (QUEUE_LATENCY_MS / 1000);
      return [
        String(r.workers),
        r.mode === "queue" ? "queue" : "local (no queue)",
        r.render ? "PNG, run folder" : "none, memory",
        String(r.n),
        String(r.concurrency),
        fmt(r.seconds, 2),
        fmt(r.imagesPerSecond, 2),
        fmt(ideal, 0),
        pct(r.imagesPerSecond / ideal),
        fmt(r.generations / Math.max(1, r.kept), 2),
        fmt(r.cpuMsPerImage, 2),
        r.exact ? "yes" : "no",
      ];
    }),
    ["r", "l", "l", "r", "r", "r", "r", "r", "r", "r", "r", "l"],
  );
}

/** The BENCHMARKS.md section. */
export function queueSection(rows: readonly QueueBenchRow[]): string {
  const q = rows.filter((r) => r.mode === "queue" && !r.render);
  const one = q.find((r) => r.workers === 1);
  const scaling = q.map((r) => `${r.workers} worker${r.workers > 1 ? "s" : ""}: ${fmt(r.imagesPerSecond, 2)} images/s (x${fmt(one ? r.imagesPerSecond / one.imagesPerSecond : Number.NaN, 2)})`).join("; ");
  return `## 7. Scale-out through a queue (BullMQ on Redis)

\`debiaspi worker\` processes on this machine take attempts from one redis-server (Debian's, started by the bench on a
loopback port, no persistence); the coordinator is \`run(settings, { queue })\` in the bench process. sim with
\`latencyMs: ${QUEUE_LATENCY_MS}\` stands in for a GPU: each worker runs one generation at a time (\`--concurrency 1\`), so the
ideal is workers / ${QUEUE_LATENCY_MS / 1000} s. The coordinator keeps ${QUEUE_IN_FLIGHT_PER_WORKER} attempts in flight per worker, so a worker has its next job
while a result travels back. Debiaspi direct with discard, gender x race joint target, prompt "${QUEUE_PROMPT}".
*local (no queue)* is the same run without a queue at concurrency = workers (the same number of "GPUs"), sim called
in the coordinator. Rows with *PNG, run folder* render 512 px PNGs on the workers, carry them back through Redis
and write a real run folder; the others are in memory without images.

**Columns.** *coordinator CPU ms/image*: the coordinator's own user + system CPU time per generation
(\`process.cpuUsage\`), which is what one coordinator spends to drive the workers: job in, result out, tally, events
and images written. The workers' CPU is not in it.

${queueTable(rows)}

Scaling on the queue (no images): ${scaling}.
`;
}
