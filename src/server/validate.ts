import type { z } from "zod";
import { prepareRun } from "../api.js";
import { loadCalibration } from "../calibrate.js";
import type { Calibration } from "../calibration/schema.js";
import { SETTING_DEFAULTS } from "../config/settings.js";
import { issueMessage, runConfigSchema, type RunConfigInput } from "../config/schema.js";
import { InputError } from "../core/errors.js";
import { resolveTarget, type TargetSpec } from "../core/target.js";
import { applyTaxonomyPatch, builtinTaxonomy, type Taxonomy } from "../core/taxonomy.js";
import { getObserver } from "../observers/index.js";
import { createProvider } from "../providers/index.js";
import type { KeyScope } from "../providers/http.js";
import type { FieldError } from "./api-types.js";

/**
 * What POST /api/runs accepts: the run config of a config file, except `out` (runs always go into the
 * dashboard's runs folder). Reusing the config schema keeps the form, the CLI and the files in step.
 */
export const runRequestSchema = runConfigSchema.omit({ out: true });

type RunRequest = z.infer<typeof runRequestSchema>;

export type Validation = { ok: true; config: RunConfigInput } | { ok: false; errors: FieldError[] };

/** One message per zod issue (per unknown key), named by its path in the settings; worded as the CLI words it. */
function zodFieldErrors(error: z.ZodError, body: unknown): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const field = path ? `${path}.${key}` : key;
        const message =
          key === "out" && !path
            ? "not accepted here: the dashboard puts runs into its own runs folder (debiaspi serve --runs DIR)"
            : `unknown setting "${key}"${path ? "" : `; accepted: ${Object.keys(runRequestSchema.shape).join(", ")}`}`;
        out.push({ field, message });
      }
      continue;
    }
    let message = issueMessage(issue);
    // A wrong type names the value given (the form may send text for a number); a fraction stays "must be a whole number".
    if (issue.code === "invalid_type" && issue.expected !== "int") {
      const given = valueAt(body, issue.path);
      message = `expected ${issue.expected}${given === undefined ? "" : `, got ${describe(given)}`}`;
    }
    out.push({ field: path || "form", message });
  }
  return out;
}

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

/** Runs `check`; an InputError becomes an error on the field it names, else on `field`. */
function attempt(errors: FieldError[], field: string, check: () => void): boolean {
  try {
    check();
    return true;
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    errors.push({ field: e.field ?? field, message: e.message });
    return false;
  }
}

/**
 * Checks run settings from the form or a script, field by field, with the same code a run uses, so
 * every problem is reported next to the field that causes it before anything starts. Problems no
 * single field explains are reported on `form`.
 */
export function validateRunRequest(body: unknown, runsDir: string, keyScope: KeyScope = "env"): Validation {
  const parsed = runRequestSchema.safeParse(body);
  // Every problem at once: when some settings are malformed, the others are still checked (without them).
  const schemaErrors = parsed.success ? [] : zodFieldErrors(parsed.error, body);
  const bad = new Set(parsed.success ? [] : parsed.error.issues.flatMap((i) => (i.path.length > 0 ? [String(i.path[0])] : i.code === "unrecognized_keys" ? i.keys : [])));
  let input: RunRequest;
  if (parsed.success) input = parsed.data;
  else {
    const rest = body !== null && typeof body === "object" && !Array.isArray(body) ? Object.fromEntries(Object.entries(body).filter(([k]) => !bad.has(k))) : {};
    const again = runRequestSchema.safeParse(rest);
    if (!again.success) return { ok: false, errors: schemaErrors };
    input = again.data;
  }
  const errors: FieldError[] = [];
  const finish = (): Validation => ({ ok: false, errors: [...schemaErrors, ...errors.filter((e) => !bad.has(e.field.split(".")[0]!))] });
  if (!input.prompt && !bad.has("prompt")) errors.push({ field: "prompt", message: "a prompt is needed, e.g. \"a photo of the face of a CEO\"" });

  let taxonomy: Taxonomy | undefined;
  const taxonomyOk = attempt(errors, input.professions?.length ? "professions" : "taxonomy", () => {
    taxonomy = applyTaxonomyPatch(builtinTaxonomy(), { ...(input.taxonomy ?? {}), professions: input.professions ?? [] });
  });
  const n = input.n ?? SETTING_DEFAULTS.n;
  if (taxonomyOk && taxonomy) {
    const tax = taxonomy;
    const target = (field: string, spec: TargetSpec): boolean => attempt(errors, field, () => void resolveTarget(tax, spec, n));
    for (const a of input.attributes ?? []) target("attributes", { attributes: [a] });
    for (const [a, w] of Object.entries(input.target ?? {})) target(`target.${a}`, { attributes: [], weights: { [a]: w } });
    const jointOk = (input.joint ?? []).map((group) => target("joint", { attributes: [], joint: [group] }));
    // Each key against all the joint groups (a key may name a group's attributes in any order), as the run will.
    if (jointOk.every(Boolean)) {
      for (const [key, w] of Object.entries(input.jointTarget ?? {})) target(`jointTarget.${key}`, { attributes: [], joint: input.joint ?? [], jointWeights: { [key]: w } });
    }
    attempt(errors, "provider", () => void createProvider(input.provider ?? SETTING_DEFAULTS.provider, { taxonomy: tax, sim: input.sim ?? {}, options: input.providerOptions ?? {}, keyScope }));
  }
  // The calibration first: the simulated observer is built from it.
  let calibration: Calibration | undefined;
  const calibrationOk = input.calibration === undefined || attempt(errors, "calibration", () => void (calibration = loadCalibration(input.calibration!)));
  const observer = input.observer ?? SETTING_DEFAULTS.observer;
  if (calibrationOk) attempt(errors, "observer", () => void getObserver(observer, { options: input.observerOptions?.[observer] ?? {}, keyScope, ...(calibration ? { calibration } : {}) }));
  for (const c of input.checks ?? []) attempt(errors, "checks", () => void getObserver(c, { options: input.observerOptions?.[c] ?? {}, keyScope }));
  if (input.maxAttempts !== undefined && input.maxAttempts < n) errors.push({ field: "maxAttempts", message: `must be at least N (${n})` });
  if (errors.length > 0 || schemaErrors.length > 0) return finish();

  const config: RunConfigInput = { ...input, out: runsDir };
  // A driving observer blind to a controlled attribute comes back on the observer field.
  attempt(errors, "form", () => void prepareRun(config, "run settings", keyScope));
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config };
}
