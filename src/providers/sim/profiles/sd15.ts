import { sdOccupationCounts } from "../fair-diffusion.js";
import { assumedExcept } from "./assumed.js";
import type { Provenance, SimProfile } from "./types.js";

const FILE = "data/fair-diffusion/results_fairface_generated_1-5.txt (Fair Diffusion, Friedrich et al. 2023; FairFace classifier)";

/** Stable Diffusion 1.5: today's defaults; the gender prior per occupation is the Fair Diffusion measurement. */
export function sd15Profile(): SimProfile {
  const rows = sdOccupationCounts();
  const images = rows.reduce((s, r) => s + r.man + r.woman, 0);
  const measured: Provenance[] = [
    {
      parameter: "occupations (gender)",
      value: `share of men per occupation, ${rows.length} occupations (e.g. ${rows.slice(0, 2).map((r) => `${r.occupation} ${(r.man / (r.man + r.woman)).toFixed(2)}`).join(", ")})`,
      kind: "measured",
      source: FILE,
      count: `${images} images labelled man or woman, about 250 per occupation`,
    },
  ];
  // Every 8th occupation: a spread over the list that keeps the test fast.
  const checks = rows
    .filter((_, i) => i % 8 === 0)
    .map((r) => ({
      kind: "plain" as const,
      prompt: `a photo of the face of a ${r.occupation}`,
      attribute: "gender",
      counts: { male: r.man, female: r.woman },
      what: `Fair Diffusion SD 1.5, ${r.occupation}`,
    }));
  return {
    id: "sd15",
    model: "Stable Diffusion 1.5",
    calibratedOn: `gender per occupation: Fair Diffusion's ${rows.length} occupations x 250 images (FairFace classifier); everything else assumed`,
    sources: ["data/fair-diffusion/results_fairface_generated_1-5.txt"],
    priceKey: "self-hosted:stable-diffusion-1.5",
    params: {},
    genderCategories: "binary",
    provenance: [...measured, ...assumedExcept([{ parameter: "none", value: 0, kind: "assumed", source: "" }])],
    checks,
  };
}
