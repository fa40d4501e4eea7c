import { z } from "zod";
import { POLICY_IDS } from "../policies/types.js";
import { MAX_N } from "../core/target.js";
import { GENDER_PRESETS } from "../core/taxonomy.js";
import { DEFAULT_TEMPLATES } from "../prompts/templates.js";
import { checkThresholdsSchema } from "./check-schema.js";
import type { DashboardDefaults } from "./dashboard-defaults.js";

/*
 * The settings table: every run setting declared once, with its zod type, its default, a one-line doc, its
 * command-line flags and where it applies. The config schema (schema.ts), the RunConfig type and the defaults
 * (resolve.ts), the CLI flags and their help (cli/run-options.ts), the dashboard's form defaults and README's
 * option table are all derived from it.
 */

/** Where a setting applies: a run (run, compare, plan), audit, an experiment's settings, the dashboard's form. */
export type Scope = "run" | "audit" | "experiment" | "dashboard";

/**
 * How a flag's text becomes a value (the CLI maps each kind to its parser):
 * `text` as typed; `whole` a whole number; `number` a number >= 0; `list` a non-empty comma-separated list;
 * `choice` one of `choices`; `negate` a `--no-x` switch (sets false); `switch` a `--x` switch (sets true); `target` / `joint` / `keyValue` repeatable
 * specs parsed by the CLI (ATTR=CAT:W, a+b, KEY=VALUE).
 */
export type FlagKind = "text" | "whole" | "number" | "list" | "choice" | "negate" | "switch" | "target" | "joint" | "keyValue";

export interface FlagSpec {
  /** commander's flag syntax: "-n, --n <count>". */
  readonly flags: string;
  readonly kind: FlagKind;
  /** The config path it sets (errors about that path name this flag); unset: named by path, not by this flag. */
  readonly path?: string;
  readonly choices?: readonly string[];
  /** Help and README text when the flag is not the setting's whole story (sim.latencyMs, sim.render). */
  readonly doc?: string;
  /** The default as shown; unset: the setting's. */
  readonly defaultText?: string;
}

/** Zod's base type, for the table's entries. */
type Schema = z.ZodType;

interface SettingBase<S extends Schema> {
  readonly schema: S;
  /** One line: what the setting does (help text, README). */
  readonly doc: string;
  readonly scopes: readonly Scope[];
  readonly flags?: readonly FlagSpec[];
  /** The default as people read it ("10 x N, at least N + 50"); unset: the constant default, formatted. */
  readonly defaultText?: string;
}

/** A setting with a constant default (filled in by resolveRun; recorded in run.json). */
export interface DefaultedSetting<S extends Schema> extends SettingBase<S> {
  readonly fill: "default";
  readonly default: z.output<S>;
  /** Absent from run folders written before the setting existed, so optional in RunConfig. */
  readonly legacyOptional?: boolean;
}

/** A setting whose value is computed when none is given (seed, maxAttempts, attributes, templates) or that must be given (prompt). */
export interface DerivedSetting<S extends Schema, R extends Schema = S> extends SettingBase<S> {
  readonly fill: "derived";
  /** The type of the resolved value when it differs from the input's (templates: all five filled). */
  readonly resolved?: R;
}

/** A setting that stays unset unless given. */
export interface OptionalSetting<S extends Schema> extends SettingBase<S> {
  readonly fill: "optional";
}

export type Setting = DefaultedSetting<Schema> | DerivedSetting<Schema, Schema> | OptionalSetting<Schema>;

const withDefault = <S extends Schema>(s: Omit<DefaultedSetting<S>, "fill">): DefaultedSetting<S> => ({ ...s, fill: "default" });
/** A defaulted setting that old run folders lack: optional in RunConfig. */
const withLegacyDefault = <S extends Schema>(s: Omit<DefaultedSetting<S>, "fill" | "legacyOptional">): DefaultedSetting<S> & { legacyOptional: true } => ({ ...s, fill: "default", legacyOptional: true });
const derived = <S extends Schema, R extends Schema = S>(s: Omit<DerivedSetting<S, R>, "fill">): DerivedSetting<S, R> => ({ ...s, fill: "derived" });
const optional = <S extends Schema>(s: Omit<OptionalSetting<S>, "fill">): OptionalSetting<S> => ({ ...s, fill: "optional" });

const weights = z.record(z.string(), z.number());

const categoryEdit = z
  .object({
    id: z.string().min(1),
    label: z.string().optional(),
    phrase: z.string().optional(),
    aliases: z.array(z.string()).optional(),
  })
  .strict();

const TEMPLATE_NAMES = ["plain", "eip", "direct", "choice", "random"] as const;
const fullTemplatesSchema = z.object(Object.fromEntries(TEMPLATE_NAMES.map((k) => [k, z.string()])) as Record<(typeof TEMPLATE_NAMES)[number], z.ZodString>);
const templatesSchema = fullTemplatesSchema.partial().strict();

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
    imageFiles: z.boolean(),
  })
  .partial()
  .strict();

const taxonomySchema = z
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
  .strict();

const RUN = ["run", "experiment", "dashboard"] as const;
const EVERYWHERE = ["run", "audit", "experiment", "dashboard"] as const;

/** The run settings, in the order the config schema lists them (its "accepted:" list). */
export const SETTINGS = {
  prompt: derived({
    schema: z
      .string()
      .trim()
      .min(1, { message: "must not be empty", abort: true })
      // Zero-width and other format characters are invisible: a prompt of only those is empty too.
      .refine((p) => /[^\p{White_Space}\p{Cf}\p{Cc}]/u.test(p), "must have a visible character"),
    doc: "the image prompt, e.g. \"a photo of the face of a CEO\" (the first argument of run)",
    defaultText: "required",
    scopes: RUN,
  }),
  n: withDefault({
    schema: z.number().int("must be a whole number").min(1, "must be at least 1").max(MAX_N, `must be at most ${MAX_N}`),
    default: 20,
    doc: `images in the set (1 to ${MAX_N})`,
    scopes: EVERYWHERE,
    flags: [{ flags: "-n, --n <count>", kind: "whole", path: "n" }],
  }),
  attributes: derived({
    schema: z.array(z.string().min(1)),
    doc: "attributes to control, comma-separated: gender, race, age, skin_tone, body_type, profession (and any you add); an attribute named in --target or --joint is controlled too",
    defaultText: "gender,race when neither --target nor --joint is given, else none",
    scopes: EVERYWHERE,
    // Not named by one flag (--attributes and --target both name attributes): errors say "attributes".
    flags: [{ flags: "-a, --attributes <list>", kind: "list" }],
  }),
  target: withDefault({
    schema: z.record(z.string(), weights),
    default: {},
    doc: "weights for one attribute, repeatable: ATTR=CAT:W,CAT:W (relative weights; categories left out get 0) or ATTR=uniform",
    defaultText: "uniform",
    scopes: EVERYWHERE,
    flags: [{ flags: "-t, --target <spec>", kind: "target" }],
  }),
  joint: withDefault({
    schema: z.array(z.array(z.string().min(1))),
    default: [],
    doc: "control these attributes jointly (every combination is a bin), e.g. race+gender (race,gender is read too), repeatable",
    defaultText: "independent marginals",
    scopes: RUN,
    flags: [{ flags: "-j, --joint <list>", kind: "joint" }],
  }),
  jointTarget: withDefault({ schema: z.record(z.string(), weights), default: {}, doc: "weights of joint cells, per joint group (config only)", defaultText: "uniform", scopes: RUN }),
  policy: withDefault({
    schema: z.enum(POLICY_IDS),
    default: "debiaspi",
    doc: `how requests are made: ${POLICY_IDS.join(", ")}`,
    scopes: RUN,
    flags: [{ flags: "-p, --policy <name>", kind: "choice", path: "policy", choices: POLICY_IDS }],
  }),
  mode: withDefault({
    schema: z.enum(["direct", "choice"]),
    default: "direct",
    doc: "debiaspi: ask for one cell (direct) or offer the open cells, the model picks (choice)",
    scopes: RUN,
    flags: [{ flags: "--mode <mode>", kind: "choice", path: "mode", choices: ["direct", "choice"] }],
  }),
  subgroup: withDefault({
    schema: z.number().int().min(0),
    default: 0,
    doc: "debiaspi choice mode: offer only the k cells with the largest deficits",
    defaultText: "all open cells",
    scopes: RUN,
    flags: [{ flags: "--subgroup <k>", kind: "whole", path: "subgroup" }],
  }),
  order: withDefault({
    schema: z.enum(["deficit", "effort"]),
    default: "deficit",
    doc: "debiaspi: ask first for the largest deficit (the paper's rule) or the largest expected effort (deficit / compliance observed so far)",
    scopes: RUN,
    flags: [{ flags: "--order <rule>", kind: "choice", path: "order", choices: ["deficit", "effort"] }],
  }),
  overflow: withDefault({
    schema: z.enum(["keep", "discard"]),
    default: "discard",
    doc: "an image landing in a full bin: discard (exact set) or keep",
    scopes: RUN,
    flags: [{ flags: "--overflow <rule>", kind: "choice", path: "overflow", choices: ["keep", "discard"] }],
  }),
  seed: derived({
    schema: z.number().int().min(0).max(0xffffffff),
    doc: "seed; the same seed at concurrency 1 gives the same run image for image",
    defaultText: "random, recorded in run.json",
    scopes: RUN,
    flags: [{ flags: "--seed <int>", kind: "whole", path: "seed" }],
  }),
  concurrency: withDefault({
    schema: z.number().int().min(1).max(256),
    default: 4,
    doc: "generations in flight at once",
    scopes: RUN,
    flags: [{ flags: "-c, --concurrency <count>", kind: "whole", path: "concurrency" }],
  }),
  maxAttempts: derived({
    schema: z.number().int().min(1),
    doc: "attempt budget",
    defaultText: "10 x N, at least N + 50",
    scopes: RUN,
    flags: [{ flags: "--max-attempts <count>", kind: "whole", path: "maxAttempts" }],
  }),
  out: withDefault({
    schema: z.string().min(1),
    default: "./runs",
    doc: "folder for run folders",
    scopes: ["run"],
    flags: [{ flags: "-o, --out <dir>", kind: "text", path: "out" }],
  }),
  provider: withDefault({
    schema: z.string().min(1),
    default: "sim",
    doc: "text-to-image backend: sim, openai, a1111, comfyui, replicate, huggingface, stability, chat (see debiaspi providers)",
    scopes: RUN,
    flags: [{ flags: "--provider <name[:model-or-url]>", kind: "text", path: "provider" }],
  }),
  /** Provider settings (size, steps, ...); each provider validates its own. Never API keys: those come from the environment. */
  providerOptions: withDefault({
    schema: z.record(z.string(), z.unknown()),
    default: {},
    doc: "a provider setting, e.g. steps=30, repeatable (see debiaspi providers); keys only ever come from the environment",
    defaultText: "none",
    scopes: RUN,
    flags: [{ flags: "-P, --provider-option <key=value>", kind: "keyValue" }],
  }),
  cache: withDefault({
    schema: z.boolean(),
    default: true,
    doc: "reuse cached provider responses (same provider, model, prompt, seed, options; kept in <out>/.cache)",
    scopes: RUN,
    flags: [{ flags: "--no-cache", kind: "negate", path: "cache", doc: "do not reuse cached provider responses (they are kept in <out>/.cache)", defaultText: "cache on" }],
  }),
  rate: optional({
    schema: z.number().positive().max(10_000),
    doc: "start at most this many provider requests per second",
    defaultText: "no limit",
    scopes: RUN,
    flags: [{ flags: "--rate <per-second>", kind: "number", path: "rate" }],
  }),
  observer: withDefault({
    schema: z.string().min(1),
    default: "self-report",
    doc: "what reads the generated people and drives the loop: self-report, requested, skin-tone, faces or vlm",
    scopes: RUN,
    flags: [{ flags: "--observer <name>", kind: "text", path: "observer" }],
  }),
  checks: withDefault({
    schema: z.array(z.string().min(1)),
    default: [],
    doc: "further observers that look at every image and are compared with --observer, comma-separated",
    defaultText: "none",
    scopes: RUN,
    flags: [{ flags: "--check <list>", kind: "list", path: "checks" }],
  }),
  counting: withDefault({
    schema: z.enum(["main-subject", "per-person"]),
    default: "main-subject",
    doc: "what the attribute tables count: the main subject (largest face) of each image, or every person",
    scopes: EVERYWHERE,
  }),
  observerOptions: withDefault({
    schema: z.record(z.string(), z.record(z.string(), z.unknown())),
    default: {},
    doc: "observer settings, per observer id: { vlm: { model: gpt-4o } } (config only)",
    defaultText: "none",
    scopes: EVERYWHERE,
  }),
  calibration: optional({
    schema: z.string().min(1),
    doc: "a calibration of the driving observer (debiaspi calibrate): corrected estimates, bins filled from them; with --observer simulated, what the simulation imitates",
    defaultText: "none",
    scopes: EVERYWHERE,
    flags: [{ flags: "--calibration <file>", kind: "text", path: "calibration" }],
  }),
  steer: optional({
    schema: z.enum(["corrected", "raw"]),
    doc: "with --calibration: fill bins from the corrected estimate or from the raw labels",
    defaultText: "corrected",
    scopes: RUN,
    flags: [{ flags: "--steer <rule>", kind: "choice", path: "steer", choices: ["corrected", "raw"] }],
  }),
  professions: withDefault({
    schema: z.array(z.string()),
    default: [],
    doc: "categories of the profession attribute, comma-separated",
    defaultText: "none",
    scopes: EVERYWHERE,
    flags: [{ flags: "--professions <list>", kind: "list", path: "professions" }],
  }),
  // Absent in run folders written before it existed (read as binary).
  genderCategories: withLegacyDefault({
    schema: z.enum(GENDER_PRESETS),
    default: "binary",
    doc: "gender categories: binary (female, male), non-binary (adds non-binary, which can be requested) or inclusive (adds non-binary and can't tell, observed, never requested)",
    scopes: EVERYWHERE,
    flags: [{ flags: "--gender-categories <preset>", kind: "text", path: "genderCategories" }],
  }),
  maxCost: optional({
    schema: z.number().min(0),
    doc: "stop, resumably, before the next call would take the run's spending past this many US dollars (list prices: debiaspi prices)",
    defaultText: "no cap",
    scopes: RUN,
    flags: [{ flags: "--max-cost <usd>", kind: "number", path: "maxCost" }],
  }),
  taxonomy: withDefault({ schema: taxonomySchema, default: {}, doc: "edits and additions to the built-in taxonomy (config only)", defaultText: "built-in", scopes: EVERYWHERE }),
  templates: derived({
    schema: templatesSchema,
    resolved: fullTemplatesSchema,
    doc: "intervention prompt templates, see src/prompts/templates.ts (config only)",
    defaultText: "built-in",
    scopes: RUN,
  }),
  sim: withDefault({
    schema: simSchema,
    default: {},
    doc: "parameters of the simulated model, see src/providers/sim/params.ts",
    defaultText: "none",
    scopes: RUN,
    flags: [
      { flags: "--latency <ms>", kind: "number", path: "sim.latencyMs", doc: "sim: simulated latency per image in ms (plan: the latency of one call)", defaultText: "0 (plan: 10000, an assumption it states)" },
      { flags: "--no-render", kind: "negate", path: "sim.render", doc: "sim: draw no PNG (the self-report, truth and every measurement stay the same; pixel observers have nothing to read)", defaultText: "render" },
      {
        flags: "--image-files",
        kind: "switch",
        path: "sim.imageFiles",
        doc: "sim: write every portrait to images/ as it is generated (by default each is drawn from its name, the same bytes, when an observer, the dashboard, a report or export looks at it)",
        defaultText: "drawn when looked at",
      },
    ],
  }),
  check: optional({ schema: checkThresholdsSchema, doc: "thresholds of debiaspi check (see src/config/check-schema.ts; config only)", defaultText: "none", scopes: RUN }),
} as const;

export type Settings = typeof SETTINGS;
export type SettingKey = keyof Settings;

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

type SchemaOf<T> = T extends { schema: infer S extends Schema } ? S : never;
type ResolvedOf<T> = T extends { fill: "derived"; resolved?: infer R extends Schema } ? R : T extends { fill: "optional" } | { legacyOptional: true } ? z.ZodOptional<SchemaOf<T>> : SchemaOf<T>;

const mapSettings = <T>(f: (s: Setting, key: SettingKey) => T): Record<SettingKey, T> =>
  Object.fromEntries(SETTING_KEYS.map((k) => [k, f(SETTINGS[k] as Setting, k)])) as Record<SettingKey, T>;

/** Every setting's input type, keyed by name. */
export const settingsShape = mapSettings((s) => s.schema) as { [K in SettingKey]: SchemaOf<Settings[K]> };

/**
 * A run's settings once resolved (what run.json records): settings with a default or a derived value are
 * always there, the others optional.
 */
export const resolvedConfigSchema = z.object(
  mapSettings((s) => (s.fill === "derived" && s.resolved ? s.resolved : s.fill === "optional" || (s.fill === "default" && s.legacyOptional) ? s.schema.optional() : s.schema)) as {
    [K in SettingKey]: ResolvedOf<Settings[K]>;
  },
);

type DefaultedKey = { [K in SettingKey]: Settings[K] extends { fill: "default" } ? K : never }[SettingKey];

/** The constant defaults, from the table. */
export const SETTING_DEFAULTS = Object.fromEntries(
  SETTING_KEYS.flatMap((k) => {
    const s = SETTINGS[k] as Setting;
    return s.fill === "default" ? [[k, s.default]] : [];
  }),
) as { [K in DefaultedKey]: z.output<SchemaOf<Settings[K]>> };

/** The derived defaults, as code: the attributes controlled when none are named, the attempt budget, the templates. */
export const DERIVED_DEFAULTS = {
  attributes: ["gender", "race"],
  maxAttempts: (n: number): number => Math.max(10 * n, n + 50),
  templates: DEFAULT_TEMPLATES,
};

/** The experiments folder of `experiment`, `serve` and the dashboard when none is named (one default for all). */
export const DEFAULT_EXPERIMENTS_DIR = "./experiments";

/** A default as people read it: the table's text, else the constant formatted. */
export function defaultText(s: Setting): string {
  if (s.defaultText !== undefined) return s.defaultText;
  if (s.fill !== "default") return "none";
  const v: unknown = s.default;
  return Array.isArray(v) ? v.join(",") : String(v);
}

/** The settings that apply in `scope`. */
export const settingsFor = (scope: Scope): SettingKey[] => SETTING_KEYS.filter((k) => (SETTINGS[k] as Setting).scopes.includes(scope));

/** The defaults the dashboard's form starts from, taken from the table. */
export function dashboardDefaults(): DashboardDefaults {
  const d = SETTING_DEFAULTS;
  return { n: d.n, attributes: [...DERIVED_DEFAULTS.attributes], policy: d.policy, mode: d.mode, overflow: d.overflow, concurrency: d.concurrency, provider: d.provider, observer: d.observer };
}

/** Every flag of the table with the setting it belongs to, in table order. */
export function settingFlags(): { key: SettingKey; setting: Setting; flag: FlagSpec }[] {
  return SETTING_KEYS.flatMap((key) => {
    const setting = SETTINGS[key] as Setting;
    return (setting.flags ?? []).map((flag) => ({ key, setting, flag }));
  });
}

/** commander's option name of a flag: "--max-attempts <n>" -> maxAttempts, "--no-render" -> render. */
export function flagAttribute(flags: string): string {
  const long = /--([a-z0-9-]+)/.exec(flags)?.[1] ?? "";
  return long.replace(/^no-/, "").replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The long flag of a flag spec: "--max-attempts". */
export const longFlag = (flags: string): string => /--[a-z0-9-]+/.exec(flags)?.[0] ?? flags;
