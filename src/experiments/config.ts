import { createHash } from "node:crypto";
import { basename, dirname, extname, resolve } from "node:path";
import { z } from "zod";
import { prepareRun } from "../api.js";
import { checkThresholdsSchema } from "../config/check-schema.js";
import { mergeConfigs, readConfigFile } from "../config/resolve.js";
import { formatZodError, runConfigSchema, type RunConfigInput } from "../config/schema.js";
import { DEFAULT_EXPERIMENTS_DIR, DERIVED_DEFAULTS, SETTING_DEFAULTS } from "../config/settings.js";
import { InputError, listAccepted } from "../core/errors.js";
import { MAX_N } from "../core/target.js";
import { slugify } from "../core/taxonomy.js";
import { observerIds } from "../observers/index.js";
import { POLICY_IDS } from "../policies/types.js";
import { createProvider, parseProviderSpec, providerIds } from "../providers/index.js";
import type { ExperimentCell } from "./folder.js";
import { loadPromptSet, selectPrompts, type PromptSet } from "./prompt-sets.js";

/*
 * The experiment config (YAML or JSON): a matrix of prompts x policies x targets x observers x providers,
 * N images per cell, written once at the top or split into parts, each part its own matrix. Keys set at
 * the top are the defaults of every part. See README, "Experiments", and studies/*.yaml.
 */

/** Run settings every cell shares (everything a run config takes except what the matrix sets per cell). */
const sharedSettings = runConfigSchema.omit({
  prompt: true,
  n: true,
  policy: true,
  observer: true,
  provider: true,
  out: true,
  seed: true,
  attributes: true,
  target: true,
  joint: true,
  jointTarget: true,
  check: true,
});

/** A target written out: its name and the target keys of a run config. */
const targetSpec = runConfigSchema.pick({ attributes: true, target: true, joint: true, jointTarget: true }).extend({ id: z.string().min(1) }).strict();
const targetRef = z.union([z.string().min(1), targetSpec], {
  error: "expected attributes such as race+gender (joint) or gender,race (independent), or { id, attributes, target, joint, jointTarget }",
});
type TargetRef = z.infer<typeof targetRef>;

const idSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "must be lower-case letters, digits, - and _ (starting with a letter or digit)");

const promptRef = z.union(
  [
    z.string().min(1),
    z.object({ set: z.string().min(1), limit: z.number().int().min(1).optional(), spread: z.boolean().optional() }).strict(),
    z.object({ id: idSchema, prompts: z.array(z.string().trim().min(1)).min(1) }).strict(),
  ],
  { error: "expected a prompt set (headlines, occupations or a file), { set, limit, spread } or { id, prompts: [...] }" },
);

/** A single value or a list of them. */
const oneOrMany = <T extends z.ZodType>(item: T) => z.preprocess((v) => (Array.isArray(v) ? v : v === undefined ? v : [v]), z.array(item).min(1, "must list at least one"));

const matrixShape = {
  prompts: oneOrMany(promptRef),
  policies: oneOrMany(z.enum(POLICY_IDS)),
  targets: oneOrMany(targetRef),
  observers: oneOrMany(z.string().min(1)),
  providers: oneOrMany(z.string().min(1)),
  n: z.number().int("must be a whole number").min(1, "must be at least 1").max(MAX_N, `must be at most ${MAX_N}`),
  settings: sharedSettings,
};

/** The most cells an experiment runs at once (`jobs`, `--jobs`). */
export const MAX_JOBS = 64;

const partSchema = z
  .object({ id: idSchema, title: z.string().optional(), ...matrixShape })
  .partial()
  .required({ id: true })
  .strict();

const experimentConfigSchema = z
  .object({
    id: idSchema,
    title: z.string(),
    description: z.string(),
    /** Folder the experiment folder goes in. */
    out: z.string().min(1),
    /** Base seed: every cell of one prompt gets the same seed derived from it, so policies are compared on equal terms. */
    seed: z.number().int().min(0).max(0xffffffff),
    /** Cells run at once. */
    jobs: z.number().int().min(1).max(MAX_JOBS),
    parts: z.array(partSchema).min(1),
    ...matrixShape,
    /** Thresholds of `debiaspi check` for this experiment (src/config/check-schema.ts). */
    check: checkThresholdsSchema,
  })
  .partial()
  .strict();

export type ExperimentConfigInput = z.infer<typeof experimentConfigSchema>;
type PromptRef = z.infer<typeof promptRef>;

/** An experiment's defaults: the run settings' from the settings table, the matrix's own (seed, jobs, every policy) here. */
export const EXPERIMENT_DEFAULTS = {
  out: DEFAULT_EXPERIMENTS_DIR,
  seed: 1,
  jobs: 2,
  n: SETTING_DEFAULTS.n,
  policies: [...POLICY_IDS],
  targets: [DERIVED_DEFAULTS.attributes.join(",")],
  observers: [SETTING_DEFAULTS.observer],
  providers: [SETTING_DEFAULTS.provider],
};

export interface PlannedExperiment {
  id: string;
  title: string;
  config: ExperimentConfigInput;
  configFile?: string;
  out: string;
  jobs: number;
  cells: ExperimentCell[];
  planHash: string;
}

const KNOWN_TOP = Object.keys(experimentConfigSchema.shape);

/** Validates an experiment config; one line naming where it is wrong and what is accepted. */
export function validateExperimentConfig(raw: unknown, source: string): ExperimentConfigInput {
  const parsed = experimentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === "unrecognized_keys" && issue.path.length === 0) {
      throw new InputError(`${source}: unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}; accepted: ${KNOWN_TOP.join(", ")}`);
    }
    throw new InputError(formatZodError(parsed.error, source));
  }
  return parsed.data;
}

/** A 32-bit seed for a prompt, the same for every cell of that prompt. */
function cellSeed(base: number, prompt: string): number {
  return createHash("sha256").update(`${base}\u0000${prompt}`).digest().readUInt32BE(0);
}

/** A folder-name-safe piece of a cell id, at most `max` long: lower case, letters, digits, + and -; anything else becomes _. */
const slug = (s: string, max = 40): string => slugify(s, { keepDashes: true }).slice(0, max).replace(/_+$/, "") || "x";

/**
 * A target: written out (`{ id, attributes, target, joint, jointTarget }`, uniform unless weights are
 * given), or a shorthand for uniform targets: attributes joined with "," are independent marginals,
 * attributes joined with "+" are controlled jointly ("race+gender", "gender,age", "skin_tone").
 */
function targetFor(ref: TargetRef, where: string): { name: string; spec: RunConfigInput } {
  if (typeof ref !== "string") {
    const { id, ...spec } = ref;
    return { name: id, spec };
  }
  const factors = ref.split(",").map((f) => f.trim().split("+").map((a) => a.trim()));
  if (factors.some((f) => f.some((a) => !/^[a-z0-9_]+$/.test(a)))) {
    throw new InputError(`${where}: target "${ref}" is not accepted; write attributes such as race+gender (joint) or gender,race (independent), or { id, attributes, target, joint }`);
  }
  return { name: ref, spec: { attributes: factors.filter((f) => f.length === 1).map((f) => f[0]!), joint: factors.filter((f) => f.length > 1) } };
}

interface ResolvedPrompts {
  set: PromptSet;
}

function resolvePrompts(refs: PromptRef[], baseDir: string, where: string): ResolvedPrompts[] {
  return refs.map((ref, k) => {
    const at = `${where}.prompts${refs.length > 1 ? `.${k}` : ""}`;
    if (typeof ref === "string") return { set: loadPromptSet(ref, baseDir, at) };
    if ("set" in ref) return { set: selectPrompts(loadPromptSet(ref.set, baseDir, at), ref.limit, ref.spread ?? false) };
    return { set: { id: ref.id, description: "inline prompts", prompts: ref.prompts.map((text, index) => ({ text, index })) } };
  });
}

/** Checks an observer and a provider name early, with where they were named and what is accepted. */
function checkNames(observers: string[], providers: string[], where: string): void {
  for (const o of observers) {
    if (!observerIds().includes(o)) throw new InputError(`${where}.observers: unknown observer "${o}"; accepted: ${listAccepted(observerIds())}`);
  }
  for (const p of providers) {
    const name = p.split(":")[0]!.trim().toLowerCase();
    if (!providerIds().includes(name)) throw new InputError(`${where}.providers: unknown provider "${p}"; accepted: ${listAccepted(providerIds())}`);
  }
}

/** Turns a validated config into its cells; validates every distinct run setting before anything runs. */
export function planExperiment(
  config: ExperimentConfigInput,
  options: { source: string; baseDir: string; defaultId: string; configFile?: string; out?: string; jobs?: number; /** false: do not build providers and observers (plan, which needs no keys) */ buildCheck?: boolean },
): PlannedExperiment {
  const { source, baseDir } = options;
  const id = config.id ?? (slug(options.defaultId, 60).replace(/\+/g, "_").replace(/^[-_]+/, "") || "experiment");
  const base = config.seed ?? EXPERIMENT_DEFAULTS.seed;
  const parts = config.parts ?? [{ id: "main" }];
  const partIds = new Set<string>();
  const cells: ExperimentCell[] = [];
  const checked = new Set<string>();
  const providersChecked = new Set<string>();
  parts.forEach((part, pi) => {
    const where = config.parts ? `${source}: parts.${pi} (${part.id})` : source;
    if (partIds.has(part.id)) throw new InputError(`${source}: parts.${pi}: part id "${part.id}" is used twice`);
    partIds.add(part.id);
    const refs = (part.prompts ?? config.prompts) as PromptRef[] | undefined;
    if (!refs) throw new InputError(`${where}: no prompts given; accepted: a prompt set (headlines, occupations, a file) or { id, prompts: [...] }`);
    const policies = part.policies ?? config.policies ?? EXPERIMENT_DEFAULTS.policies;
    const tlist: TargetRef[] = part.targets ?? config.targets ?? EXPERIMENT_DEFAULTS.targets;
    const observers = part.observers ?? config.observers ?? EXPERIMENT_DEFAULTS.observers;
    const providers = part.providers ?? config.providers ?? EXPERIMENT_DEFAULTS.providers;
    const n = part.n ?? config.n ?? EXPERIMENT_DEFAULTS.n;
    const settings = mergeConfigs(config.settings ?? {}, part.settings ?? {});
    checkNames(observers, providers, where);
    const prompts = resolvePrompts(refs, baseDir, where);
    for (const ref of tlist) {
      const { name: target, spec } = targetFor(ref, `${where}.targets`);
      for (const provider of providers) {
        const isSim = parseProviderSpec(provider).name === "sim";
        for (const policy of policies) {
          for (const observer of observers) {
            const runSettings: RunConfigInput = {
              ...(isSim ? { cache: false } : {}),
              ...settings,
              ...spec,
              n,
              policy,
              observer,
              provider,
            };
            const key = JSON.stringify(runSettings);
            if (options.buildCheck !== false && !checked.has(key)) {
              checked.add(key);
              try {
                const resolved = prepareRun({ ...runSettings, prompt: "validation", seed: 0 }, `${where}, target ${target}`);
                const providerKey = JSON.stringify([provider, resolved.config.providerOptions, resolved.config.sim]);
                if (!providersChecked.has(providerKey)) {
                  providersChecked.add(providerKey);
                  createProvider(provider, { taxonomy: resolved.taxonomy, sim: resolved.config.sim, options: resolved.config.providerOptions });
                }
              } catch (e) {
                if (e instanceof InputError && !e.message.startsWith(where)) throw new InputError(`${where}, target ${target}: ${e.message}`);
                throw e;
              }
            }
            for (const { set } of prompts) {
              for (const p of set.prompts) {
                const cellId = [part.id, `${slug(set.id, 24)}-${String(p.index).padStart(3, "0")}`, slug(target), policy, slug(observer, 20), slug(provider, 30)].join("__");
                cells.push({
                  id: cellId,
                  labels: { promptSet: set.id, prompt: p.text, policy, target, observer, provider, part: part.id, ...(p.concept ? { concept: p.concept } : {}) },
                  settings: { ...runSettings, prompt: p.text, seed: cellSeed(base, p.text) } as Record<string, unknown>,
                });
              }
            }
          }
        }
      }
    }
  });
  const seen = new Set<string>();
  for (const c of cells) {
    if (seen.has(c.id)) throw new InputError(`${source}: two cells would have the same id ${c.id}; a prompt is listed twice in one part`);
    seen.add(c.id);
  }
  if (cells.length === 0) throw new InputError(`${source}: the experiment has no cells`);
  const planHash = createHash("sha256").update(JSON.stringify(cells.map((c) => [c.id, c.settings]))).digest("hex").slice(0, 16);
  return {
    id,
    title: config.title ?? id,
    config,
    ...(options.configFile ? { configFile: options.configFile } : {}),
    out: options.out ?? config.out ?? EXPERIMENT_DEFAULTS.out,
    jobs: options.jobs ?? config.jobs ?? EXPERIMENT_DEFAULTS.jobs,
    cells,
    planHash,
  };
}

/** Reads, validates and plans an experiment config file. */
export function planFromFile(path: string, overrides: { out?: string; jobs?: number; buildCheck?: boolean } = {}): PlannedExperiment {
  const source = `experiment config ${path}`;
  const raw = readConfigFile(path);
  const config = validateExperimentConfig(raw, source);
  return planExperiment(config, {
    source,
    baseDir: dirname(resolve(path)),
    defaultId: basename(path, extname(path)),
    configFile: path,
    ...(overrides.out !== undefined ? { out: overrides.out } : {}),
    ...(overrides.jobs !== undefined ? { jobs: overrides.jobs } : {}),
    ...(overrides.buildCheck !== undefined ? { buildCheck: overrides.buildCheck } : {}),
  });
}
