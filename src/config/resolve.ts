import { readFileSync } from "node:fs";
import { parseDocument, YAMLParseError } from "yaml";
import { InputError, listAccepted } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { resolveTarget, type Target } from "../core/target.js";
import { applyTaxonomyPatch, builtinTaxonomy, findAttribute, withGenderPreset, type GenderPreset, type Taxonomy } from "../core/taxonomy.js";
import type { PolicyId } from "../policies/types.js";
import { DEFAULT_TEMPLATES, REQUIRED_PLACEHOLDERS, type Templates } from "../prompts/templates.js";
import type { CheckThresholds } from "./check-schema.js";
import { formatZodError, runConfigSchema, type RunConfigInput, type SimOverrides } from "./schema.js";

/** A run's settings with every default filled in: what run.json records. */
export interface RunConfig {
  prompt: string;
  n: number;
  attributes: string[];
  target: Record<string, Record<string, number>>;
  joint: string[][];
  jointTarget: Record<string, Record<string, number>>;
  policy: PolicyId;
  mode: "direct" | "choice";
  subgroup: number;
  order: "deficit" | "effort";
  overflow: "keep" | "discard";
  seed: number;
  concurrency: number;
  maxAttempts: number;
  out: string;
  provider: string;
  providerOptions: Record<string, unknown>;
  cache: boolean;
  rate?: number;
  observer: string;
  checks: string[];
  counting: "main-subject" | "per-person";
  observerOptions: Record<string, Record<string, unknown>>;
  calibration?: string;
  steer?: "corrected" | "raw";
  professions: string[];
  /** Gender categories preset (absent in run folders written before it existed: binary). */
  genderCategories?: GenderPreset;
  /** US dollars the run may spend at most; unset = no cap. */
  maxCost?: number;
  taxonomy: NonNullable<RunConfigInput["taxonomy"]>;
  templates: Templates;
  sim: SimOverrides;
  /** Thresholds of `debiaspi check`, when the config has a `check:` block. */
  check?: CheckThresholds;
}

export const RUN_DEFAULTS = {
  n: 20,
  attributes: ["gender", "race"],
  policy: "debiaspi" as PolicyId,
  mode: "direct" as const,
  subgroup: 0,
  order: "deficit" as "deficit" | "effort",
  overflow: "discard" as const,
  concurrency: 4,
  out: "./runs",
  provider: "sim",
  observer: "self-report",
  genderCategories: "binary" as GenderPreset,
};

/** Reads a YAML or JSON config file into unvalidated settings; one clear error when it cannot. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new InputError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  try {
    const doc: unknown = parseStrictYaml(text, path);
    if (doc === null || doc === undefined) return {};
    if (typeof doc !== "object" || Array.isArray(doc)) throw new InputError(`config file ${path}: expected a mapping of settings (key: value), got ${Array.isArray(doc) ? "a list" : typeof doc}`);
    return doc;
  } catch (e) {
    if (e instanceof InputError) throw e;
    if (e instanceof YAMLParseError) {
      const pos = e.linePos?.[0];
      throw new InputError(`config file ${path} is not valid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ""}: ${e.message.split("\n")[0]}`);
    }
    throw new InputError(`config file ${path} is not valid YAML: ${(e as Error).message}`);
  }
}

/**
 * Parses YAML, refusing what plain settings never need and the parser would otherwise only warn
 * about: a custom tag (`!shout a CEO` would be read as the text "a CEO").
 */
function parseStrictYaml(text: string, path: string): unknown {
  const doc = parseDocument(text);
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    const pos = problem.linePos?.[0] ?? (problem.pos ? lineOf(text, problem.pos[0]) : undefined);
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : "";
    if (problem.code === "TAG_RESOLVE_FAILED") {
      const tag = /tag:?\s*(\S+)/i.exec(problem.message)?.[1] ?? text.slice(problem.pos[0], problem.pos[1]).split(/\s/)[0];
      throw new InputError(`config file ${path}${where}: tag "${tag}" is not accepted; write plain values (strings, numbers, lists, mappings)`);
    }
    throw new InputError(`config file ${path} is not valid YAML${where}: ${problem.message.split("\n")[0]}`);
  }
  return doc.toJS();
}

/** 1-based line and column of a character offset. */
function lineOf(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, col: before.at(-1)!.length + 1 };
}

/** Validates settings from a file or from flags against the config schema. */
export function validateConfig(raw: unknown, source: string, nameOf?: (path: string) => string): RunConfigInput {
  const parsed = runConfigSchema.safeParse(raw);
  if (!parsed.success) throw new InputError(formatZodError(parsed.error, source, nameOf));
  return parsed.data;
}

export interface ConfigLayer {
  source: string;
  values: RunConfigInput;
  nameOf?: (path: string) => string;
}

/**
 * Checks the attribute names each layer gives (target keys, joint groups, attributes) against the
 * taxonomy the merged settings build, so a typo names its file (or flag) and key. A taxonomy that
 * does not build is left for resolveRun to report.
 */
export function checkAttributeNames(layers: readonly ConfigLayer[], merged: RunConfigInput): void {
  let tax: Taxonomy;
  try {
    tax = applyTaxonomyPatch(builtinTaxonomy(), { ...(merged.taxonomy ?? {}), professions: merged.professions ?? [] });
  } catch {
    return;
  }
  const accepted = listAccepted(tax.attributes.map((a) => a.id));
  for (const { source, values, nameOf = (p: string) => p } of layers) {
    const named: [string, string[]][] = [
      ["target", Object.keys(values.target ?? {})],
      ["joint", (values.joint ?? []).flat()],
      ["attributes", values.attributes ?? []],
    ];
    for (const [key, ids] of named) {
      const bad = ids.find((id) => !findAttribute(tax, id));
      if (bad !== undefined) throw new InputError(`${source}: ${nameOf(key)}: unknown attribute "${bad}"; accepted: ${accepted}`);
    }
  }
}

/** Later sources win, key by key; `target`, `jointTarget`, `templates` and `sim` merge one level deep. */
export function mergeConfigs(...layers: RunConfigInput[]): RunConfigInput {
  const out: RunConfigInput = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer) as [keyof RunConfigInput, unknown][]) {
      if (v === undefined) continue;
      if ((k === "target" || k === "jointTarget" || k === "templates" || k === "sim" || k === "providerOptions") && out[k] && typeof v === "object") {
        (out as Record<string, unknown>)[k] = { ...(out[k] as object), ...(v as object) };
      } else (out as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}

export interface ResolvedRun {
  config: RunConfig;
  taxonomy: Taxonomy;
  target: Target;
}

function checkTemplates(t: Templates): void {
  for (const [name, required] of Object.entries(REQUIRED_PLACEHOLDERS) as [keyof Templates, string[]][]) {
    for (const ph of required) {
      if (!t[name].includes(ph)) throw new InputError(`template "${name}" must contain ${ph}; it is: ${JSON.stringify(t[name])}`);
    }
  }
}

/** Fills defaults, builds the taxonomy and the target; every problem is one InputError. */
export function resolveRun(input: RunConfigInput, randomSeed: () => number = () => Math.floor(Math.random() * 0xffffffff)): ResolvedRun {
  if (!input.prompt) throw new InputError("no prompt given; pass it as the first argument of `run` or as `prompt:` in the config");
  const n = input.n ?? RUN_DEFAULTS.n;
  const config: RunConfig = {
    prompt: input.prompt,
    n,
    attributes: input.attributes ?? (input.target || input.joint ? [] : RUN_DEFAULTS.attributes),
    target: input.target ?? {},
    joint: input.joint ?? [],
    jointTarget: input.jointTarget ?? {},
    policy: input.policy ?? RUN_DEFAULTS.policy,
    mode: input.mode ?? RUN_DEFAULTS.mode,
    subgroup: input.subgroup ?? RUN_DEFAULTS.subgroup,
    order: input.order ?? RUN_DEFAULTS.order,
    overflow: input.overflow ?? RUN_DEFAULTS.overflow,
    seed: input.seed ?? randomSeed(),
    concurrency: input.concurrency ?? RUN_DEFAULTS.concurrency,
    maxAttempts: input.maxAttempts ?? Math.max(10 * n, n + 50),
    out: input.out ?? RUN_DEFAULTS.out,
    provider: input.provider ?? RUN_DEFAULTS.provider,
    providerOptions: input.providerOptions ?? {},
    cache: input.cache ?? true,
    ...(input.rate !== undefined ? { rate: input.rate } : {}),
    observer: input.observer ?? RUN_DEFAULTS.observer,
    checks: input.checks ?? [],
    counting: input.counting ?? "main-subject",
    observerOptions: input.observerOptions ?? {},
    ...(input.calibration !== undefined ? { calibration: input.calibration } : {}),
    ...(input.steer !== undefined ? { steer: input.steer } : {}),
    professions: input.professions ?? [],
    genderCategories: input.genderCategories ?? RUN_DEFAULTS.genderCategories,
    ...(input.maxCost !== undefined ? { maxCost: input.maxCost } : {}),
    taxonomy: input.taxonomy ?? {},
    templates: { ...DEFAULT_TEMPLATES, ...(input.templates ?? {}) },
    sim: input.sim ?? {},
    ...(input.check !== undefined ? { check: input.check } : {}),
  };
  if (config.checks.includes(config.observer)) throw new InputError(`observer "${config.observer}" drives the loop; list only other observers under checks`);
  if (config.maxAttempts < n) throw new InputError(`maxAttempts (${config.maxAttempts}) must be at least N (${n})`);
  checkTemplates(config.templates);
  const taxonomy = applyTaxonomyPatch(withGenderPreset(builtinTaxonomy(), config.genderCategories ?? RUN_DEFAULTS.genderCategories), { ...config.taxonomy, professions: config.professions });
  const tieRng = new Rng(config.seed);
  const target = resolveTarget(
    taxonomy,
    { attributes: config.attributes, weights: config.target, joint: config.joint, jointWeights: config.jointTarget },
    n,
    (len) => tieRng.shuffle(Array.from({ length: len }, (_, i) => i)),
  );
  return { config, taxonomy, target };
}
