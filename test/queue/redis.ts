import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { parseQueueUrl } from "../../src/queue/connection.js";
import { startWorker, type RunningWorker } from "../../src/queue/worker.js";
import { tempDir } from "../cli/helpers.js";

export const BIN = resolve(__dirname, "../../bin/debiaspi.js");

/** Where redis-server is, if installed (`.ci/run` installs Debian's). */
export const REDIS_SERVER = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).stdout.trim() || undefined;

/**
 * Under CI (`.ci/run` sets DEBIASPI_REQUIRE_REDIS=1) a missing redis-server fails the suite loudly;
 * on a developer's machine without it the queue tests are skipped with a message.
 */
export function redisAvailable(): boolean {
  if (REDIS_SERVER) return true;
  if (process.env.DEBIASPI_REQUIRE_REDIS || process.env.CI) throw new Error("test/queue: redis-server is not installed (apt-get install -y redis-server); CI requires it");
  console.warn("test/queue: skipped: no redis-server on PATH (apt-get install -y redis-server)");
  return false;
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}

export interface TestRedis {
  port: number;
  url: string;
  /** Stops it (SIGKILL: nothing kept, as a crash). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
}

/** A throwaway redis-server on a free loopback port, without persistence, in a temp folder. */
export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = tempDir("debiaspi-redis-");
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const c = spawn(REDIS_SERVER!, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
    child = c;
    await new Promise<void>((ready, fail) => {
      let out = "";
      const onData = (b: Buffer): void => {
        out += b.toString();
        if (out.includes("Ready to accept connections")) ready();
      };
      c.stdout!.on("data", onData);
      c.once("exit", (code) => fail(new Error(`redis-server exited with ${code}: ${out.slice(-400)}`)));
    });
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((gone) => {
      c.once("exit", () => gone());
      c.kill("SIGKILL");
    });
  };
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, stop, restart: start };
}

/** A `debiaspi worker` process with a short stalled-job check. */
export function spawnWorker(url: string, concurrency = 2, stallMs = 1000): ChildProcess {
  return spawn(process.execPath, [BIN, "worker", "--queue", url, "--concurrency", String(concurrency), "--stall-ms", String(stallMs)], { stdio: ["ignore", "ignore", "pipe"] });
}

/** Resolves once the worker says it is connected. */
export function workerReady(w: ChildProcess): Promise<void> {
  return new Promise((ready, fail) => {
    let err = "";
    w.stderr!.on("data", (b: Buffer) => {
      err += b.toString();
      if (err.includes(" at once, provider")) ready();
    });
    w.once("exit", (code) => fail(new Error(`worker exited with ${code}: ${err}`)));
  });
}

export function killAndWait(p: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((gone) => {
    p.once("exit", () => gone());
    p.kill(signal);
  });
}

/** A describe block's redis-server and one in-process worker (concurrency 4): started before its tests, stopped after. */
export function redisWithWorker(): { readonly redis: TestRedis } {
  const env: { redis: TestRedis; worker?: RunningWorker } = { redis: undefined as unknown as TestRedis };
  beforeAll(async () => {
    env.redis = await startRedis();
    env.worker = await startWorker({ address: parseQueueUrl(env.redis.url), concurrency: 4, stallMs: 1000 });
  });
  afterAll(async () => {
    await env.worker?.close();
    await env.redis?.stop();
  });
  return env;
}
