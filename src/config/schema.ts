import { z } from "zod";
import { POLICY_IDS } from "../policies/types.js";
import { MAX_N } from "../core/target.js";
import { GENDER_PRESETS } from "../core/taxonomy.js";
import { checkThresholdsSchema } from "./check-schema.js";

const weights = z.record(z.string(), z.number());

const categoryEdit = z
  .object({
    id: z.string().min(1),
    label: z.string().optional(),
    phrase: z.string().optional(),
    aliases: z.array(z.string()).optional(),
  })
  .strict();

const templatesSchema = z
  .object({
    plain: z.string(),
    eip: z.string(),
    direct: z.string(),
    choice: z.string(),
    random: z.string(),
  })
  .partial()
  .strict();

/** Overrides of the simulated model's parameters (see src/providers/sim/params.ts). */
const simSchema = z
  .object({
    compliance: z
      .object({
        default: z.number().min(0).max(1),
        attributes: z.record(z.string(), z.number().min(0).max(1)),
        categories: z.record(z.string(), z.record(z.string(), z.number().min(0).max(1))),
      })
      .partial()
      .strict(),
    defaultMaleShare: z.number().min(0).max(1),
    prior: z.object({ race: weights, age: weights, body_type: weights }).partial().strict(),
    skinBroad: z.record(z.string(), z.array(z.number().min(0)).length(10)),
    skinNarrow: z.record(z.string(), z.array(z.number().min(0)).length(10)),
    instructionGenderPull: z.number().min(0).max(1),
    eipGenderPull: z.number().min(0).max(1),
    reportMismatch: z.number().min(0).max(1),
    refusalRate: z.number().min(0).max(1),
    latencyMs: z.number().min(0).max(600_000),
    render: z.boolean(),
  })
  .partial()
  .strict();

/**
 * The run config: the same settings as the `run` flags, as a YAML (or JSON) file. Every key is
 * optional here; defaults fill in the rest (see RUN_DEFAULTS).
 */
export const runConfigSchema = z
  .object({
    prompt: z
      .string()
      .trim()
      .min(1, { message: "must not be empty", abort: true })
      // Zero-width and other format characters are invisible: a prompt of only those is empty too.
      .refine((p) => /[^\p{White_Space}\p{Cf}\p{Cc}]/u.test(p), "must have a visible character"),
    n: z.number().int("must be a whole number").min(1, "must be at least 1").max(MAX_N, `must be at most ${MAX_N}`),
    attributes: z.array(z.string().min(1)),
    target: z.record(z.string(), weights),
    joint: z.array(z.array(z.string().min(1))),
    jointTarget: z.record(z.string(), weights),
    policy: z.enum(POLICY_IDS),
    mode: z.enum(["direct", "choice"]),
    subgroup: z.number().int().min(0),
    order: z.enum(["deficit", "effort"]),
    overflow: z.enum(["keep", "discard"]),
    seed: z.number().int().min(0).max(0xffffffff),
    concurrency: z.number().int().min(1).max(256),
    maxAttempts: z.number().int().min(1),
    out: z.string().min(1),
    provider: z.string().min(1),
    /** Provider settings (size, steps, ...); each provider validates its own. Never API keys: those come from the environment. */
    providerOptions: z.record(z.string(), z.unknown()),
    /** Reuse cached provider responses (same provider, model, prompt, seed, options). */
    cache: z.boolean(),
    /** Requests per second at most, for providers with rate limits. */
    rate: z.number().positive().max(10_000),
    observer: z.string().min(1),
    /** Further observers that look at every image without driving the loop; their agreement with it is reported. */
    checks: z.array(z.string().min(1)),
    /** What the attribute tables count: the main subject (largest face) of each image, or every person. */
    counting: z.enum(["main-subject", "per-person"]),
    /** Observer settings, per observer id: { vlm: { model: gpt-4o } }. */
    observerOptions: z.record(z.string(), z.record(z.string(), z.unknown())),
    /** A calibration file of the driving observer (debiaspi calibrate): corrected estimates, steering on them, the simulated observer. */
    calibration: z.string().min(1),
    /** With a calibration: fill bins from the corrected estimate (default) or from the raw labels. */
    steer: z.enum(["corrected", "raw"]),
    professions: z.array(z.string()),
    /** Gender categories: binary (default), non-binary, inclusive (non-binary and "can't tell"); see GENDER_PRESETS. */
    genderCategories: z.enum(GENDER_PRESETS),
    /** Stop (resumably) before the next call would take the run's spending past this many US dollars. */
    maxCost: z.number().min(0),
    taxonomy: z
      .object({
        attributes: z.record(
          z.string(),
          z
            .object({
              label: z.string(),
              ordered: z.boolean(),
              slot: z.enum(["adjective", "noun", "suffix"]),
              replace: z.boolean(),
              categories: z.array(categoryEdit),
            })
            .partial()
            .strict(),
        ),
      })
      .partial()
      .strict(),
    templates: templatesSchema,
    sim: simSchema,
    /** Thresholds of `debiaspi check` (see src/config/check-schema.ts). */
    check: checkThresholdsSchema,
  })
  .partial()
  .strict();

export type RunConfigInput = z.infer<typeof runConfigSchema>;
export type SimOverrides = z.infer<typeof simSchema>;
export type TemplateOverrides = z.infer<typeof templatesSchema>;

/** One line for a zod error: where, what was wrong, what is accepted. */
export function formatZodError(error: z.ZodError, source: string, nameOf: (path: string) => string = (p) => p): string {
  const issue = error.issues[0];
  if (!issue) return `${source}: invalid`;
  const path = issue.path.length > 0 ? nameOf(issue.path.map(String).join(".")) : "(top level)";
  let msg = issueMessage(issue);
  if (issue.code === "unrecognized_keys" && path === "(top level)") msg += `; accepted: ${Object.keys(runConfigSchema.shape).join(", ")}`;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? "s" : ""})` : "";
  return `${source}: ${path}: ${msg}${more}`;
}

/** What was wrong in one zod issue, in the CLI's words ("must be at least 1"); the CLI and the dashboard both say it so. */
export function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  if (issue.code === "invalid_value" && "values" in issue) return `must be one of ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
  // zod's own wording; a message written in the schema is kept as it is
  if (/^(Too small|Too big|Invalid input)\b/.test(issue.message)) return boundMessage(issue) ?? issue.message;
  return issue.message;
}

/** zod's bound and whole-number issues in the CLI's words ("must be at least 1"), for every key alike. */
function boundMessage(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code === "invalid_type" && issue.expected === "int") return "must be a whole number";
  if (issue.code !== "too_small" && issue.code !== "too_big") return undefined;
  const small = issue.code === "too_small";
  const bound = String(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  const exact = "exact" in issue && issue.exact === true;
  switch (issue.origin) {
    case "number":
    case "int":
    case "bigint":
      return `must be ${small ? (inclusive ? "at least" : "more than") : inclusive ? "at most" : "less than"} ${bound}`;
    case "string":
      if (exact) return `must have exactly ${bound} characters`;
      return small && bound === "1" ? "must not be empty" : `must have ${small ? "at least" : "at most"} ${bound} characters`;
    case "array":
    case "set":
      return `must have ${exact ? "exactly" : small ? "at least" : "at most"} ${bound} item${bound === "1" ? "" : "s"}`;
    default:
      return undefined;
  }
}
