import { existsSync } from "node:fs";
import { join } from "node:path";
import type { z } from "zod";
import { loadCalibration, RUN_CALIBRATION_FILE } from "../analysis/load.js";
import { checkCalibrationFits, type Calibration } from "../calibration/schema.js";
import { configProblems, fillRun, mergeConfigs, NO_PROMPT, runTaxonomy, type ResolvedRun, type RunConfig } from "../config/resolve.js";
import { issueMessage, runConfigSchema, type RunConfigInput } from "../config/schema.js";
import { InputError, listAccepted } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { resolveTarget, type TargetSpec } from "../core/target.js";
import { applyTaxonomyPatch, builtinTaxonomy, findAttribute, type Taxonomy } from "../core/taxonomy.js";
import { getObserver, observerEntry, observerIds, type Observer } from "../observers/index.js";
import { parseProviderSpec, providerReports } from "../providers/index.js";
import type { KeyScope } from "../http/keys.js";
import { SIMULATED_ID } from "../observers/simulated.js";

/*
 * planRun: the one way run settings are checked. It merges the layers (a config file, the flags, the dashboard's
 * JSON, code), validates them once and returns EVERY problem with its field, or the resolved plan. The CLI, the
 * server, experiments, `plan` and `doctor` all come through here (mergeLayers for the last two, which need no
 * run); openRun (api.ts) then builds the provider, the observers and the policy from the plan once.
 */

/** One source of settings: a config file, the command line, a dashboard request, code. */
export interface SettingsLayer {
  /** Named in each message ("config file run.yaml"); empty: messages name only the setting (the dashboard). */
  source: string;
  values: unknown;
  /** The name a path goes by in this layer's messages ("maxAttempts" -> "--max-attempts"). */
  nameOf?: (path: string) => string;
}

/** One problem, on the setting at fault ("form" when no single setting explains it). */
export interface PlanError {
  field: string;
  /** One line, as the CLI prints it: its source, the setting's name in that layer, what was wrong, what is accepted. */
  message: string;
  /** The schema issue it comes from, for callers that word those their own way (the dashboard). */
  issue?: z.core.$ZodIssue;
  /** With `issue` of unknown keys: the one key this error is about. */
  key?: string;
}

/** Resolved, checked settings: what openRun builds a run from. */
export interface RunPlan extends ResolvedRun {
  /** The merged settings as given, before defaults (compare varies them; the dashboard records them). */
  input: RunConfigInput;
  /** The calibration file's contents, when the settings name one (checked against the observer and taxonomy). */
  calibration?: Calibration;
}

/** Failed: every error, and the merged settings that passed the schema (a caller may check more of them). */
export type PlanOutcome = { ok: true; plan: RunPlan } | { ok: false; errors: PlanError[]; input: RunConfigInput; taxonomy?: Taxonomy };
export type MergeOutcome = { ok: true; input: RunConfigInput } | { ok: false; errors: PlanError[] };

export interface PlanRunOptions {
  /** Where observers built for the check may send keys (the dashboard passes `env`). */
  keyScope?: KeyScope;
  randomSeed?: () => number;
}

const prefix = (layer: SettingsLayer, path: string): string => (layer.source ? `${layer.source}: ${path}: ` : "");

/** A layer's schema issues as errors (one per unknown key), and the top-level keys they make unusable. */
function schemaErrors(layer: SettingsLayer, error: z.ZodError): { errors: PlanError[]; bad: Set<string> } {
  const nameOf = layer.nameOf ?? ((p: string) => p);
  const errors: PlanError[] = [];
  const bad = new Set<string>();
  for (const issue of error.issues) {
    const path = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const k of issue.keys) bad.add(issue.path.length > 0 ? String(issue.path[0]) : k);
      // One line for the issue (as the CLI has always said it), one error per key (the dashboard marks each).
      const accepted = path ? "" : `; accepted: ${Object.keys(runConfigSchema.shape).join(", ")}`;
      const message = `${layer.source ? `${layer.source}: ${path ? nameOf(path) : "(top level)"}: ` : ""}${issueMessage(issue)}${accepted}`;
      for (const key of issue.keys) errors.push({ field: path ? `${path}.${key}` : key, message, issue, key });
      continue;
    }
    if (issue.path.length > 0) bad.add(String(issue.path[0]));
    errors.push({ field: path || "form", message: `${prefix(layer, path ? nameOf(path) : "(top level)")}${issueMessage(issue)}`, issue });
  }
  return { errors, bad };
}

/** An InputError as a PlanError on its own field, else on `field`. */
const fromInputError = (e: InputError, field: string): PlanError => ({ field: e.field ?? field, message: e.message });

/** Runs `check`; an InputError becomes an error (on its field, else `field`) and false. */
function attempt(errors: PlanError[], field: string, check: () => void): boolean {
  try {
    check();
    return true;
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    errors.push(fromInputError(e, field));
    return false;
  }
}

/**
 * The attribute names each layer gives (target keys, joint groups, attributes) against the taxonomy the merged
 * settings build, so a typo names its file (or flag) and key. A taxonomy that does not build is reported elsewhere.
 */
function attributeNameErrors(layers: readonly { layer: SettingsLayer; values: RunConfigInput }[], merged: RunConfigInput): PlanError[] {
  let tax: Taxonomy;
  try {
    tax = applyTaxonomyPatch(builtinTaxonomy(), { ...(merged.taxonomy ?? {}), professions: merged.professions ?? [] });
  } catch {
    return [];
  }
  const accepted = listAccepted(tax.attributes.map((a) => a.id));
  const errors: PlanError[] = [];
  for (const { layer, values } of layers) {
    const nameOf = layer.nameOf ?? ((p: string) => p);
    const named: [string, string[], (id: string) => string][] = [
      ["target", Object.keys(values.target ?? {}), (id) => `target.${id}`],
      ["joint", (values.joint ?? []).flat(), () => "joint"],
      ["attributes", values.attributes ?? [], () => "attributes"],
    ];
    for (const [key, ids, field] of named) {
      for (const bad of new Set(ids.filter((id) => !findAttribute(tax, id)))) {
        errors.push({ field: field(bad), message: `${prefix(layer, nameOf(key))}unknown attribute "${bad}"; accepted: ${accepted}` });
      }
    }
  }
  return errors;
}

/** Validates each layer (every issue) and merges what is valid; later layers win, key by key. */
function parseLayers(layers: readonly SettingsLayer[]): { errors: PlanError[]; bad: Set<string>; input: RunConfigInput; parsed: { layer: SettingsLayer; values: RunConfigInput }[] } {
  const errors: PlanError[] = [];
  const bad = new Set<string>();
  const parsed: { layer: SettingsLayer; values: RunConfigInput }[] = [];
  for (const layer of layers) {
    const result = runConfigSchema.safeParse(layer.values);
    if (result.success) {
      parsed.push({ layer, values: result.data });
      continue;
    }
    const found = schemaErrors(layer, result.error);
    errors.push(...found.errors);
    for (const k of found.bad) bad.add(k);
    // The other settings of the layer are still checked, without the malformed ones.
    const v = layer.values;
    const rest = v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([k]) => !found.bad.has(k))) : {};
    const again = runConfigSchema.safeParse(rest);
    if (again.success) parsed.push({ layer, values: again.data });
  }
  const input = mergeConfigs(...parsed.map((p) => p.values));
  return { errors, bad, input, parsed };
}

/** Merges and validates the layers (schema and attribute names) without resolving a run: `plan` and `doctor`. */
export function mergeLayers(layers: readonly SettingsLayer[]): MergeOutcome {
  const { errors, input, parsed } = parseLayers(layers);
  if (errors.length > 0) return { ok: false, errors };
  const names = attributeNameErrors(parsed, input);
  return names.length > 0 ? { ok: false, errors: names } : { ok: true, input };
}

/** Each target field alone (a category of target.race, a joint group, a jointTarget key), so every one that is wrong is named. */
function targetErrors(input: RunConfigInput, config: RunConfig, tax: Taxonomy): PlanError[] {
  const n = config.n;
  const errors: PlanError[] = [];
  const check = (field: string, spec: TargetSpec): boolean => attempt(errors, field, () => void resolveTarget(tax, spec, n));
  for (const [a, w] of Object.entries(input.target ?? {})) if (findAttribute(tax, a)) check(`target.${a}`, { attributes: [], weights: { [a]: w } });
  const known = (group: string[]): boolean => group.every((a) => findAttribute(tax, a));
  const jointOk = (input.joint ?? []).map((group) => known(group) && check("joint", { attributes: [], joint: [group] }));
  // Each key against all the joint groups (a key may name a group's attributes in any order), as the run will.
  if (jointOk.every(Boolean)) {
    // Without joint groups, with the run's marginals (as the run will: "no joint target of these attributes").
    const attributes = (input.joint ?? []).length === 0 ? config.attributes : [];
    for (const [key, w] of Object.entries(input.jointTarget ?? {})) check(`jointTarget.${key}`, { attributes, joint: input.joint ?? [], jointWeights: { [key]: w } });
  }
  return errors;
}

/**
 * The run's calibration (`calibration:` / --calibration): the copy in the run folder when there is one
 * (resume), else the file named. Refused when it calibrates another observer than the driving one
 * (`simulated` imitates the calibration's own observer) or another taxonomy; errors are on `calibration`.
 */
export function runCalibration(config: RunConfig, taxonomy: Taxonomy, runDir?: string): Calibration | undefined {
  const copy = runDir !== undefined ? join(runDir, RUN_CALIBRATION_FILE) : undefined;
  const file = copy !== undefined && existsSync(copy) ? copy : config.calibration;
  if (file === undefined) {
    if (config.steer !== undefined) throw new InputError("--steer needs a calibration (--calibration FILE)", "steer");
    return undefined;
  }
  try {
    const cal = loadCalibration(file);
    const observer = config.observer === SIMULATED_ID ? cal.observer.id : config.observer;
    checkCalibrationFits(cal, observer, taxonomy, file, config.observerOptions?.[config.observer]);
    return cal;
  } catch (e) {
    // Named on its field, so the dashboard shows it next to the calibration input.
    if (e instanceof InputError && e.field === undefined) throw new InputError(e.message, "calibration");
    throw e;
  }
}

/**
 * Refuses a driving observer that cannot label an attribute the run controls: every image would be
 * `unknown` for it, and the run would spend its whole budget (real money on a paid provider) for nothing.
 */
export function checkObserverSees(observer: Observer, controlled: readonly string[]): void {
  if (!observer.sees) return;
  const blind = controlled.filter((a) => !observer.sees!.includes(a));
  if (blind.length === 0) return;
  throw new InputError(
    `observer ${observer.id} cannot see ${blind.join(", ")} (controlled by this run); it labels ${observer.sees.join(", ")} only. ` +
      `Drive the loop with an observer that sees ${blind.length > 1 ? "them" : "it"} (self-report, vlm) and add --check ${observer.id} to compare, ` +
      `or control only ${observer.sees.join(", ")}`,
    "observer",
  );
}

/**
 * Refuses a driving observer that reads only the provider's report (self-report) with a provider
 * that reports nothing of what it drew (as the registry declares, per model): every image would be
 * `unknown` and the run would spend its budget, real money on a paid provider, blind.
 */
export function checkObserverHasInput(observerId: string, providerSpec: string, controls: boolean): void {
  if (!controls || !observerEntry(observerId)?.readsProviderReport) return;
  const { reports, reportingModel } = providerReports(providerSpec);
  if (reports !== false) return;
  const inFront = `a chat model in front (--provider chat -P image=${providerSpec})`;
  throw new InputError(
    `observer ${observerId} reads what the provider reports it drew, and ${providerSpec} reports nothing (no self-report, no revised prompt): every image would be unknown. ` +
      `Use --observer vlm (a vision model looks at each image)${reportingModel && reportingModel !== providerSpec ? `, or --provider ${reportingModel}, which reports what it drew` : ""}, or ${inFront}`,
    "observer",
  );
}

/** Builds observer `id` with the run's options for it, the key scope and the calibration: the one way a run's observers are made. */
export function makeObserver(config: RunConfig, id: string, keyScope?: KeyScope, calibration?: Calibration): Observer {
  return getObserver(id, { options: config.observerOptions?.[id] ?? {}, ...(keyScope ? { keyScope } : {}), ...(calibration ? { calibration } : {}) });
}

const unknownObserver = (id: string): string => `unknown observer "${id}"; accepted: ${listAccepted(observerIds())}`;

/**
 * Merges the layers, validates them once and resolves the run: every problem comes back, each on its field, in
 * the order a run meets them (so the first is the one a run used to stop at). Nothing is generated or written;
 * the provider is not built (its spec and what it reports are checked against the registry). The driving observer
 * and the checkers are built once here to check their options, keys and what they see: the observer registry does
 * not declare those yet.
 */
export function planRun(layers: readonly SettingsLayer[], options: PlanRunOptions = {}): PlanOutcome {
  const { errors: schema, bad, input, parsed } = parseLayers(layers);
  const errors: PlanError[] = [...schema, ...attributeNameErrors(parsed, input)];
  const later: PlanError[] = [];
  if (!input.prompt && !bad.has("prompt")) later.push({ field: "prompt", message: NO_PROMPT });
  const config = fillRun({ ...input, prompt: input.prompt ?? "" }, options.randomSeed);
  later.push(...configProblems(config).map((e) => fromInputError(e, "form")));
  let taxonomy: Taxonomy | undefined;
  attempt(later, input.professions?.length ? "professions" : "taxonomy", () => void (taxonomy = runTaxonomy(config)));
  if (taxonomy) later.push(...targetErrors(input, config, taxonomy));
  // The whole target (what no field alone shows), once every field is right.
  let resolved: ResolvedRun | undefined;
  if (taxonomy && later.length === 0 && errors.length === 0) {
    const tax = taxonomy;
    const tieRng = new Rng(config.seed);
    attempt(later, "form", () => {
      const target = resolveTarget(tax, { attributes: config.attributes, weights: config.target, joint: config.joint, jointWeights: config.jointTarget }, config.n, (len) =>
        tieRng.shuffle(Array.from({ length: len }, (_, i) => i)),
      );
      resolved = { config, taxonomy: tax, target };
    });
  }
  const providerOk = attempt(later, "provider", () => void parseProviderSpec(config.provider));
  const observersKnown = [config.observer, ...config.checks].every((id) => observerEntry(id) !== undefined);
  if (!observerEntry(config.observer)) later.push({ field: "observer", message: unknownObserver(config.observer) });
  for (const c of config.checks) if (!observerEntry(c)) later.push({ field: "checks", message: unknownObserver(c) });
  let calibration: Calibration | undefined;
  const calibrationOk = attempt(later, "calibration", () => void (calibration = taxonomy ? runCalibration(config, taxonomy) : undefined));
  if (observersKnown && calibrationOk) {
    const make = (id: string): Observer => makeObserver(config, id, options.keyScope, calibration);
    let observer: Observer | undefined;
    attempt(later, "observer", () => void (observer = make(config.observer)));
    for (const c of config.checks) attempt(later, "checks", () => void make(c));
    if (resolved && providerOk) {
      const controls = resolved.target.attributes;
      attempt(later, "observer", () => checkObserverHasInput(config.observer, config.provider, controls.length > 0));
      if (observer) attempt(later, "observer", () => checkObserverSees(observer!, controls));
    }
  }
  // A setting the schema refused is reported once: not again by a later check that missed it.
  errors.push(...later.filter((e) => !bad.has(e.field.split(".")[0]!)));
  if (errors.length > 0 || !resolved) return { ok: false, errors: errors.length > 0 ? errors : [{ field: "form", message: "the settings do not resolve" }], input, ...(taxonomy ? { taxonomy } : {}) };
  return { ok: true, plan: { ...resolved, input, ...(calibration ? { calibration } : {}) } };
}

/** The errors as one line: the first, and how many more ("and 2 more problems"). */
export function errorLine(errors: readonly PlanError[]): string {
  const first = errors[0]?.message ?? "invalid settings";
  const more = errors.length - 1;
  return more > 0 ? `${first} (and ${more} more problem${more > 1 ? "s" : ""})` : first;
}

/** The plan, or an InputError with every problem in one line (on the first one's field). */
export function planOrThrow(layers: readonly SettingsLayer[], options: PlanRunOptions = {}): RunPlan {
  const outcome = planRun(layers, options);
  if (outcome.ok) return outcome.plan;
  throw new InputError(errorLine(outcome.errors), outcome.errors[0]!.field);
}

/** The merged settings, or an InputError with every problem in one line. */
export function mergeOrThrow(layers: readonly SettingsLayer[]): RunConfigInput {
  const outcome = mergeLayers(layers);
  if (outcome.ok) return outcome.input;
  throw new InputError(errorLine(outcome.errors), outcome.errors[0]!.field);
}
