import { InputError, listAccepted } from "../core/errors.js";
import type { Taxonomy } from "../core/taxonomy.js";
import type { SimOverrides } from "../config/schema.js";
import { mergeSimParams, SIM_DEFAULTS, type DeepPartial, type SimParams } from "./sim/params.js";
import { SimModel } from "./sim/model.js";
import type { ImageProvider } from "./types.js";

export type { GenerateRequest, GenerateResult, ImageProvider, PersonReport } from "./types.js";

export interface ProviderContext {
  taxonomy: Taxonomy;
  sim: SimOverrides;
}

interface ProviderEntry {
  description: string;
  create(model: string | undefined, ctx: ProviderContext): ImageProvider;
}

const PROVIDERS: Record<string, ProviderEntry> = {
  sim: {
    description: "the built-in simulated, biased text-to-image model (offline, no key)",
    create: (_model, ctx) => new SimModel(ctx.taxonomy, mergeSimParams(SIM_DEFAULTS, ctx.sim as DeepPartial<SimParams>)),
  },
};

export const PROVIDER_IDS = Object.keys(PROVIDERS);

/** Splits `name[:model-or-url]` and checks the name. */
export function parseProviderSpec(spec: string): { name: string; model?: string } {
  const idx = spec.indexOf(":");
  const name = (idx < 0 ? spec : spec.slice(0, idx)).trim().toLowerCase();
  const model = idx < 0 ? undefined : spec.slice(idx + 1).trim();
  if (!PROVIDERS[name]) throw new InputError(`unknown provider "${name}"; accepted: ${listAccepted(PROVIDER_IDS)}`);
  return model ? { name, model } : { name };
}

export function createProvider(spec: string, ctx: ProviderContext): ImageProvider {
  const { name, model } = parseProviderSpec(spec);
  return PROVIDERS[name]!.create(model, ctx);
}
