import { InputError, listAccepted } from "../core/errors.js";
import type { Taxonomy } from "../core/taxonomy.js";
import type { SimOverrides } from "../config/schema.js";
import { mergeSimParams, type DeepPartial, type SimParams } from "./sim/params.js";
import { DEFAULT_PROFILE, getProfile, profileIds, profileParams } from "./sim/profiles/index.js";
import { SimModel } from "./sim/model.js";
import type { ImageProvider } from "./types.js";
import type { KeyScope } from "./http.js";
import { CachedProvider, PoolProvider, RateLimitedProvider } from "./wrappers.js";
import { a1111Provider } from "./a1111.js";
import { chatProvider } from "./chat.js";
import { huggingfaceProvider } from "./huggingface.js";
import { openaiProvider } from "./openai.js";
import { replicateProvider } from "./replicate.js";
import { stabilityProvider } from "./stability.js";
import { comfyuiProvider } from "./comfyui.js";

export type { GenerateRequest, GenerateResult, ImageProvider, PersonReport } from "./types.js";

export interface ProviderContext {
  taxonomy: Taxonomy;
  sim: SimOverrides;
  /** Provider settings from the config file (`providerOptions:`), validated by the provider. */
  options?: Record<string, unknown>;
  /** Where API keys come from (the process environment unless a test passes its own). */
  env?: NodeJS.ProcessEnv;
  /** Where keys from the environment may be sent (default `any`; the dashboard passes `env`). */
  keyScope?: KeyScope;
  /** Builds another provider by spec (the `chat` provider draws with one); set by createProvider. */
  createInner?: (spec: string, ctx: ProviderContext) => ImageProvider;
}

export interface ProviderEntry {
  /** One line for `debiaspi providers`. */
  description: string;
  /** Environment variables it reads (keys first). */
  env: string[];
  /** How to name it on the command line. */
  usage: string;
  /** Builds the provider; throws InputError for a bad model, URL, option or a missing key, before any call. */
  create(model: string | undefined, ctx: ProviderContext): ImageProvider;
  /**
   * Whether this provider's results say what it drew (a self-report, or a revised prompt the
   * `self-report` observer reads) with this model; undefined when it depends on what is behind it
   * (not refused). A driving observer that reads only the provider's report is refused before the
   * first call when this is false.
   */
  reportsPeople?(model: string | undefined): boolean | undefined;
  /** A model of this provider that does report what it drew, offered as a fix (`openai:dall-e-3`). */
  reportingModel?: string;
  /** A cheap request that shows the backend answers (no image generated); resolves to what it saw. */
  check?(model: string | undefined, ctx: ProviderContext): Promise<string>;
}

const PROVIDERS: Record<string, ProviderEntry> = {
  sim: {
    description: `the built-in simulated, biased text-to-image model (offline, no key); sim:PROFILE imitates a real model: ${profileIds().join(", ")}`,
    env: [],
    reportsPeople: () => true,
    usage: `--provider sim (= sim:${DEFAULT_PROFILE}) or sim:PROFILE`,
    create: (model, ctx) => {
      const profile = model ?? DEFAULT_PROFILE;
      const base = profileParams(profile);
      const extra = Object.keys(ctx.options ?? {});
      if (extra.length > 0) {
        throw new InputError(`provider sim takes no providerOptions (got ${extra.join(", ")}); its parameters go under sim: in the config file`);
      }
      return new SimModel(ctx.taxonomy, mergeSimParams(base, ctx.sim as DeepPartial<SimParams>), model === undefined ? undefined : getProfile(profile).id);
    },
  },
};

registerProvider("openai", openaiProvider);
registerProvider("a1111", a1111Provider);
registerProvider("comfyui", comfyuiProvider);
registerProvider("replicate", replicateProvider);
registerProvider("huggingface", huggingfaceProvider);
registerProvider("stability", stabilityProvider);
registerProvider("chat", chatProvider);

/** Adds a provider to the registry (the built-in ones register themselves on import). */
export function registerProvider(name: string, entry: ProviderEntry): void {
  PROVIDERS[name] = entry;
}

export function providerEntries(): [string, ProviderEntry][] {
  return Object.entries(PROVIDERS);
}

export const providerIds = (): string[] => Object.keys(PROVIDERS);

/**
 * What the registry says about a provider spec's reports: whether its results say what it drew
 * (undefined: unknown), and a model of the same provider that does.
 */
export function providerReports(spec: string): { reports: boolean | undefined; reportingModel?: string } {
  const { name, model } = parseProviderSpec(spec);
  const entry = PROVIDERS[name]!;
  const reports = entry.reportsPeople ? entry.reportsPeople(model) : undefined;
  return { reports, ...(entry.reportingModel ? { reportingModel: entry.reportingModel } : {}) };
}

/** Splits `name[:model-or-url]` and checks the name. */
export function parseProviderSpec(spec: string): { name: string; model?: string } {
  const idx = spec.indexOf(":");
  const name = (idx < 0 ? spec : spec.slice(0, idx)).trim().toLowerCase();
  const model = idx < 0 ? undefined : spec.slice(idx + 1).trim();
  if (!PROVIDERS[name]) throw new InputError(`unknown provider "${name}"; accepted: ${listAccepted(providerIds())}`);
  return model ? { name, model } : { name };
}

/**
 * Builds a provider from `name[:model-or-url]`. Several URLs separated by commas
 * (`a1111:http://gpu1:7860,http://gpu2:7860`) make one pool that spreads requests over them.
 */
export function createProvider(spec: string, ctx: ProviderContext): ImageProvider {
  const { name, model } = parseProviderSpec(spec);
  const entry = PROVIDERS[name]!;
  const full: ProviderContext = { env: process.env, ...ctx, createInner: createProvider };
  const parts = model?.includes(",") ? model.split(",").map((s) => s.trim()).filter((s) => s.length > 0) : undefined;
  if (parts && parts.length > 1) return new PoolProvider(parts.map((m) => entry.create(m, full)));
  return entry.create(model, full);
}

export interface WrapOptions {
  /** Folder of the response cache; undefined = no cache. */
  cacheDir?: string;
  /** Requests started per second at most. */
  rate?: number;
  /** What besides prompt and seed decides the answer (provider spec, options). */
  keyParams: Record<string, unknown>;
}

/** Adds the response cache and the rate limit around a provider (never around `sim`, which is free). */
export function wrapProvider(provider: ImageProvider, opts: WrapOptions): ImageProvider {
  let p = provider;
  if (opts.rate !== undefined) p = new RateLimitedProvider(p, opts.rate);
  if (opts.cacheDir && provider.id !== "sim") p = new CachedProvider(p, opts.cacheDir, opts.keyParams);
  return p;
}
