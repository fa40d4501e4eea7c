import type { z } from "zod";
import { planRun, type PlanError, type RunPlan } from "../app/plan-run.js";
import { issueMessage, runConfigSchema, type RunConfigInput } from "../config/schema.js";
import { SETTING_DEFAULTS } from "../config/settings.js";
import { InputError } from "../core/errors.js";
import { createProvider } from "../providers/index.js";
import type { KeyScope } from "../http/keys.js";
import type { FieldError } from "./api-types.js";

/** The settings POST /api/runs accepts: those of a config file except `out` (runs always go into the dashboard's runs folder). */
const ACCEPTED = Object.keys(runConfigSchema.shape).filter((k) => k !== "out");

export type Validation = { ok: true; config: RunConfigInput; plan: RunPlan } | { ok: false; errors: FieldError[] };

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v = body;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return `text ${JSON.stringify(v.length > 30 ? `${v.slice(0, 30)}...` : v)}`;
  return typeof v;
}

/** A schema problem in the form's words: an unknown setting with what is accepted; a wrong type with the value given. */
function dashboardMessage(e: PlanError, body: unknown): string {
  const { issue } = e;
  if (!issue) return e.message;
  if (issue.code === "unrecognized_keys") return `unknown setting "${e.key}"${issue.path.length > 0 ? "" : `; accepted: ${ACCEPTED.join(", ")}`}`;
  // A wrong type names the value given (the form may send text for a number); a fraction stays "must be a whole number".
  if (issue.code === "invalid_type" && issue.expected !== "int") {
    const given = valueAt(body, issue.path);
    return `expected ${issue.expected}${given === undefined ? "" : `, got ${describe(given)}`}`;
  }
  return issueMessage(issue as z.core.$ZodIssue);
}

/**
 * Checks run settings from the form or a script with planRun, the check every run goes through, so every
 * problem is reported at once next to the field that causes it, before anything starts. The provider is
 * built too (not started): a missing key or a base URL the dashboard may not send it to shows on `provider`.
 */
export function validateRunRequest(body: unknown, runsDir: string, keyScope: KeyScope = "env"): Validation {
  const errors: FieldError[] = [];
  let values = body;
  if (body !== null && typeof body === "object" && !Array.isArray(body) && "out" in body) {
    errors.push({ field: "out", message: "not accepted here: the dashboard puts runs into its own runs folder (debiaspi serve --runs DIR)" });
    values = Object.fromEntries(Object.entries(body).filter(([k]) => k !== "out"));
  }
  const outcome = planRun([{ source: "", values }, { source: "", values: { out: runsDir } }], { keyScope });
  if (!outcome.ok) errors.push(...outcome.errors.map((e) => ({ field: e.field, message: dashboardMessage(e, body) })));
  // The provider is built (not called) with what passed: a missing key shows beside the other problems.
  const input = outcome.ok ? outcome.plan.input : outcome.input;
  const taxonomy = outcome.ok ? outcome.plan.taxonomy : outcome.taxonomy;
  if (taxonomy && !errors.some((e) => ["provider", "providerOptions", "sim"].includes(e.field.split(".")[0]!))) {
    try {
      createProvider(input.provider ?? SETTING_DEFAULTS.provider, { taxonomy, sim: input.sim ?? {}, options: input.providerOptions ?? {}, keyScope });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      errors.push({ field: e.field ?? "provider", message: e.message });
    }
  }
  if (errors.length > 0 || !outcome.ok) return { ok: false, errors };
  return { ok: true, config: outcome.plan.input, plan: outcome.plan };
}
