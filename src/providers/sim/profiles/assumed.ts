import { SIM_DEFAULTS } from "../params.js";
import type { Provenance } from "./types.js";

const d = SIM_DEFAULTS;
const list = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${k} ${v}`).join(", ");

/**
 * The default parameters (src/providers/sim/params.ts) and why they have their values: assumptions in the
 * direction of published findings, not measurements. A profile lists those it does not replace.
 */
const DEFAULT_ASSUMPTIONS: Provenance[] = [
  { parameter: "compliance.attributes.gender", value: d.compliance.attributes.gender!, kind: "assumed", source: "assumption: gender instructions followed almost always" },
  { parameter: "compliance.attributes.race", value: d.compliance.attributes.race!, kind: "assumed", source: "assumption: race instructions followed a little less often than gender" },
  { parameter: "compliance.attributes.age", value: d.compliance.attributes.age!, kind: "assumed", source: "assumption" },
  { parameter: "compliance.attributes.body_type", value: d.compliance.attributes.body_type!, kind: "assumed", source: "assumption" },
  { parameter: "compliance.categories.skin_tone", value: list(d.compliance.categories.skin_tone!), kind: "assumed", source: "DebiasPI (arXiv:2501.18642) reports the palest tones are hard to get; the sizes are an assumption" },
  { parameter: "defaultMaleShare", value: d.defaultMaleShare, kind: "assumed", source: "assumption: three men in four for a prompt with no occupation the profile knows" },
  { parameter: "prior.race", value: list(d.prior.race), kind: "assumed", source: "assumption in the direction of Bianchi et al. 2023 and Luccioni et al. 2023 (mostly White)" },
  { parameter: "prior.age", value: list(d.prior.age), kind: "assumed", source: "DebiasPI reports a drift to young people without control; sizes assumed" },
  { parameter: "prior.body_type", value: list(d.prior.body_type), kind: "assumed", source: "assumption: slim bodies by default" },
  { parameter: "skinBroad", value: "broad Monk bands per race", kind: "assumed", source: "assumption" },
  { parameter: "skinNarrow", value: "one stereotyped Monk tone per requested race", kind: "assumed", source: "DebiasPI: balancing race narrows skin tone; the shape is an assumption" },
  { parameter: "instructionGenderPull", value: d.instructionGenderPull, kind: "assumed", source: "DebiasPI: balancing race improves gender; half of the way to 50/50 is an assumption" },
  { parameter: "eipGenderPull", value: d.eipGenderPull, kind: "assumed", source: "Bansal et al. 2022: ethical phrases move gender somewhat; 30 % of the way is an assumption" },
  { parameter: "reportMismatch", value: d.reportMismatch, kind: "assumed", source: "DebiasPI: an image rendered lighter than asked; 5 % is an assumption" },
  { parameter: "refusalRate", value: d.refusalRate, kind: "assumed", source: "assumption: no refusals" },
  { parameter: "genderOther.cant_tell", value: d.genderOther!.cant_tell!, kind: "assumed", source: "inclusive gender categories only: about 12 % of generated people have no gender a viewer can determine (a 2025 study cited in issue 16); no profile's source labelled it" },
];

/** The default assumptions, less those whose parameter (or a parameter under it) the profile measured. */
export function assumedExcept(measured: readonly Provenance[]): Provenance[] {
  const paths = measured.map((p) => p.parameter);
  return DEFAULT_ASSUMPTIONS.filter((a) => !paths.some((p) => p === a.parameter || p.startsWith(`${a.parameter}.`)));
}
