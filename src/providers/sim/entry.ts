import { InputError } from "../../core/errors.js";
import type { ProviderEntry } from "../types.js";
import { SimModel } from "./model.js";
import { mergeSimParams, type DeepPartial, type SimParams } from "./params.js";
import { DEFAULT_PROFILE, getProfile, profileIds, profileParams } from "./profiles/index.js";

/** `sim[:PROFILE]`: the built-in simulated, biased model; its parameters come from `sim:` in the config, not providerOptions. */
export const simProvider: ProviderEntry = {
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
};
