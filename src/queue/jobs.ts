import { createHash } from "node:crypto";
import { z } from "zod";
import type { Observation, Request } from "../core/request.js";
import type { Taxonomy } from "../core/taxonomy.js";
import type { Attempt } from "../engine/executor.js";
import { generateResultFieldsSchema } from "../core/generation.js";

/** Version of the job and result shapes; a worker refuses jobs of another version with a clear reason. */
export const JOB_FORMAT = 1;

/** Largest image carried back through Redis; past it the worker reports an error naming --queue-dir. */
export const MAX_QUEUE_IMAGE_BYTES = 8 * 1024 * 1024;

/** How long finished jobs and images not yet collected stay in Redis, s (a coordinator that died and resumes within it adopts them). */
export const QUEUE_RETENTION_S = 3600;

/** How an image travels from a worker to the coordinator. */
export type ImageTransfer =
  /** Bytes in a Redis key of their own (not in the job), up to `maxBytes`. */
  | { kind: "redis"; maxBytes: number }
  /** A file in a folder every worker and the coordinator see under the same path (NFS, a shared volume). */
  | { kind: "dir"; dir: string };

/** What a run's jobs share: how to build the provider and observers on a worker, and where images go. */
export interface RunJobSpec {
  /** Unique per run folder; job ids start with it, so runs and experiments can share one queue. */
  namespace: string;
  provider: { spec: string; options: Record<string, unknown>; sim: Record<string, unknown> };
  observer: { id: string; options: Record<string, unknown> };
  checks: { id: string; options: Record<string, unknown> }[];
  taxonomy: Taxonomy;
  transfer: ImageTransfer;
}

export interface AttemptJobData extends RunJobSpec {
  format: typeof JOB_FORMAT;
  attempt: Attempt;
}

/** What a worker returns (as the job's return value; the image goes separately, see ImageTransfer). */
export interface AttemptJobResult {
  format: typeof JOB_FORMAT;
  /** host:pid of the worker, for the log. */
  worker: string;
  ms: number;
  error?: string;
  /** The generation result's JSON fields (core/generation.ts), with where its image is instead of the bytes. */
  result?: z.output<typeof wireResultSchema>;
  observation?: Observation;
  checks?: Observation[];
}

const record = z.record(z.string(), z.unknown());

/** A generation result on the wire: its JSON fields as declared once in core/generation.ts, and where the image is (a Redis key or a file in the shared folder, with its size). */
const wireResultSchema = generateResultFieldsSchema.extend({
  image: z.union([z.object({ key: z.string(), bytes: z.number().int().min(0) }), z.object({ file: z.string(), bytes: z.number().int().min(0) })]).optional(),
});
const objectOf = <T>(what: string) => z.custom<T>((v) => typeof v === "object" && v !== null && !Array.isArray(v), { message: `${what} must be an object` });

/** The job data as a worker reads it (an input edge: Redis holds whatever anyone put there). */
export const AttemptJobDataSchema = z.object({
  format: z.literal(JOB_FORMAT),
  namespace: z.string().min(1),
  attempt: z.object({ i: z.number().int().min(0), prompt: z.string(), seed: z.number().int(), request: objectOf<Request>("attempt.request") }),
  provider: z.object({ spec: z.string().min(1), options: record, sim: record }),
  observer: z.object({ id: z.string().min(1), options: record }),
  checks: z.array(z.object({ id: z.string().min(1), options: record })),
  taxonomy: objectOf<Taxonomy>("taxonomy"),
  transfer: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("redis"), maxBytes: z.number().int().positive() }),
    z.object({ kind: z.literal("dir"), dir: z.string().min(1) }),
  ]),
});

/** A worker's result as the coordinator reads it. */
export const AttemptJobResultSchema = z.object({
  format: z.literal(JOB_FORMAT),
  worker: z.string(),
  ms: z.number().min(0),
  error: z.string().optional(),
  result: wireResultSchema.optional(),
  observation: objectOf<Observation>("observation").optional(),
  checks: z.array(objectOf<Observation>("checks[]")).optional(),
});

/** Every zod issue of a failed parse on one line. */
export const issuesText = (error: z.ZodError): string => error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");

/** A run's namespace: stable for one run folder (same path, same run), different for any other. */
export function runNamespace(absDir: string, runId: string, createdAt: string): string {
  return `r${createHash("sha256").update(`${absDir}\n${runId}\n${createdAt}`).digest("hex").slice(0, 16)}`;
}

/**
 * The job id of an attempt: run namespace and attempt index, so a job BullMQ retries (a worker died) is
 * one job and is recorded once; with a short hash of what is asked, so a resumed coordinator that
 * issues another request under an index it had in flight before the kill does not get the old answer.
 */
export function attemptJobId(namespace: string, attempt: Attempt): string {
  const what = createHash("sha256").update(JSON.stringify([attempt.prompt, attempt.seed, attempt.request])).digest("hex").slice(0, 8);
  return `${namespace}-${attempt.i}-${what}`;
}

/** The Redis key an image waits under for its coordinator. */
export const imageKey = (jobId: string): string => `debiaspi:image:${jobId}`;
