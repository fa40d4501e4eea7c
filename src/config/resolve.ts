import { readFileSync } from "node:fs";
import { parseDocument, YAMLParseError } from "yaml";
import { InputError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { resolveTarget, type Target } from "../core/target.js";
import { applyTaxonomyPatch, builtinTaxonomy, withGenderPreset, type Taxonomy } from "../core/taxonomy.js";
import type { z } from "zod";
import { REQUIRED_PLACEHOLDERS, type Templates } from "../prompts/templates.js";
import type { RunConfigInput } from "./schema.js";
import { DERIVED_DEFAULTS, SETTING_DEFAULTS, SETTING_KEYS, SETTINGS, type resolvedConfigSchema, type Setting } from "./settings.js";

/** A run's settings with every default filled in: what run.json records (derived from the settings table). */
export type RunConfig = z.output<typeof resolvedConfigSchema>;

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

/** A template that lacks one of its placeholders, as an error on `templates`. */
function templateProblems(t: Templates): InputError[] {
  const out: InputError[] = [];
  for (const [name, required] of Object.entries(REQUIRED_PLACEHOLDERS) as [keyof Templates, string[]][]) {
    for (const ph of required) {
      if (!t[name].includes(ph)) out.push(new InputError(`template "${name}" must contain ${ph}; it is: ${JSON.stringify(t[name])}`, "templates"));
    }
  }
  return out;
}

/**
 * Settings with the table's defaults filled in, in the table's order (run.json's order); a fresh copy of each
 * default (nothing a run changes reaches the table). The derived settings (prompt, attributes, seed, maxAttempts,
 * templates) must be given: the caller computes them.
 */
export function withDefaults(values: Partial<RunConfig>): RunConfig {
  const filled: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const s = SETTINGS[key] as Setting;
    const value = values[key] ?? (s.fill === "default" ? structuredClone(s.default) : undefined);
    if (value !== undefined) filled[key] = value;
  }
  // Every defaulted key is filled here; the derived ones are the caller's (resolveRun, audit).
  return filled as RunConfig;
}

/** The prompt's absence, as the run commands word it. */
export const NO_PROMPT = "no prompt given; pass it as the first argument of `run` or as `prompt:` in the config";

/** The settings with every default filled in (the table's constants and the derived values); no checks. */
export function fillRun(input: RunConfigInput & { prompt: string }, randomSeed: () => number = () => Math.floor(Math.random() * 0xffffffff)): RunConfig {
  const n = input.n ?? SETTING_DEFAULTS.n;
  // Every setting in the table's order (run.json's order): given, else derived, else the table's default; optional ones only when given.
  const derivedValue = {
    prompt: input.prompt,
    attributes: input.attributes ?? (input.target || input.joint ? [] : [...DERIVED_DEFAULTS.attributes]),
    seed: input.seed ?? randomSeed(),
    maxAttempts: input.maxAttempts ?? DERIVED_DEFAULTS.maxAttempts(n),
    templates: { ...DERIVED_DEFAULTS.templates, ...(input.templates ?? {}) },
  };
  return withDefaults({ ...input, ...derivedValue } as Partial<RunConfig>);
}

/** What is wrong across settings of a filled config (a checker that drives, a budget below N, a template without its placeholder), each on its field. */
export function configProblems(config: RunConfig): InputError[] {
  const out: InputError[] = [];
  if (config.checks.includes(config.observer)) out.push(new InputError(`observer "${config.observer}" drives the loop; list only other observers under checks`, "checks"));
  if (config.maxAttempts < config.n) out.push(new InputError(`maxAttempts (${config.maxAttempts}) must be at least N (${config.n})`, "maxAttempts"));
  return [...out, ...templateProblems(config.templates)];
}

/** The run's taxonomy: the built-in one with its gender preset, the config's edits and professions (InputError when they do not apply). */
export function runTaxonomy(input: Pick<RunConfigInput, "genderCategories" | "taxonomy" | "professions">): Taxonomy {
  return applyTaxonomyPatch(withGenderPreset(builtinTaxonomy(), input.genderCategories ?? SETTING_DEFAULTS.genderCategories), { ...(input.taxonomy ?? {}), professions: input.professions ?? [] });
}

/** Fills defaults, builds the taxonomy and the target; every problem is one InputError. */
export function resolveRun(input: RunConfigInput, randomSeed: () => number = () => Math.floor(Math.random() * 0xffffffff)): ResolvedRun {
  if (!input.prompt) throw new InputError(NO_PROMPT, "prompt");
  const config = fillRun({ ...input, prompt: input.prompt }, randomSeed);
  const problem = configProblems(config)[0];
  if (problem) throw problem;
  const taxonomy = runTaxonomy(config);
  const tieRng = new Rng(config.seed);
  const target = resolveTarget(
    taxonomy,
    { attributes: config.attributes, weights: config.target, joint: config.joint, jointWeights: config.jointTarget },
    config.n,
    (len) => tieRng.shuffle(Array.from({ length: len }, (_, i) => i)),
  );
  return { config, taxonomy, target };
}
