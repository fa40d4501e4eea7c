import type { Command } from "commander";
import { InputError } from "../core/errors.js";
import { builtinTaxonomy } from "../core/taxonomy.js";
import { createProvider } from "../providers/index.js";
import type { AttemptQueue } from "../queue/coordinator.js";
import { DEFAULT_STALL_MS, parseQueueUrl, QueueError } from "../queue/connection.js";
import { EXIT, type Io } from "./common.js";
import { parseProviderOptions, wholeNumber } from "./flags.js";

export interface QueueFlags {
  queue?: string;
  queueDir?: string;
}

/** `--queue URL` and `--queue-dir DIR` on a command that runs attempts (run, resume, experiment). */
export function addQueueOptions(cmd: Command): Command {
  return cmd
    .option("--queue <redis-url>", "generate and observe on `debiaspi worker` processes through this Redis (redis://HOST:PORT); this process keeps the run folders")
    .option("--queue-dir <dir>", "with --queue: images come back through this folder, seen under the same path by every worker, instead of through Redis");
}

/** The resume command of a run or experiment, with the same --queue flags. */
export const withQueueFlags =
  (hint: (dir: string | undefined) => string, flags: QueueFlags): ((dir: string | undefined) => string) =>
  (dir) =>
    `${hint(dir)}${flags.queue ? ` --queue ${flags.queue}` : ""}${flags.queueDir ? ` --queue-dir ${flags.queueDir}` : ""}`;

/**
 * Runs `work` with the queue the flags name (none without --queue), closing it after. A lost queue
 * becomes one line saying how to continue (`hint` of the folder `work` reports through `dir`).
 */
export async function withQueue<T>(
  flags: QueueFlags,
  hint: (dir: string | undefined) => string,
  work: (queue: { queue?: AttemptQueue; queueDir?: string }, dir: { current?: string }) => Promise<T>,
): Promise<T> {
  if (flags.queueDir !== undefined && flags.queue === undefined) throw new InputError("--queue-dir needs --queue (it says where a queue's workers leave images)");
  if (flags.queue === undefined) return work({}, {});
  parseQueueUrl(flags.queue);
  // BullMQ is loaded only by commands that use a queue (start-up time of every other command).
  const { AttemptQueue } = await import("../queue/coordinator.js");
  const queue = await AttemptQueue.open(flags.queue);
  const dir: { current?: string } = {};
  try {
    return await work({ queue, ...(flags.queueDir !== undefined ? { queueDir: flags.queueDir } : {}) }, dir);
  } catch (e) {
    if (e instanceof QueueError) throw new QueueError(`${e.message}; once Redis is back, continue with: ${withQueueFlags(hint, flags)(dir.current)}`);
    throw e;
  } finally {
    await queue.close();
  }
}

export function registerWorkerCommand(program: Command, io: Io): void {
  program
    .command("worker")
    .description("take attempts from a queue (generate, then observe) for `run/experiment --queue`; stateless, run as many as you like, each beside its GPU endpoint")
    .requiredOption("--queue <redis-url>", "the Redis the coordinators use (redis://HOST:PORT; password from DEBIASPI_REDIS_PASSWORD)")
    .option("-c, --concurrency <count>", "attempts this worker runs at once (default 1)", wholeNumber("--concurrency", { min: 1, max: 256 }))
    .option("--provider <name[:model-or-url]>", "generate with this provider instead of the one each run names (e.g. a1111:http://127.0.0.1:7860)")
    .option("-P, --provider-option <key=value>", "a setting of --provider (repeatable)", (v: string, prev: string[] = []) => [...prev, v])
    .option("--stall-ms <ms>", `a job whose worker died is taken again after about this long (default ${DEFAULT_STALL_MS})`, wholeNumber("--stall-ms", { min: 200, max: 600_000 }))
    .option("--verbose", "one line on stderr when a job starts and when it ends")
    .action(async (opts: { queue: string; concurrency?: number; provider?: string; providerOption?: string[]; stallMs?: number; verbose?: boolean }) => {
      if (opts.providerOption && !opts.provider) throw new InputError("worker: -P/--provider-option needs --provider (the jobs' own providers bring their options)");
      const address = parseQueueUrl(opts.queue);
      const providerOptions = parseProviderOptions(opts.providerOption ?? []);
      // A bad --provider or option stops here, before the worker takes any job.
      if (opts.provider) createProvider(opts.provider, { taxonomy: builtinTaxonomy(), sim: {}, options: providerOptions });
      const { startWorker } = await import("../queue/worker.js");
      const worker = await startWorker({
        address,
        concurrency: opts.concurrency ?? 1,
        ...(opts.provider ? { provider: opts.provider, providerOptions } : {}),
        ...(opts.stallMs !== undefined ? { stallMs: opts.stallMs } : {}),
        log: io.err,
        verbose: Boolean(opts.verbose),
      });
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          io.err(`worker ${worker.id}: finishing the jobs in hand, then stopping`);
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          resolve();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      await worker.close();
      program.setOptionValue("exitCode", EXIT.ok);
    });
}
