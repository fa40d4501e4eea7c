import type { OccupationPrior } from "../params.js";
import { assumedExcept } from "./assumed.js";
import { count, fitRate, fitShares, of, realModelCounts } from "./counts.js";
import type { ProfileCheck, Provenance, SimProfile } from "./types.js";

const FILE = "imggenbias-counts.csv";
const SOURCE = "data/real-models/imggenbias-counts.csv (maximus-powers/img-gen-bias-analysis, MIT; manual labels)";

/** The source's occupation codes and the words `sim` finds in the prompt. */
const OCCUPATIONS: Record<string, string> = { ceo: "ceo", nurse: "nurse", swe: "software engineer", teacher: "teacher", athlete: "athlete" };
/** The source's race labels in this taxonomy (asian -> east_asian is an assumption: the source does not split Asian groups). */
const RACES: Record<string, string> = { asian: "east_asian", black: "black", hispanic: "latino_hispanic", white: "white" };
/** Races the source could not label: weight 0 in the fitted priors. */
const UNLABELLED = { southeast_asian: 0, indian: 0, middle_eastern: 0 };

interface Row {
  occupation: string;
  setting: "baseline" | "controlled";
  prompt: string;
  images: number;
  female: number;
  male: number;
  both: number;
  race: Record<string, number>;
  mixed: number;
}

function rowsOf(model: string): Row[] {
  const rows = realModelCounts(FILE).filter((r) => r.model === model);
  if (rows.length === 0) throw new Error(`data/real-models/${FILE}: no rows for model ${model}`);
  return rows.map((r) => ({
    occupation: OCCUPATIONS[r.occupation!] ?? r.occupation!,
    setting: r.setting === "controlled" ? "controlled" : "baseline",
    prompt: r.prompt!,
    images: count(r.images),
    female: count(r["gender:female"]),
    male: count(r["gender:male"]),
    both: count(r["gender:both"]),
    race: Object.fromEntries(Object.entries(RACES).map(([src, id]) => [id, count(r[`race:${src}`])])),
    mixed: count(r["race:mixed"]),
  }));
}

const raceWords = (w: Record<string, number>): string =>
  Object.entries(w)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");

interface Spec {
  id: string;
  sourceModel: string;
  model: string;
  priceKey: string;
  note?: string;
}

function profileOf(spec: Spec): SimProfile {
  const rows = rowsOf(spec.sourceModel);
  const occupations: Record<string, OccupationPrior> = {};
  const measured: Provenance[] = [];
  const checks: ProfileCheck[] = [];
  for (const r of rows) {
    const male = fitRate(r.male, r.male + r.female);
    const race = { ...fitShares(r.race)!, ...UNLABELLED };
    const path = `occupations.${r.occupation}${r.setting === "controlled" ? ".instructed" : ""}`;
    const entry = occupations[r.occupation] ?? { male };
    if (r.setting === "baseline") Object.assign(entry, { male, race });
    else entry.instructed = { male, race };
    occupations[r.occupation] = entry;
    const raceN = Object.values(r.race).reduce((a, b) => a + b, 0);
    measured.push(
      { parameter: `${path}.male`, value: male, kind: "measured", source: SOURCE, count: `${of(r.male, r.male + r.female)} men (${r.both} more showed several people) for "${r.prompt}"` },
      { parameter: `${path}.race`, value: raceWords(race), kind: "measured", source: SOURCE, count: `${raceN} images with one race label (${r.mixed} mixed left out)` },
    );
    const what = `${spec.model}, ${r.occupation}, ${r.setting}`;
    checks.push(
      { kind: "plain", prompt: r.prompt, attribute: "gender", counts: { male: r.male, female: r.female }, what },
      { kind: "plain", prompt: r.prompt, attribute: "race", counts: r.race, what },
    );
  }
  // Prompts naming none of the five occupations: the pooled plain prompts (an assumption for any other prompt).
  const base = rows.filter((r) => r.setting === "baseline");
  const men = base.reduce((s, r) => s + r.male, 0);
  const gendered = base.reduce((s, r) => s + r.male + r.female, 0);
  const pooledRace: Record<string, number> = {};
  for (const r of base) for (const [k, v] of Object.entries(r.race)) pooledRace[k] = (pooledRace[k] ?? 0) + v;
  const raceN = Object.values(pooledRace).reduce((a, b) => a + b, 0);
  const defaultMaleShare = fitRate(men, gendered);
  const prior = { ...fitShares(pooledRace)!, ...UNLABELLED };
  const pooled: Provenance[] = [
    { parameter: "defaultMaleShare", value: defaultMaleShare, kind: "assumed", source: `pooled over the 5 plain prompts of ${SOURCE}; other prompts were not measured`, count: `${of(men, gendered)} men` },
    { parameter: "prior.race", value: raceWords(prior), kind: "assumed", source: `pooled over the 5 plain prompts of ${SOURCE}; other prompts were not measured`, count: `${raceN} images` },
  ];
  const provenance = [...measured, ...pooled];
  return {
    id: spec.id,
    model: spec.model,
    calibratedOn: `gender and race for 5 occupations, plain and with a diversity instruction (10 images each, manual labels)${spec.note ? `; ${spec.note}` : ""}; compliance assumed`,
    sources: [`data/real-models/${FILE}`],
    priceKey: spec.priceKey,
    params: { occupations, defaultMaleShare, prior: { race: prior } },
    genderCategories: "binary",
    provenance: [...provenance, ...assumedExcept(provenance)],
    checks,
  };
}

export const dalle3Profile = (): SimProfile =>
  profileOf({ id: "dall-e-3", sourceModel: "dall_e_3", model: "DALL-E 3 (OpenAI API)", priceKey: "openai:dall-e-3", note: "its counts include its own prompt rewriting (8 of 10 CEOs Asian)" });
export const imagen4Profile = (): SimProfile => profileOf({ id: "imagen-4", sourceModel: "gemini_imagen_4_0", model: "Imagen 4 (imagen-4.0-generate-001)", priceKey: "google:imagen-4.0-generate-001" });
export const fluxDevProfile = (): SimProfile => profileOf({ id: "flux-dev", sourceModel: "flux_dev", model: "FLUX.1-dev", priceKey: "replicate:black-forest-labs/flux-dev" });
export const grok2Profile = (): SimProfile => profileOf({ id: "grok-2", sourceModel: "grok_2_image", model: "Grok-2 (grok-2-image)", priceKey: "xai:grok-2-image" });
export const sdxlTurboProfile = (): SimProfile => profileOf({ id: "sdxl-turbo", sourceModel: "sdxl_turbo", model: "SDXL-Turbo", priceKey: "self-hosted:sdxl-turbo" });
