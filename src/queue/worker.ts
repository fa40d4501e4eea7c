import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { Worker, type Job } from "bullmq";
import type { SimOverrides } from "../config/schema.js";
import { localExecutor, type AttemptTools } from "../engine/executor.js";
import { getObserver } from "../observers/index.js";
import { createProvider } from "../providers/index.js";
import type { GenerateResult } from "../providers/types.js";
import { DEFAULT_STALL_MS, QUEUE_NAME, type QueueAddress } from "./connection.js";
import { AttemptJobDataSchema, imageKey, issuesText, JOB_FORMAT, QUEUE_RETENTION_S, type AttemptJobData, type AttemptJobResult } from "./jobs.js";

const EXT: Record<string, string> = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp" };

/** How often a job may stall (its worker died) before it fails instead of being taken again. */
export const MAX_STALLS = 5;

export interface WorkerSettings {
  address: QueueAddress;
  /** Jobs this worker runs at once. */
  concurrency: number;
  /** Use this provider instead of the one each job names (a GPU box's own A1111 or ComfyUI). */
  provider?: string;
  /** Provider options for `provider` (keys only ever from the environment). */
  providerOptions?: Record<string, unknown>;
  /** Lock time and stalled-job check interval, ms. */
  stallMs?: number;
  env?: NodeJS.ProcessEnv;
  /** One line per event worth telling (start, errors). */
  log?: (line: string) => void;
  /** Also one line when a job starts and when it ends. */
  verbose?: boolean;
}

export interface RunningWorker {
  readonly id: string;
  /** Finishes the jobs in hand, then disconnects. */
  close(): Promise<void>;
}

/**
 * A stateless worker: takes one attempt at a time per slot, generates it with the job's provider (or
 * its own), runs the job's observers, leaves the image where the job says and returns the outcome.
 * Providers and observers are built once per distinct setting and reused.
 */
export async function startWorker(settings: WorkerSettings): Promise<RunningWorker> {
  const id = `${hostname()}:${process.pid}`;
  const log = settings.log ?? (() => undefined);
  const tools = new Map<string, AttemptTools>();
  const toolsFor = (data: AttemptJobData): AttemptTools => {
    const provider = settings.provider
      ? { spec: settings.provider, options: settings.providerOptions ?? {}, sim: data.provider.sim }
      : data.provider;
    const key = JSON.stringify([provider, data.observer, data.checks, data.taxonomy]);
    let t = tools.get(key);
    if (!t) {
      const env = settings.env ?? process.env;
      t = {
        provider: createProvider(provider.spec, { taxonomy: data.taxonomy, sim: provider.sim as SimOverrides, options: provider.options, env }),
        observer: getObserver(data.observer.id, { options: data.observer.options, env }),
        checkers: data.checks.map((c) => getObserver(c.id, { options: c.options, env })),
        taxonomy: data.taxonomy,
      };
      tools.set(key, t);
    }
    return t;
  };

  let worker: Worker<unknown, AttemptJobResult> | undefined;
  const process_ = async (job: Job<unknown, AttemptJobResult>): Promise<AttemptJobResult> => {
    const parsed = AttemptJobDataSchema.safeParse(job.data);
    // A job this worker cannot read fails (the coordinator records an error), it is not retried.
    if (!parsed.success) throw new Error(`job ${job.id}: not a debiaspi job of format ${JOB_FORMAT} (${issuesText(parsed.error)})`);
    const data = parsed.data as AttemptJobData;
    if (settings.verbose) log(`worker ${id}: job ${job.id}: started`);
    const result = await attempt(job, data);
    if (settings.verbose) log(`worker ${id}: job ${job.id}: done in ${result.ms} ms (${result.error !== undefined ? "error" : result.result?.refusal ? "refusal" : "image"})`);
    return result;
  };

  const attempt = async (job: Job<unknown, AttemptJobResult>, data: AttemptJobData): Promise<AttemptJobResult> => {
    const base = { format: JOB_FORMAT, worker: id } as const;
    let t: AttemptTools;
    try {
      t = toolsFor(data);
    } catch (e) {
      return { ...base, ms: 0, error: `worker ${id}: ${(e as Error).message}` };
    }
    let generated: GenerateResult | undefined;
    const outcome = await localExecutor(t).run(data.attempt, { onGenerated: (r) => (generated = r) });
    if (!outcome) return { ...base, ms: 0, error: `worker ${id}: attempt cancelled` };
    if (outcome.error !== undefined || !generated) return { ...base, ms: outcome.ms, error: outcome.error ?? "no result" };
    const { image, ...rest } = generated;
    const result: NonNullable<AttemptJobResult["result"]> = { ...rest };
    if (image) {
      const jobId = String(job.id);
      if (data.transfer.kind === "redis") {
        if (image.byteLength > data.transfer.maxBytes) {
          const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;
          return {
            ...base,
            ms: outcome.ms,
            error: `image of ${mb(image.byteLength)} is over the queue's limit of ${mb(data.transfer.maxBytes)}; give the coordinator --queue-dir <a folder every machine shares>`,
          };
        }
        const client = await worker!.client;
        await client.set(imageKey(jobId), Buffer.from(image.buffer, image.byteOffset, image.byteLength).toString("base64"), { EX: QUEUE_RETENTION_S });
        result.image = { key: imageKey(jobId), bytes: image.byteLength };
      } else {
        mkdirSync(data.transfer.dir, { recursive: true });
        const file = join(data.transfer.dir, `${jobId}.${EXT[generated.mime ?? "image/png"] ?? "bin"}`);
        writeFileSync(`${file}.tmp-${process.pid}`, image);
        renameSync(`${file}.tmp-${process.pid}`, file);
        result.image = { file, bytes: image.byteLength };
      }
    }
    return {
      ...base,
      ms: outcome.ms,
      result,
      ...(outcome.observation ? { observation: outcome.observation } : {}),
      ...(outcome.checks && outcome.checks.length > 0 ? { checks: outcome.checks } : {}),
    };
  };

  const stallMs = settings.stallMs ?? DEFAULT_STALL_MS;
  worker = new Worker<unknown, AttemptJobResult>(QUEUE_NAME, process_, {
    connection: settings.address.connection,
    concurrency: settings.concurrency,
    lockDuration: stallMs,
    stalledInterval: stallMs,
    maxStalledCount: MAX_STALLS,
    autorun: false,
  });
  let lastError = "";
  worker.on("error", (e) => {
    // ioredis reconnects by itself; say so once per distinct failure, not once per retry.
    const msg = (e as { code?: string }).code ?? e.message.split("\n")[0]!;
    if (msg !== lastError) log(`worker ${id}: queue ${settings.address.label}: ${msg} (retrying)`);
    lastError = msg;
  });
  worker.on("ready", () => {
    if (lastError) log(`worker ${id}: connected to ${settings.address.label} again`);
    lastError = "";
  });
  await worker.waitUntilReady();
  void worker.run().catch((e: unknown) => log(`worker ${id}: stopped: ${(e as Error).message}`));
  log(`worker ${id} on ${settings.address.label}: ${settings.concurrency} at once, provider ${settings.provider ?? "named by each job"}`);
  return {
    id,
    close: async () => {
      await worker!.close();
    },
  };
}
