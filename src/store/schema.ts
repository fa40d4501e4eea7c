import { z } from "zod";
import type { Target } from "../core/target.js";
import type { Taxonomy } from "../core/taxonomy.js";
import type { AttemptEvent, EndEvent, PendingRecord, RunEvent } from "./events.js";

/**
 * What a run folder's files must hold, checked when a folder is loaded: run.json, each line of
 * events.jsonl and each pending/ record. The one place that knows the shape of an event line.
 */

const assignment = z.record(z.string(), z.string());

const requestSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("plain") }),
  z.object({ kind: z.literal("eip"), attributes: z.array(z.string()) }),
  z.object({ kind: z.literal("direct"), cells: assignment, slot: z.number().int().optional() }),
  z.object({ kind: z.literal("choice"), options: z.array(assignment) }),
]);

const observationSchema = z.object({
  observer: z.string(),
  persons: z.array(
    z.object({
      labels: z.record(z.string(), z.string().nullable()),
      confidence: z.record(z.string(), z.number()).optional(),
    }),
  ),
  note: z.string().optional(),
  error: z.string().optional(),
});

const count = z.number().int().min(0);

const pendingShape = {
  type: z.literal("attempt"),
  i: count,
  t: z.string(),
  request: requestSchema,
  prompt: z.string(),
  seed: z.number().int(),
  outcome: z.enum(["image", "refusal", "error"]),
  image: z.string().regex(/^images\/[^/\\]+$/, "must be images/FILE").optional(),
  refusal: z.string().optional(),
  error: z.string().optional(),
  selfReport: z.array(z.record(z.string(), z.string())).optional(),
  revisedPrompt: z.string().optional(),
  costUsd: z.number().min(0).optional(),
  warnings: z.array(z.string()).optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
  ms: z.number().min(0),
};

export const pendingSchema = z.object(pendingShape);

export const attemptSchema = z.object({
  ...pendingShape,
  observation: observationSchema.optional(),
  checks: z.array(observationSchema).optional(),
  decision: z.enum(["kept", "overflow", "unknown", "surplus", "refused", "error"]),
  kept: count,
  /** Old line shape only (lines once carried the whole tally); read and ignored. */
  tally: z.record(z.string(), z.record(z.string(), count)).optional(),
});

export const endSchema = z.object({
  type: z.literal("end"),
  t: z.string(),
  reason: z.enum(["complete", "budget", "provider-errors", "observer-errors", "cost"]),
  message: z.string().optional(),
});

export const eventSchema = z.discriminatedUnion("type", [attemptSchema, endSchema]);

// The schemas and the event types in events.ts must agree (a compile error here says where they drift).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree: [Same<z.infer<typeof attemptSchema>, AttemptEvent>, Same<z.infer<typeof endSchema>, EndEvent>, Same<z.infer<typeof pendingSchema>, PendingRecord>] = [
  true,
  true,
  true,
];
void agree;

const categorySchema = z.object({ id: z.string().min(1), label: z.string(), phrase: z.string(), aliases: z.array(z.string()), observedOnly: z.boolean().optional() });
const taxonomySchema = z.object({
  attributes: z
    .array(
      z.object({
        id: z.string().min(1),
        label: z.string(),
        ordered: z.boolean(),
        slot: z.enum(["adjective", "noun", "suffix"]),
        categories: z.array(categorySchema),
      }),
    )
    .min(1),
});

const factorSchema = z.object({
  id: z.string().min(1),
  attributes: z.array(z.string().min(1)).min(1),
  cells: z.array(z.array(z.string())).min(1),
  q: z.array(z.number().min(0).max(1)),
  bins: z.array(count),
});

const targetSchema = z.object({ n: z.number().int().min(1), factors: z.array(factorSchema), attributes: z.array(z.string()) });

/**
 * run.json's config as the store reads it: the settings every reader of a run folder relies on, with their
 * types; the other keys are kept as they are. What each setting may hold is config's business: the run
 * loaders check the whole config with `storedConfig` (src/config/stored.ts), so the store imports no config/.
 */
const recordConfigSchema = z
  .object({
    prompt: z.string(),
    n: z.number().int().min(1),
    seed: z.number().int(),
    policy: z.string(),
    mode: z.string(),
    overflow: z.string(),
    concurrency: z.number().int().min(1),
    maxAttempts: z.number().int().min(1),
    provider: z.string(),
    observer: z.string(),
  })
  .loose();

/** The settings every reader of a run folder relies on (what the store checks of run.json's config). */
export interface StoredSettings {
  prompt: string;
  n: number;
  seed: number;
  policy: string;
  mode: string;
  overflow: string;
  concurrency: number;
  maxAttempts: number;
  provider: string;
  observer: string;
}

/** run.json's config as the store reads it: those settings, and the others as they are (config/ names the full type). */
export type StoredConfig = z.infer<typeof recordConfigSchema>;
// The schema and StoredSettings must agree (a compile error here says where they drift).
const settingsAgree: Same<Pick<StoredConfig, keyof StoredSettings>, StoredSettings> = true;
void settingsAgree;

export const runRecordSchema = z
  .object({
    format: z.string(),
    id: z.string().min(1),
    createdAt: z.string(),
    version: z.string(),
    config: recordConfigSchema,
    taxonomy: taxonomySchema,
    target: targetSchema,
  })
  .superRefine((rec, ctx) => {
    const { target, taxonomy } = rec;
    if (target.n !== rec.config.n) ctx.addIssue({ code: "custom", path: ["target", "n"], message: `is ${target.n} but config.n is ${rec.config.n}` });
    target.factors.forEach((f, fi) => {
      const at = (key: string): (string | number)[] => ["target", "factors", fi, key];
      if (f.q.length !== f.cells.length) ctx.addIssue({ code: "custom", path: at("q"), message: `has ${f.q.length} shares for ${f.cells.length} cells` });
      if (f.bins.length !== f.cells.length) ctx.addIssue({ code: "custom", path: at("bins"), message: `has ${f.bins.length} quotas for ${f.cells.length} cells` });
      const sum = f.bins.reduce((s, b) => s + b, 0);
      if (sum !== target.n) ctx.addIssue({ code: "custom", path: at("bins"), message: `add up to ${sum}, not n = ${target.n}` });
      f.attributes.forEach((a, k) => {
        const attr = taxonomy.attributes.find((x) => x.id === a);
        if (!attr) return ctx.addIssue({ code: "custom", path: at("attributes"), message: `names "${a}", which is not in the run's taxonomy` });
        const bad = f.cells.find((c) => c.length !== f.attributes.length || !attr.categories.some((cat) => cat.id === c[k]));
        if (bad) ctx.addIssue({ code: "custom", path: at("cells"), message: `cell "${bad.join("|")}" is not a category combination of ${f.attributes.join(", ")}` });
      });
    });
  });

/**
 * What run.json holds: `format` (checked by the loader first, so an older format gets its own message), the run's
 * id, when and by which version it was made, its settings, taxonomy and target. `Config` is the settings' type:
 * the store checks only `StoredConfig`; config/ checks and names the rest (`RunConfig`).
 */
export interface RunRecord<Config extends StoredSettings = StoredConfig> {
  format: string;
  id: string;
  createdAt: string;
  version: string;
  config: Config;
  taxonomy: Taxonomy;
  target: Target;
}

/** A validated run.json as the store reads it. */
export type StoredRun = RunRecord;

/** One line for the first problem a zod check found in a file ("run.json: target.factors.0.q: ..."). */
export function fileProblem(error: z.ZodError, where: string): string {
  const issue = error.issues[0]!;
  const path = issue.path.length > 0 ? issue.path.map(String).join(".") : "";
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? "s" : ""})` : "";
  let msg = issue.message;
  if (issue.code === "invalid_union" && path === "type") msg = `must be "attempt" or "end"`;
  return `${where}: ${path ? `${path}: ` : ""}${msg}${more}`;
}

export type { RunEvent };
