import { assumedExcept } from "./assumed.js";
import { count, fitRate, of, realModelCounts } from "./counts.js";
import type { ProfileCheck, Provenance, SimProfile } from "./types.js";

const FILE = "midjourney-gender-compliance.csv";
const SOURCE = "data/real-models/midjourney-gender-compliance.csv (TRSS-Research/SAAC, MIT; face crops sorted by people; ambiguous crops never sorted, so compliance is overstated)";

/** Midjourney (2022): gender compliance and the gender split when no gender is named. */
export function midjourneyProfile(): SimProfile {
  const rows = realModelCounts(FILE);
  const measured: Provenance[] = [];
  const checks: ProfileCheck[] = [];
  const compliance: Record<string, number> = {};
  for (const cat of ["female", "male"]) {
    const r = rows.find((x) => x.requested_gender === cat);
    if (!r) throw new Error(`data/real-models/${FILE}: no row for ${cat}`);
    const k = count(r.n_match);
    const n = count(r.n_crops);
    compliance[cat] = fitRate(k, n);
    measured.push({ parameter: `compliance.categories.gender.${cat}`, value: compliance[cat]!, kind: "measured", source: SOURCE, count: `${of(k, n, "face crops")} over ${r.n_distinct_prompts} prompts` });
    checks.push({ kind: "compliance", prompt: `a portrait photo of a ${cat === "female" ? "woman" : "man"}`, attribute: "gender", requested: cat, honoured: k, of: n, what: `Midjourney, ${cat} requested` });
  }
  const none = rows.find((x) => x.requested_gender === "(none)");
  const share = Number(/([\d.]+)/.exec(none?.compliance ?? "")?.[1]);
  const crops = count(none?.n_crops);
  if (!none || !Number.isFinite(share) || crops === 0) throw new Error(`data/real-models/${FILE}: no "(none)" row with a female share`);
  const female = Math.round(share * crops);
  const defaultMaleShare = fitRate(crops - female, crops);
  measured.push({ parameter: "defaultMaleShare", value: defaultMaleShare, kind: "measured", source: SOURCE, count: `${of(crops - female, crops, "face crops")} male over ${none.n_distinct_prompts} prompts naming no gender` });
  checks.push({ kind: "plain", prompt: "a portrait photo of a person", attribute: "gender", counts: { male: crops - female, female }, what: "Midjourney, no gender named" });
  const noOccupations: Provenance = {
    parameter: "occupations",
    value: "none: every prompt gets defaultMaleShare",
    kind: "assumed",
    source: "the source does not split its prompts by occupation, so no per-occupation prior (the sd15 list is not borrowed)",
  };
  const provenance = [...measured, noOccupations];
  return {
    id: "midjourney",
    model: "Midjourney (2022)",
    calibratedOn: "gender compliance (216 of 216 female, 150 of 150 male face crops) and 48 % female when no gender is named; everything else assumed",
    sources: [`data/real-models/${FILE}`],
    priceKey: "midjourney",
    params: { occupations: {}, defaultMaleShare, compliance: { categories: { gender: compliance } } },
    genderCategories: "binary",
    provenance: [...provenance, ...assumedExcept(provenance)],
    checks,
  };
}
