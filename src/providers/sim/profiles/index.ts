import { InputError, listAccepted } from "../../../core/errors.js";
import { mergeSimParams, SIM_DEFAULTS, type SimParams } from "../params.js";
import { dalle3Profile, fluxDevProfile, grok2Profile, imagen4Profile, sdxlTurboProfile } from "./imggenbias.js";
import { midjourneyProfile } from "./midjourney.js";
import { sd15Profile } from "./sd15.js";
import { sd35Profile } from "./sd35.js";
import type { SimProfile } from "./types.js";

export type { ProfileCheck, Provenance, SimProfile } from "./types.js";

/** The profile `sim` uses when none is named: today's defaults. */
export const DEFAULT_PROFILE = "sd15";

const BUILDERS: Record<string, () => SimProfile> = {
  sd15: sd15Profile,
  sd35: sd35Profile,
  "dall-e-3": dalle3Profile,
  "imagen-4": imagen4Profile,
  "flux-dev": fluxDevProfile,
  "grok-2": grok2Profile,
  "sdxl-turbo": sdxlTurboProfile,
  midjourney: midjourneyProfile,
};

export const profileIds = (): string[] => Object.keys(BUILDERS);

const built = new Map<string, SimProfile>();

/** A profile by id (built from its data files once), or an InputError listing the profiles. */
export function getProfile(id: string): SimProfile {
  const key = id.trim().toLowerCase();
  const build = BUILDERS[key];
  if (!build) throw new InputError(`sim has no profile "${id}"; accepted: ${listAccepted(profileIds())} (e.g. --provider sim:sd35; plain sim is sim:${DEFAULT_PROFILE})`);
  let p = built.get(key);
  if (!p) {
    p = build();
    built.set(key, p);
  }
  return p;
}

export const allProfiles = (): SimProfile[] => profileIds().map(getProfile);

/** The profile's parameters (the defaults with its fitted values), before the user's `sim:` overrides. */
export function profileParams(id: string): SimParams {
  const p = getProfile(id);
  return p.id === DEFAULT_PROFILE ? SIM_DEFAULTS : mergeSimParams(SIM_DEFAULTS, p.params);
}

/** Whether a provider spec names a sim profile that rests on measurements (every profile does; plain `sim` is sd15). */
export function simProfileOf(spec: string): string | undefined {
  const m = /^\s*sim(?::(.+))?\s*$/i.exec(spec);
  if (!m) return undefined;
  return (m[1] ?? DEFAULT_PROFILE).trim().toLowerCase();
}
