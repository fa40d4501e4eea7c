import type { Finding } from "./model.js";
import { getProfile, profileParams, simProfileOf } from "../providers/sim/profiles/index.js";

/*
 * What a finding's verdict is evidence of. On the simulator a finding only shows what its parameters encode, so
 * it is worded "demonstrated on the simulated model, whose parameter X encodes this effect", naming X; only a run on
 * a real provider, or on a profile whose encoding parameters are all measured, may say "reproduced", with the source.
 */

/** The sim parameters that encode each finding's effect (empty: sim has no parameter for it, it cannot show it). */
export const ENCODED_BY: Record<string, string[]> = {
  "joint-race-gender": ["prior.race", "compliance.categories.race", "compliance.categories.gender"],
  "race-target-gender": ["instructionGenderPull"],
  "race-target-skin-tone": ["skinNarrow"],
  "race-target-other": [],
  "ablation-policies": ["eipGenderPull", "compliance.categories.race", "compliance.categories.gender"],
  "no-control-young-male": ["defaultMaleShare", "prior.age"],
  trackers: ["reportMismatch"],
  "palest-skin-tones": ["compliance.categories.skin_tone"],
};

/** A parameter's value in words, from the profile's parameters. */
function valueOf(profile: string, path: string): string {
  const per = /^compliance\.categories\.(.+)$/.exec(path);
  if (per) {
    const own = valueAt(profile, path);
    return own || `${valueAt(profile, `compliance.attributes.${per[1]}`)} for every category`;
  }
  return valueAt(profile, path);
}

function valueAt(profile: string, path: string): string {
  let v: unknown = profileParams(profile);
  for (const k of path.split(".")) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  if (typeof v === "number") return String(v);
  if (Array.isArray(v) || v === undefined) return "";
  if (typeof v === "object" && v !== null) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.every(([, x]) => typeof x === "number")) return entries.map(([k, x]) => `${k} ${x as number}`).join(", ");
    return "per category";
  }
  return String(v);
}

/** Whether a profile's provenance marks a parameter (or everything under it) measured, and from what. */
function measuredIn(profile: string, path: string): { measured: boolean; source?: string } {
  const entries = getProfile(profile).provenance.filter((e) => e.parameter === path || e.parameter.startsWith(`${path}.`));
  if (entries.length === 0 || entries.some((e) => e.kind !== "measured")) return { measured: false };
  return { measured: true, source: `${entries[0]!.source}; ${entries.map((e) => `${e.parameter.slice(path.length + 1) || path}: ${e.count ?? ""}`).join("; ")}` };
}

/** The finding with its provider, basis and wording. */
export function withBasis(f: Finding, provider: string): Finding {
  const profile = simProfileOf(provider);
  if (profile === undefined) {
    return { ...f, provider, basis: "real", wording: f.reproduced === "not measured" ? `not measured on ${provider}` : `${verdictWord(f, "reproduced")} on ${provider}, a real model` };
  }
  const name = provider.includes(":") ? provider : `sim (sim:${profile})`;
  const params = ENCODED_BY[f.id] ?? [];
  if (params.length === 0) {
    return { ...f, provider, basis: "simulated", wording: `no parameter of the simulated model ${name} encodes this effect, so sim cannot show it; only a real model can` };
  }
  const status = params.map((p) => ({ p, ...measuredIn(profile, p), value: valueOf(profile, p) }));
  const named = status.map((s) => `${s.p}${s.value ? ` (${s.value})` : ""}, ${s.measured ? "measured" : "assumed"}`).join("; ");
  if (status.every((s) => s.measured)) {
    return {
      ...f,
      provider,
      basis: "measured-profile",
      wording: `${verdictWord(f, "reproduced")} on the profile ${name} of ${getProfile(profile).model}, whose parameters that carry this effect are measured: ${named}. Source: ${status.map((s) => s.source).join(" | ")}`,
    };
  }
  return {
    ...f,
    provider,
    basis: "simulated",
    wording: `${verdictWord(f, "demonstrated")} on the simulated model ${name}, whose ${status.length === 1 ? "parameter encodes" : "parameters encode"} this effect: ${named}; this is not evidence about a real model`,
  };
}

/** "reproduced" / "partly reproduced" / "not reproduced" (or demonstrated / shown). */
function verdictWord(f: Finding, verb: "reproduced" | "demonstrated"): string {
  if (f.reproduced === "yes") return verb;
  if (f.reproduced === "partly") return `partly ${verb}`;
  if (f.reproduced === "no") return verb === "reproduced" ? "not reproduced" : "not shown";
  return "not measured";
}

/** The badge of a finding: what it says given its basis ("demonstrated on sim", "reproduced", ...). */
export function verdictLabel(f: Finding): string {
  if (f.reproduced === "not measured") return "not measured";
  return verdictWord(f, f.basis === "simulated" ? "demonstrated" : "reproduced") + (f.basis === "simulated" ? " on sim" : "");
}
