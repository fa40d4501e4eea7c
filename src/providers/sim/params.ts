/**
 * Every parameter of the simulated text-to-image model `sim`, in one place, with where its value
 * comes from. `sim` is a stand-in for a biased model so that the whole loop can be run, tested and
 * benchmarked offline; it is not a model of any particular product. Values marked "assumption" are
 * chosen to reproduce the direction of published findings, not their exact size. Override any of
 * them in the config file under `sim:` (see README, "The simulated model").
 */
export interface SimParams {
  /**
   * Probability that a requested category is honoured, per attribute, with per-category overrides.
   * When not honoured, the attribute is drawn from the prior (which may still give the requested value).
   */
  compliance: {
    default: number;
    attributes: Record<string, number>;
    categories: Record<string, Record<string, number>>;
  };
  /** Share of men drawn when the prompt names no gender and no known occupation. */
  defaultMaleShare: number;
  /** Prior shares for prompts that do not ask for the attribute (category id -> weight). */
  prior: {
    race: Record<string, number>;
    age: Record<string, number>;
    body_type: Record<string, number>;
  };
  /** Monk skin tone (levels 1..10) drawn for each race when no race was requested: a broad band. */
  skinBroad: Record<string, number[]>;
  /** Monk skin tone drawn for each race when that race was requested: a narrow, stereotyped band. */
  skinNarrow: Record<string, number[]>;
  /** Fraction of the way from the gender prior toward 50/50 when the prompt has any other demographic instruction. */
  instructionGenderPull: number;
  /** Fraction of the way toward 50/50 when the prompt has an ethical intervention phrase ("irrespective of"). */
  eipGenderPull: number;
  /** Probability that the rendered image differs from the self-report (skin rendered 1-2 Monk levels lighter). */
  reportMismatch: number;
  /** Probability of a refusal (content-policy style) per generation. */
  refusalRate: number;
  /** Simulated latency per generation, in milliseconds. */
  latencyMs: number;
  /** Give each generation a portrait (off for measuring the engine alone). */
  render: boolean;
  /**
   * Write each portrait as a PNG file in the run's images/ when it is generated, as a real provider's image is.
   * Off (the default): the generation names its portrait (image/drawing.ts) and it is drawn, byte for byte the same,
   * when an observer or a person looks at it; nothing is encoded or written before.
   */
  imageFiles: boolean;
  /**
   * Profiles only (see ./profiles/): priors per occupation named in the prompt, replacing the Fair Diffusion
   * SD 1.5 gender counts. Unset = the Fair Diffusion list (the `sd15` default).
   */
  occupations?: Record<string, OccupationPrior>;
  /** Profiles only: compliance when the prompt also names an occupation (attribute -> category -> probability). */
  complianceWithOccupation?: Record<string, Record<string, number>>;
  /** Profiles only: what a request the model did not honour turns into (attribute -> requested category -> weights). */
  fallback?: Record<string, Record<string, Record<string, number>>>;
  /**
   * Share of unrequested people drawn as a gender category other than female/male, when the taxonomy has it
   * (`non_binary`, `cant_tell`: see the `genderCategories` option). Unset = never.
   */
  genderOther?: Record<string, number>;
}

/** What a model draws for one occupation: plain, and with a generic diversity instruction in the prompt. */
export interface OccupationPrior {
  /** Share of men among the people drawn female or male. */
  male: number;
  /** Race weights (category id -> weight); unset = the profile's race prior. */
  race?: Record<string, number>;
  /** The same under a diversity instruction ("ensure demographic diversity", "irrespective of ..."). */
  instructed?: { male: number; race?: Record<string, number> };
}

/** Monk level weights, index 0 = Monk 1. */
type Band = number[];
const band = (...w: number[]): Band => w;

export const SIM_DEFAULTS: SimParams = {
  compliance: {
    // Assumption: instructions on gender are followed almost always, race and age a little less.
    default: 0.85,
    attributes: { gender: 0.95, race: 0.9, age: 0.85, body_type: 0.85, profession: 0.9, skin_tone: 0.8 },
    // DebiasPI (Bonna et al. 2025, arXiv:2501.18642): "the model struggles to generate the palest skin tones".
    // Assumption for the sizes: Monk 1 honoured 1 time in 8, Monk 2 1 in 4, Monk 3 1 in 2.
    categories: { skin_tone: { monk_1: 0.12, monk_2: 0.25, monk_3: 0.5, monk_4: 0.7 } },
  },
  // Assumption: three men in four without an occupation cue; the Fair Diffusion SD 1.5 counts average 0.62 male
  // over 153 occupations and the DebiasPI ablations report a drift to male characters.
  defaultMaleShare: 0.75,
  prior: {
    // Assumption, in the direction reported for Stable Diffusion by Bianchi et al. 2023 ("Easily accessible
    // text-to-image generation amplifies demographic stereotypes") and Luccioni et al. 2023 ("Stable Bias"):
    // mostly White people when race is not specified.
    race: { white: 0.6, black: 0.08, latino_hispanic: 0.07, east_asian: 0.1, southeast_asian: 0.04, indian: 0.05, middle_eastern: 0.06 },
    // DebiasPI ablations: without control the model drifts to young characters. Sizes are an assumption.
    age: { "18-29": 0.45, "30-44": 0.38, "45-64": 0.13, "65+": 0.04 },
    // Assumption: slim bodies by default, plus-size rare.
    body_type: { slim: 0.55, average: 0.28, athletic: 0.14, plus_size: 0.03 },
  },
  // Assumption: broad bands overlapping neighbouring groups; the palest two levels are rare for every group.
  skinBroad: {
    white: band(0.03, 0.1, 0.25, 0.27, 0.18, 0.1, 0.05, 0.02, 0, 0),
    black: band(0, 0, 0, 0.02, 0.06, 0.12, 0.22, 0.28, 0.18, 0.12),
    latino_hispanic: band(0, 0.02, 0.08, 0.2, 0.3, 0.22, 0.12, 0.06, 0, 0),
    east_asian: band(0.02, 0.07, 0.25, 0.3, 0.2, 0.1, 0.05, 0.01, 0, 0),
    southeast_asian: band(0, 0.01, 0.04, 0.15, 0.28, 0.26, 0.16, 0.08, 0.02, 0),
    indian: band(0, 0, 0.02, 0.06, 0.16, 0.26, 0.26, 0.16, 0.06, 0.02),
    middle_eastern: band(0, 0.02, 0.08, 0.24, 0.3, 0.2, 0.1, 0.05, 0.01, 0),
  },
  // DebiasPI: "if the model is asked to balance racial representation ... the skin tone becomes less diverse".
  // Assumption for the shape: a requested race is drawn with one stereotyped tone most of the time.
  skinNarrow: {
    white: band(0, 0.02, 0.85, 0.13, 0, 0, 0, 0, 0, 0),
    black: band(0, 0, 0, 0, 0, 0, 0.05, 0.15, 0.8, 0),
    latino_hispanic: band(0, 0, 0, 0.1, 0.85, 0.05, 0, 0, 0, 0),
    east_asian: band(0, 0, 0.1, 0.85, 0.05, 0, 0, 0, 0, 0),
    southeast_asian: band(0, 0, 0, 0, 0.85, 0.15, 0, 0, 0, 0),
    indian: band(0, 0, 0, 0, 0, 0.1, 0.85, 0.05, 0, 0),
    middle_eastern: band(0, 0, 0, 0.1, 0.85, 0.05, 0, 0, 0, 0),
  },
  // DebiasPI: balancing race improves gender representation. Assumption: half of the way toward 50/50.
  instructionGenderPull: 0.5,
  // Bansal et al. 2022 ("How well can text-to-image generative models understand ethical natural language
  // interventions?") report that such phrases move gender somewhat. Assumption: 30 % of the way.
  eipGenderPull: 0.3,
  // DebiasPI: a two-panel image turned a dark-skinned person light-skinned. Assumption: 5 % of images are
  // rendered lighter than the model reports, so self-report and pixel trackers can disagree.
  reportMismatch: 0.05,
  refusalRate: 0,
  latencyMs: 0,
  render: true,
  imageFiles: false,
  // Only with the `inclusive` gender categories: issue 16 cites a 2025 study finding about 12 % of generated people
  // have no gender a viewer can determine. Assumption: 12 % of unrequested people are "can't tell".
  genderOther: { cant_tell: 0.12 },
};

/** Compliance for a category, from the most specific setting (with an occupation in the prompt, its own setting first). */
export function complianceOf(params: SimParams, attr: string, category: string, withOccupation = false): number {
  const occ = withOccupation ? params.complianceWithOccupation?.[attr]?.[category] : undefined;
  return occ ?? params.compliance.categories[attr]?.[category] ?? params.compliance.attributes[attr] ?? params.compliance.default;
}

/** Deep-merges a partial override into the defaults (objects merged key by key, arrays and numbers replaced). */
export function mergeSimParams(base: SimParams, patch: DeepPartial<SimParams> | undefined): SimParams {
  if (!patch) return base;
  return mergeDeep(structuredClone(base), patch) as SimParams;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends number[] ? number[] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

function mergeDeep(target: unknown, patch: unknown): unknown {
  if (patch === undefined) return target;
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out = (typeof target === "object" && target !== null && !Array.isArray(target) ? target : {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) out[k] = mergeDeep(out[k], v);
  return out;
}
