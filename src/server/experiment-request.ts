import { z } from "zod";
import { SETTING_DEFAULTS } from "../config/settings.js";
import { issueMessage } from "../config/schema.js";
import { EXPERIMENT_DEFAULTS, planExperiment, validateExperimentConfig, type PlannedExperiment } from "../experiments/config.js";
import { BUILTIN_PROMPT_SETS, loadPromptSet } from "../experiments/prompt-sets.js";
import { InputError } from "../core/errors.js";
import { slugify } from "../core/taxonomy.js";
import type { FieldError } from "./api-types.js";
import { validateRunRequest } from "./validate.js";
import type { KeyScope } from "../http/keys.js";

/** The most prompts of a set one dashboard experiment runs (a larger study belongs in a config file). */
export const MAX_SET_PROMPTS = 200;

/** What POST /api/experiments takes besides the run settings: which prompts, and whether to add the no-control baseline. */
const experimentPart = z
  .object({
    promptSet: z.enum(BUILTIN_PROMPT_SETS),
    limit: z.number().int("must be a whole number").min(1, "must be at least 1").max(MAX_SET_PROMPTS, `must be at most ${MAX_SET_PROMPTS}`).optional(),
    baseline: z.boolean().optional(),
    title: z.string().trim().min(1).max(200).optional(),
  })
  .strict();

export type ExperimentValidation = { ok: true; plan: PlannedExperiment } | { ok: false; errors: FieldError[] };

const PART_KEYS = ["promptSet", "limit", "baseline", "title"] as const;

/** A short name of the target, as experiment configs write it: "gender,race", "race+gender", "... (weighted)". */
function targetName(s: { attributes?: string[]; joint?: string[][]; target?: Record<string, unknown>; jointTarget?: Record<string, unknown> }): string {
  const parts = [...(s.attributes ?? []), ...Object.keys(s.target ?? {}).filter((a) => !(s.attributes ?? []).includes(a)), ...(s.joint ?? []).map((g) => g.join("+"))];
  const weighted = Object.keys(s.target ?? {}).length > 0 || Object.keys(s.jointTarget ?? {}).length > 0;
  return `${parts.join(",") || "gender,race"}${weighted ? " (weighted)" : ""}`;
}

/**
 * Checks a request to run one set of run settings over the prompts of a built-in prompt set (the
 * first `limit`, spread over the set), optionally with the `none` baseline on the same prompts and
 * seeds, and plans it as an experiment in `experimentsDir`.
 */
export function validateExperimentRequest(body: unknown, experimentsDir: string, now: Date = new Date(), keyScope: KeyScope = "env"): ExperimentValidation {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return { ok: false, errors: [{ field: "form", message: "expected a JSON object of settings" }] };
  const raw = body as Record<string, unknown>;
  const partInput = Object.fromEntries(PART_KEYS.filter((k) => raw[k] !== undefined).map((k) => [k, raw[k]]));
  const part = experimentPart.safeParse(partInput);
  const errors: FieldError[] = [];
  if (!part.success) {
    for (const issue of part.error.issues) {
      const field = issue.path.map(String).join(".") || "form";
      // The prompt sets are listed as loadPromptSet lists them; the rest is worded as the CLI words it.
      errors.push({ field, message: issue.code === "invalid_value" ? `must be one of ${BUILTIN_PROMPT_SETS.join(", ")}` : issueMessage(issue) });
    }
  }
  const settings = Object.fromEntries(Object.entries(raw).filter(([k]) => !(PART_KEYS as readonly string[]).includes(k)));
  if (settings.prompt !== undefined) errors.push({ field: "prompt", message: "an experiment takes its prompts from the prompt set; leave prompt out" });
  const setId = part.success ? part.data.promptSet : "headlines";
  const set = loadPromptSet(setId, experimentsDir, "promptSet");
  // The run settings are checked as for one run, on the set's first prompt.
  const run = validateRunRequest({ ...settings, prompt: set.prompts[0]!.text }, experimentsDir, keyScope);
  if (!run.ok) errors.push(...run.errors);
  if (errors.length > 0 || !part.success || !run.ok) return { ok: false, errors };

  const { prompt: _prompt, out: _out, n, policy, observer, provider, seed, attributes, target, joint, jointTarget, ...shared } = run.config;
  const p = part.data;
  const policies = [...new Set([...(p.baseline ? ["none" as const] : []), policy ?? SETTING_DEFAULTS.policy])];
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "").replace("T", "-");
  const id = `${setId}-${slugify(policies.join("-")).replace(/_/g, "-")}-${stamp}`.toLowerCase();
  const controlled = { ...(attributes ? { attributes } : {}), ...(target ? { target } : {}), ...(joint ? { joint } : {}), ...(jointTarget ? { jointTarget } : {}) };
  const targetSpec = { id: targetName(controlled), ...controlled };
  try {
    const config = validateExperimentConfig(
      {
        id,
        title: p.title ?? `${setId}: ${policies.join(" vs ")}, ${targetSpec.id}, N ${n ?? EXPERIMENT_DEFAULTS.n}`,
        out: experimentsDir,
        ...(seed !== undefined ? { seed } : {}),
        prompts: [{ set: setId, limit: p.limit ?? 10, spread: true }],
        policies,
        targets: [targetSpec],
        observers: [observer ?? SETTING_DEFAULTS.observer],
        providers: [provider ?? SETTING_DEFAULTS.provider],
        n: n ?? EXPERIMENT_DEFAULTS.n,
        settings: shared,
      },
      "experiment settings",
    );
    return { ok: true, plan: planExperiment(config, { source: "experiment settings", baseDir: experimentsDir, defaultId: id }) };
  } catch (e) {
    if (e instanceof InputError) return { ok: false, errors: [{ field: "form", message: e.message }] };
    throw e;
  }
}
