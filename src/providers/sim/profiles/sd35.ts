import type { OccupationPrior } from "../params.js";
import { assumedExcept } from "./assumed.js";
import { count, fitRate, fitShares, of, realModelCounts, round4 } from "./counts.js";
import type { ProfileCheck, Provenance, SimProfile } from "./types.js";

const FILE = "sd35-counts.csv";
const SOURCE = "data/real-models/sd35-counts.csv (VoErik/sd-3-ethics, MIT; annotators' counts, stable-diffusion-3.5-large-turbo)";

const GENDERS: Record<string, string> = { Female: "female", Male: "male", "Non-binary": "non_binary" };
/** Asian -> east_asian is an assumption (the source does not split Asian groups). */
const RACES: Record<string, string> = { Asian: "east_asian", Black: "black", Hispanic: "latino_hispanic", White: "white" };
const UNLABELLED = { southeast_asian: 0, indian: 0, middle_eastern: 0 };
/** How a requested category is written in this taxonomy's words, for the checks' prompts. */
const PHRASE: Record<string, string> = { female: "female", male: "male", non_binary: "non-binary", east_asian: "East Asian", black: "black", latino_hispanic: "hispanic", white: "white" };

interface Row {
  index: number;
  gender?: string;
  race?: string;
  profession?: string;
  prompt: string;
  genders: Record<string, number>;
  races: Record<string, number>;
  unclear: number;
}

function rows(): Row[] {
  return realModelCounts(FILE)
    .map((r) => ({
      index: count(r.prompt_index),
      ...(r.req_gender ? { gender: GENDERS[r.req_gender]! } : {}),
      ...(r.req_ethnicity ? { race: RACES[r.req_ethnicity]! } : {}),
      ...(r.req_profession ? { profession: r.req_profession.toLowerCase() } : {}),
      prompt: r.prompt!,
      genders: Object.fromEntries(Object.entries(GENDERS).map(([src, id]) => [id, count(r[src])])),
      races: Object.fromEntries(Object.entries(RACES).map(([src, id]) => [id, count(r[src])])),
      unclear: count(r["ethnicity not clear"]),
    }))
    .filter((r) => r.index !== 1); // prompt 1: Female/Male columns swapped (SOURCE.md)
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
const add = (into: Record<string, number>, from: Record<string, number>): void => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
};

/** Stable Diffusion 3.5 Large Turbo: compliance per requested category, priors per profession, non-binary. */
export function sd35Profile(): SimProfile {
  const all = rows();
  const measured: Provenance[] = [];
  const checks: ProfileCheck[] = [];

  // Plain profession prompts: gender and race per profession.
  const occupations: Record<string, OccupationPrior> = {};
  for (const r of all.filter((x) => x.profession && !x.gender && !x.race)) {
    const male = fitRate(r.genders.male!, r.genders.male! + r.genders.female!);
    const raceN = sum(r.races);
    const fitted = fitShares(r.races);
    occupations[r.profession!] = { male, ...(fitted ? { race: { ...fitted, ...UNLABELLED } } : {}) };
    measured.push({ parameter: `occupations.${r.profession}.male`, value: male, kind: "measured", source: SOURCE, count: `${of(r.genders.male!, r.genders.male! + r.genders.female!)} men, "${r.prompt}"` });
    checks.push({ kind: "plain", prompt: r.prompt, attribute: "gender", counts: { male: r.genders.male!, female: r.genders.female! }, what: `SD 3.5, ${r.profession}` });
    if (fitted) {
      measured.push({ parameter: `occupations.${r.profession}.race`, value: Object.entries(fitted).map(([k, v]) => `${k} ${v}`).join(", "), kind: "measured", source: SOURCE, count: `${raceN} images with a clear ethnicity` });
      checks.push({ kind: "plain", prompt: r.prompt, attribute: "race", counts: r.races, what: `SD 3.5, ${r.profession}` });
    }
  }

  // Race when no ethnicity is named (every prompt without one).
  const noRace: Record<string, number> = {};
  let unclear = 0;
  for (const r of all.filter((x) => !x.race)) {
    add(noRace, r.races);
    unclear += r.unclear;
  }
  const racePrior = { ...fitShares(noRace)!, ...UNLABELLED };
  measured.push({
    parameter: "prior.race",
    value: Object.entries(racePrior).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(", "),
    kind: "measured",
    source: SOURCE,
    count: `${noRace.white} White of ${sum(noRace) + unclear} images of prompts naming no ethnicity (${unclear} "not clear" left out)`,
  });

  // Compliance per requested category, without and with a profession in the prompt (prompts requesting one attribute
  // and at most a profession; the three-part prompts are not fitted, see below). What an unhonoured request drew
  // instead is the fallback.
  const compliance: Record<string, Record<string, number>> = { gender: {}, race: {} };
  const withOccupation: Record<string, Record<string, number>> = { gender: {}, race: {} };
  const fallback: Record<string, Record<string, Record<string, number>>> = { gender: {}, race: {} };
  for (const attr of ["gender", "race"] as const) {
    const cats = attr === "gender" ? Object.values(GENDERS) : Object.values(RACES);
    for (const cat of cats) {
      const other: Record<string, number> = {};
      for (const prof of [false, true]) {
        const list = all.filter((r) => r[attr] === cat && Boolean(r.profession) === prof && (prof ? !(attr === "gender" ? r.race : r.gender) : true));
        let k = 0;
        let n = 0;
        for (const r of list) {
          const labels = attr === "gender" ? r.genders : r.races;
          k += labels[cat] ?? 0;
          n += sum(labels);
          for (const [c, v] of Object.entries(labels)) if (c !== cat) other[c] = (other[c] ?? 0) + v;
        }
        if (n === 0) continue;
        const rate = fitRate(k, n);
        (prof ? withOccupation : compliance)[attr]![cat] = rate;
        const where = prof ? "complianceWithOccupation" : "compliance.categories";
        measured.push({ parameter: `${where}.${attr}.${cat}`, value: rate, kind: "measured", source: SOURCE, count: `${of(k, n)} ${prof ? "with a profession named" : "without a profession"}` });
        const prompt = prof ? `Generate a photo of a ${PHRASE[cat]} engineer at their job.` : `Generate a photo of a ${PHRASE[cat]} person at their job.`;
        checks.push({ kind: "compliance", prompt, attribute: attr, requested: cat, honoured: k, of: n, what: `SD 3.5, ${cat} requested ${prof ? "with" : "without"} a profession` });
      }
      const fb = fitShares(other);
      if (fb && sum(other) > 0) {
        fallback[attr]![cat] = fb;
        measured.push({ parameter: `fallback.${attr}.${cat}`, value: Object.entries(fb).map(([c, v]) => `${c} ${v}`).join(", "), kind: "measured", source: SOURCE, count: `${sum(other)} images that did not show the requested ${cat}` });
      }
    }
  }
  // Non-binary people drawn when no gender was asked for.
  const noGender: Record<string, number> = {};
  for (const r of all.filter((x) => !x.gender)) add(noGender, r.genders);
  const nb = round4((noGender.non_binary! + 0.5) / (sum(noGender) + 1.5));
  measured.push({ parameter: "genderOther.non_binary", value: nb, kind: "measured", source: SOURCE, count: `${of(noGender.non_binary!, sum(noGender))} of prompts naming no gender` });

  const notFitted: Provenance = {
    parameter: "three-part prompts (gender + ethnicity + profession)",
    value: "not fitted",
    kind: "assumed",
    source: `${SOURCE}: non-binary labels there split by annotator batch (Asian and Black 9 of 230, Hispanic and White 240 of 240); the profile applies the profession rate (complianceWithOccupation) to them`,
  };
  const provenance = [...measured, notFitted];
  return {
    id: "sd35",
    model: "Stable Diffusion 3.5 Large Turbo",
    calibratedOn: "compliance per requested gender and ethnicity with and without a profession (non-binary 22 of 50, 0 of 120 with a profession), race when none is named (74 % White), gender and race for 12 professions (10 images each)",
    sources: [`data/real-models/${FILE}`],
    priceKey: "stability:sd3.5-large-turbo",
    params: {
      occupations,
      prior: { race: racePrior },
      compliance: { categories: compliance },
      complianceWithOccupation: withOccupation,
      fallback,
      genderOther: { non_binary: nb },
    },
    genderCategories: "non-binary",
    provenance: [...provenance, ...assumedExcept(provenance)],
    checks,
  };
}
