import { InputError, listAccepted } from "../core/errors.js";
import type { ImageProvider, ProviderContext, ProviderEntry } from "./types.js";
import { CachedProvider, PoolProvider, RateLimitedProvider } from "./wrappers.js";
import { a1111Provider } from "./a1111.js";
import { chatProvider } from "./chat.js";
import { comfyuiProvider } from "./comfyui.js";
import { huggingfaceProvider } from "./huggingface.js";
import { openaiProvider } from "./openai.js";
import { replicateProvider } from "./replicate.js";
import { simProvider } from "./sim/entry.js";
import { stabilityProvider } from "./stability.js";

export type { GenerateRequest, GenerateResult, ImageProvider, PersonReport, ProviderContext, ProviderEntry } from "./types.js";

/** The registry: each provider is declared in its own file; this file only lists them (they never import it). */
const PROVIDERS: Record<string, ProviderEntry> = {
  sim: simProvider,
  openai: openaiProvider,
  a1111: a1111Provider,
  comfyui: comfyuiProvider,
  replicate: replicateProvider,
  huggingface: huggingfaceProvider,
  stability: stabilityProvider,
  chat: chatProvider,
};

/** Adds a provider to the registry (a plug-in's; the built-in ones are listed above). */
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
