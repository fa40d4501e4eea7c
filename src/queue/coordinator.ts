import { readFileSync, rmSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { Queue, QueueEvents, type Job } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import type { AttemptExecutor, AttemptOutcome } from "../engine/executor.js";
import type { GenerateResult } from "../providers/types.js";
import type { Pacer } from "../util/pace.js";
import { parseQueueUrl, QUEUE_NAME, QueueError, REDIS_PASSWORD_ENV, type QueueAddress } from "./connection.js";
import {
  attemptJobId,
  AttemptJobResultSchema,
  imageKey,
  issuesText,
  JOB_FORMAT,
  QUEUE_RETENTION_S,
  type AttemptJobData,
  type AttemptJobResult,
  type RunJobSpec,
} from "./jobs.js";

/** How long the coordinator waits for Redis at start before it says it cannot reach it, ms. */
export const QUEUE_CONNECT_TIMEOUT_MS = 5000;

type RedisLike = Awaited<Queue["client"]>;

/**
 * The coordinator's side of the queue, one per process (shared by every run of an experiment): it adds
 * one job per attempt and waits for its result. When Redis goes away (stopped, restarted, unreachable)
 * `lost` aborts, the runs stop as after Ctrl-C (nothing recorded is lost) and `failure` says why.
 */
export class AttemptQueue {
  private readonly controller = new AbortController();
  private closing = false;
  failure: QueueError | undefined;

  private constructor(
    readonly address: QueueAddress,
    private readonly queue: Queue<AttemptJobData, AttemptJobResult>,
    private readonly events: QueueEvents,
    private readonly client: RedisLike,
  ) {}

  /** Aborts when the connection to Redis is lost. */
  get lost(): AbortSignal {
    return this.controller.signal;
  }

  /** Connects (within QUEUE_CONNECT_TIMEOUT_MS) or throws a QueueError naming the address. */
  static async open(url: string, env: NodeJS.ProcessEnv = process.env): Promise<AttemptQueue> {
    const address = parseQueueUrl(url, env);
    await preflight(address);
    // Fail at once on a refused connection instead of queueing commands until Redis comes back.
    const connection = { ...(address.connection as object), enableOfflineQueue: false, maxRetriesPerRequest: 1 };
    const queue = new Queue<AttemptJobData, AttemptJobResult>(QUEUE_NAME, { connection });
    const events = new QueueEvents(QUEUE_NAME, { connection: address.connection });
    let firstError: Error | undefined;
    const onEarly = (e: Error): void => {
      firstError ??= e;
    };
    queue.on("error", onEarly);
    events.on("error", onEarly);
    let timer: NodeJS.Timeout | undefined;
    try {
      const ready = Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
      const timeout = new Promise<never>((_, reject) => {
        timer = setInterval(() => {
          if (firstError || Date.now() - started > QUEUE_CONNECT_TIMEOUT_MS) reject(firstError ?? new Error(`no answer in ${QUEUE_CONNECT_TIMEOUT_MS} ms`));
        }, 50);
      });
      const started = Date.now();
      await Promise.race([ready, timeout]);
      const client = await queue.client;
      // One listener pair per attempt in flight, across every run of the process.
      events.setMaxListeners(0);
      const q = new AttemptQueue(address, queue, events, client);
      queue.off("error", onEarly);
      events.off("error", onEarly);
      q.watch();
      return q;
    } catch (e) {
      await Promise.all([shut(queue), shut(events)]);
      throw new QueueError(`queue ${address.label}: cannot reach Redis (${reason(e)}); start it, or check the address and ${REDIS_PASSWORD_ENV}`);
    } finally {
      clearInterval(timer);
    }
  }

  /** Marks the queue lost: every run on it stops as after Ctrl-C. */
  private lose(why: string): void {
    if (this.closing || this.failure) return;
    this.failure = new QueueError(`queue ${this.address.label}: connection to Redis lost (${why}); the attempts in flight were not recorded and the run folders are resumable`);
    this.controller.abort(this.failure);
  }

  private watch(): void {
    const lose = (why: string): void => this.lose(why);
    this.queue.on("error", (e) => lose(reason(e)));
    this.events.on("error", (e) => lose(reason(e)));
    // A restarted Redis without persistence comes back empty: reconnecting silently would wait forever for jobs it forgot.
    this.client.on("close", () => lose("connection closed"));
    this.events.client.then(
      (c) => c.on("close", () => lose("connection closed")),
      (e: unknown) => lose(reason(e)),
    );
  }

  /**
   * An executor for one run: its jobs carry `spec` and are named by its namespace. With `pacer` (the run's `--rate`)
   * the coordinator hands the workers at most that many attempts a second, evenly spaced: the workers are shared by
   * several runs and machines, so the run's limit is kept where its attempts come from. A job still waits for a free
   * worker, so when every worker is busy a few can start close together (at most the run's --concurrency).
   */
  executor(spec: RunJobSpec, pacer?: Pacer): AttemptExecutor {
    return {
      run: async (attempt, hooks) => {
        const signal = hooks.signal ? AbortSignal.any([hooks.signal, this.lost]) : this.lost;
        if (signal.aborted) return undefined;
        if (pacer) {
          const paced = await pacer.wait(signal).then(
            () => true,
            () => false,
          );
          if (!paced) return undefined;
        }
        const jobId = attemptJobId(spec.namespace, attempt);
        const data: AttemptJobData = { format: JOB_FORMAT, ...spec, attempt };
        const job = await untilAborted(
          this.queue.add("attempt", data, { jobId, attempts: 1, removeOnComplete: { age: QUEUE_RETENTION_S }, removeOnFail: { age: QUEUE_RETENTION_S } }),
          signal,
        ).catch((e: unknown) => this.cancelOr(e));
        if (!job) return undefined;
        let value: unknown;
        try {
          value = await this.finished(job, signal);
        } catch (e) {
          if (signal.aborted || this.failure) {
            if (!this.failure) await removeQuietly(job);
            return undefined;
          }
          // The job failed on the worker side (bad job data, or it stalled more often than allowed).
          return { error: `queue job ${jobId} failed: ${reason(e)}`, ms: 0 };
        }
        if (value === undefined) {
          await removeQuietly(job);
          return undefined;
        }
        return this.collect(jobId, value, hooks.onGenerated);
      },
    };
  }

  /**
   * The job's return value once a worker finished it (at once for a job finished before, which a resumed
   * coordinator adopts); rejects with the reason when it failed, with Aborted when `signal` aborts.
   * (Not BullMQ's waitUntilFinished: a Redis that dies while it checks leaves an unhandled rejection.)
   */
  private finished(job: Job<AttemptJobData, AttemptJobResult>, signal: AbortSignal): Promise<unknown> {
    // QueueEvents also emits `completed:<id>` and `failed:<id>` per job (what waitUntilFinished listens to); its typings list only the general events.
    const perJob = this.events as unknown as NodeJS.EventEmitter;
    return new Promise((resolve, reject) => {
      const id = job.id!;
      const done = (args: { returnvalue: unknown }): void => {
        cleanup();
        resolve(args.returnvalue);
      };
      const failed = (args: { failedReason: string }): void => {
        cleanup();
        reject(new Error(args.failedReason));
      };
      const aborted = (): void => {
        cleanup();
        reject(new Aborted());
      };
      const cleanup = (): void => {
        perJob.off(`completed:${id}`, done);
        perJob.off(`failed:${id}`, failed);
        signal.removeEventListener("abort", aborted);
      };
      if (signal.aborted) return aborted();
      perJob.on(`completed:${id}`, done);
      perJob.on(`failed:${id}`, failed);
      signal.addEventListener("abort", aborted, { once: true });
      // Finished before we listened: its state says so.
      void (async () => {
        const state = await job.getState();
        if (state !== "completed" && state !== "failed") return;
        const stored = await this.queue.getJob(id);
        if (!stored) return;
        if (state === "completed") done({ returnvalue: stored.returnvalue });
        else failed({ failedReason: stored.failedReason });
      })().catch((e: unknown) => this.lose(reason(e)));
    });
  }

  /** A failed add: cancelled when the run stopped; else Redis refused it, and the queue is lost. */
  private cancelOr(e: unknown): undefined {
    if (!(e instanceof Aborted)) this.lose(reason(e));
    return undefined;
  }

  /** Turns a worker's result into the loop's outcome, fetching the image where the worker left it. */
  private async collect(jobId: string, value: unknown, onGenerated: (r: GenerateResult, ms: number) => void): Promise<AttemptOutcome | undefined> {
    const parsed = AttemptJobResultSchema.safeParse(value);
    if (!parsed.success) return { error: `queue job ${jobId}: the worker's result is not readable (${issuesText(parsed.error)}); is the worker another version?`, ms: 0 };
    const r = parsed.data as AttemptJobResult;
    if (r.error !== undefined || !r.result) return { error: r.error ?? "worker returned no result", ms: r.ms };
    const { image: where, ...rest } = r.result;
    const result: GenerateResult = { ...rest } as GenerateResult;
    let cleanup: (() => Promise<unknown>) | undefined;
    if (where) {
      let bytes: Buffer | null;
      if ("key" in where) {
        // BullMQ's client speaks strings: the image is base64 in Redis.
        const text = await this.client.get(imageKey(jobId)).catch((e: unknown) => {
          this.lose(reason(e));
          return null;
        });
        bytes = text === null ? null : Buffer.from(text, "base64");
        cleanup = () => this.client.del(imageKey(jobId)).catch(() => 0);
      } else {
        const file = isAbsolute(where.file) ? where.file : join(process.cwd(), where.file);
        try {
          bytes = readFileSync(file);
        } catch {
          bytes = null;
        }
        cleanup = async () => rmSync(file, { force: true });
      }
      if (bytes === null) {
        if (this.failure) return undefined;
        return { error: `queue job ${jobId}: the image of ${where.bytes} bytes is no longer in ${"key" in where ? "Redis" : where.file} (collected after ${QUEUE_RETENTION_S} s, or by another coordinator)`, ms: r.ms };
      }
      result.image = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    // The image goes into the run folder with its pending record before its copy in Redis is dropped.
    onGenerated(result, r.ms);
    await cleanup?.();
    return { result, ms: r.ms, ...(r.observation ? { observation: r.observation } : {}), ...(r.checks ? { checks: r.checks } : {}) };
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([shut(this.events), shut(this.queue)]);
  }
}

/** How long close() may wait for BullMQ to close a connection nicely before it is cut. */
const CLOSE_WAIT_MS = 1000;

/** Closes a BullMQ object; one that never connected (or lost Redis) would wait forever, so it is then cut. */
async function shut(x: Queue | QueueEvents): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const nice = x.close().then(
    () => true,
    () => false,
  );
  const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), CLOSE_WAIT_MS)));
  const closed = await Promise.race([nice, late]);
  clearTimeout(timer);
  // Not awaited: BullMQ's disconnect waits for a connection that may never have been made.
  if (!closed) void x.disconnect().catch(() => undefined);
}

/**
 * One connection and PING, without retries: a refused connection, a wrong password or a silent host
 * is a QueueError at once (BullMQ's own connections would retry for ever).
 */
async function preflight(address: QueueAddress): Promise<void> {
  const client = new Redis({
    ...(address.connection as RedisOptions),
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: QUEUE_CONNECT_TIMEOUT_MS,
  });
  let seen: unknown;
  client.on("error", (e: unknown) => (seen ??= e));
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new QueueError(`queue ${address.label}: cannot reach Redis (${reason(seen ?? e)}); start it, or check the address and ${REDIS_PASSWORD_ENV}`);
  } finally {
    client.disconnect();
  }
}

class Aborted extends Error {}

/** `p`, or a rejection with Aborted as soon as `signal` aborts. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Aborted());
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** Removes a job nobody waits for any more (a job a worker holds cannot be removed: its result is then ignored). */
async function removeQuietly(job: Job): Promise<void> {
  await job.remove().catch(() => undefined);
}

const reason = (e: unknown): string => {
  const err = e as { code?: string; message?: string };
  return (err?.code ?? err?.message ?? String(e)).split("\n")[0]!;
};
