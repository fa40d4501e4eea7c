import { mentionedCategories } from "../../core/aliases.js";
import { Rng } from "../../core/rng.js";
import type { Assignment } from "../../core/request.js";
import { findAttribute, type Attribute, type Taxonomy } from "../../core/taxonomy.js";
import type { GenerateRequest, GenerateResult, ImageProvider, PersonReport } from "../types.js";
import { sdOccupationCounts } from "./fair-diffusion.js";
import { complianceOf, SIM_DEFAULTS, type OccupationPrior, type SimParams } from "./params.js";
import { drawingName } from "../../image/drawing.js";
import { renderPortrait, type PortraitSpec } from "../../image/portrait.js";
import { sleep } from "../../http/fetch.js";

/** What `sim` reads from a prompt: requested categories, choice options, an ethical phrase, an occupation. */
export interface ParsedPrompt {
  /** Attribute -> category ids mentioned (several when the prompt mentions several). */
  mentioned: Record<string, string[]>;
  /** Options of a "one of the following: a; b; c" choice, each parsed on its own. */
  options: Assignment[];
  eip: boolean;
  /** A generic diversity instruction ("ensure demographic diversity ...", or an ethical phrase): profiles with instructed priors use them. */
  diversity: boolean;
  occupation?: string;
}

const CHOICE_RE = /\bone of(?: the following)?\s*:\s*(.+)$/is;
const DIVERSITY_RE = /\b(demographic(ally)? divers|divers(e|ity) (across|in|of)|avoid stereotypes)/i;
const EIP_RE = /\b(irrespective of|regardless of|of (?:any|all|diverse) (?:gender|race|ethnicit|age|skin))/i;

function mentions(text: string, tax: Taxonomy): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const attr of tax.attributes) {
    if (attr.categories.length === 0) continue;
    const found = mentionedCategories(text, attr).map((c) => c.id);
    if (found.length > 0) out[attr.id] = found;
  }
  return out;
}

interface OccupationIndex {
  re: RegExp;
  maleShare: Map<string, number>;
}

const occupationRe = (names: string[]): RegExp =>
  names.length === 0 ? /(?!)/ : new RegExp(`(?<![a-z])(${[...names].sort((a, b) => b.length - a.length).map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})s?(?![a-z])`);

let occupationIndex: OccupationIndex | undefined;
function occupations(): OccupationIndex {
  if (!occupationIndex) {
    const rows = sdOccupationCounts();
    occupationIndex = {
      re: occupationRe(rows.map((r) => r.occupation)),
      maleShare: new Map(rows.map((r) => [r.occupation, r.man + r.woman > 0 ? r.man / (r.man + r.woman) : 0.5])),
    };
  }
  return occupationIndex;
}

/** A profile's own occupation list (params.occupations), indexed once per list. */
const profileIndexes = new WeakMap<Record<string, OccupationPrior>, OccupationIndex>();
function occupationsOf(params: SimParams): OccupationIndex {
  const own = params.occupations;
  if (!own) return occupations();
  let idx = profileIndexes.get(own);
  if (!idx) {
    idx = { re: occupationRe(Object.keys(own)), maleShare: new Map(Object.entries(own).map(([k, v]) => [k, v.male])) };
    profileIndexes.set(own, idx);
  }
  return idx;
}

/** The occupation of the Fair Diffusion list (or of a profile's own list) named in the prompt (the longest at the first place one is named). */
export function findOccupation(prompt: string, params?: SimParams): string | undefined {
  return (params ? occupationsOf(params) : occupations()).re.exec(prompt.toLowerCase())?.[1];
}

export function parsePrompt(prompt: string, tax: Taxonomy, params?: SimParams): ParsedPrompt {
  const choice = CHOICE_RE.exec(prompt);
  const head = choice ? prompt.slice(0, choice.index) : prompt;
  const options: Assignment[] = [];
  if (choice) {
    for (const part of choice[1]!.split(/;|\bor\b/)) {
      const m = mentions(part, tax);
      const a: Assignment = {};
      for (const [attr, ids] of Object.entries(m)) a[attr] = ids[0]!;
      if (Object.keys(a).length > 0) options.push(a);
    }
  }
  const occupation = findOccupation(head, params);
  const eip = EIP_RE.test(prompt);
  return { mentioned: mentions(head, tax), options, eip, diversity: eip || DIVERSITY_RE.test(prompt), ...(occupation ? { occupation } : {}) };
}

const pull = (share: number, amount: number): number => share + (0.5 - share) * amount;

/** One uniform draw against the shares of the other gender categories: the index picked, or -1 for female/male. */
function pickOther(rng: Rng, shares: readonly number[]): number {
  let x = rng.next();
  for (let i = 0; i < shares.length; i++) {
    if (x < shares[i]!) return i;
    x -= shares[i]!;
  }
  return -1;
}

function weightsFor(attr: Attribute, prior: Record<string, number> | undefined): number[] {
  if (!prior) return attr.categories.map(() => 1);
  return attr.categories.map((c) => prior[c.id] ?? 0.01);
}

/**
 * The simulated text-to-image model. It reads the prompt as a real model would (only the words),
 * draws one person from its biased prior, honours requested categories with its compliance, applies
 * the cross-attribute couplings, renders a portrait and reports what it intended to draw. Everything
 * is determined by the prompt and the seed. See params.ts for every parameter and its source.
 */
export class SimModel implements ImageProvider {
  readonly id = "sim";

  constructor(
    private readonly tax: Taxonomy,
    readonly params: SimParams = SIM_DEFAULTS,
    /** The profile named in `sim:PROFILE` (recorded in each image's meta); undefined for plain `sim`. */
    readonly profile?: string,
  ) {}

  private get modelName(): string {
    return this.profile ? `sim:${this.profile}` : "sim";
  }

  /** Draws the person the model intends to draw for this prompt (before rendering). */
  drawPerson(prompt: string, rng: Rng): { intended: Assignment; rendered: Assignment; parsed: ParsedPrompt; choice?: number } {
    const p = this.params;
    const parsed = parsePrompt(prompt, this.tax, p);
    const occ = parsed.occupation !== undefined ? p.occupations?.[parsed.occupation] : undefined;
    const instructed = occ?.instructed && parsed.diversity ? occ.instructed : undefined;
    const requested: Assignment = {};
    for (const [attr, ids] of Object.entries(parsed.mentioned)) requested[attr] = ids.length === 1 ? ids[0]! : ids[rng.int(ids.length)]!;
    let choice: number | undefined;
    if (parsed.options.length > 0) {
      // A biased choice: options the model already favours are picked more often.
      const w = parsed.options.map((o) => Object.entries(o).reduce((acc, [a, c]) => acc * this.priorShare(a, c, parsed), 1));
      choice = rng.weighted(w);
      Object.assign(requested, parsed.options[choice]);
    }
    const honoured = (attr: string): string | undefined => {
      const want = requested[attr];
      if (want === undefined) return undefined;
      return rng.next() < complianceOf(p, attr, want, parsed.occupation !== undefined) ? want : undefined;
    };
    /** A profile's measured outcome of a request it did not honour, if it has one. */
    const fallback = (attr: string, list: { id: string }[]): string | undefined => {
      const want = requested[attr];
      const w = want !== undefined ? p.fallback?.[attr]?.[want] : undefined;
      return w ? list[rng.weighted(list.map((c) => w[c.id] ?? 0))]!.id : undefined;
    };
    const out: Assignment = {};

    // Gender: occupation prior from real SD 1.5 counts, pulled toward balance by instructions.
    const gender = findAttribute(this.tax, "gender");
    if (gender) {
      const g = honoured("gender") ?? fallback("gender", gender.categories);
      if (g) out.gender = g;
      else {
        let male = instructed ? instructed.male : parsed.occupation !== undefined ? occupationsOf(p).maleShare.get(parsed.occupation)! : p.defaultMaleShare;
        if (Object.keys(requested).some((a) => a !== "gender")) male = pull(male, p.instructionGenderPull);
        if (parsed.eip && !instructed) male = pull(male, p.eipGenderPull);
        const hasBinary = gender.categories.some((c) => c.id === "male") && gender.categories.some((c) => c.id === "female");
        const other = p.genderOther ? gender.categories.filter((c) => (p.genderOther![c.id] ?? 0) > 0) : [];
        const otherPick = other.length > 0 ? pickOther(rng, other.map((c) => p.genderOther![c.id]!)) : -1;
        if (otherPick >= 0) out.gender = other[otherPick]!.id;
        else out.gender = hasBinary ? (rng.next() < male ? "male" : "female") : gender.categories[rng.int(gender.categories.length)]!.id;
      }
    }

    // Race and skin tone, coupled.
    const race = findAttribute(this.tax, "race");
    const skin = findAttribute(this.tax, "skin_tone");
    const wantSkin = skin ? honoured("skin_tone") : undefined;
    const r = race ? honoured("race") : undefined;
    if (race) {
      if (r) out.race = r;
      else if (wantSkin && requested.race === undefined) {
        // The race the model pairs with a requested skin tone: prior x how often that race shows that tone.
        const level = Number(wantSkin.replace("monk_", "")) - 1;
        const w = race.categories.map((c) => (p.prior.race[c.id] ?? 0.01) * ((p.skinBroad[c.id]?.[level] ?? 0.1) + 0.01));
        out.race = race.categories[rng.weighted(w)]!.id;
      } else {
        const fb = fallback("race", race.categories);
        const prior = (instructed ? instructed.race : undefined) ?? occ?.race ?? p.prior.race;
        out.race = fb ?? race.categories[rng.weighted(weightsFor(race, prior))]!.id;
      }
    }
    if (skin) {
      if (wantSkin) out.skin_tone = wantSkin;
      else {
        const bands = requested.race !== undefined ? p.skinNarrow : p.skinBroad;
        const w = bands[out.race ?? "white"] ?? skin.categories.map(() => 1);
        out.skin_tone = skin.categories[Math.min(rng.weighted(w), skin.categories.length - 1)]!.id;
      }
    }

    for (const attr of this.tax.attributes) {
      if (attr.id in out || attr.categories.length === 0) continue;
      const want = honoured(attr.id);
      if (want) out[attr.id] = want;
      else if (attr.id === "profession") {
        const named = mentionedCategories(prompt, attr)[0];
        out[attr.id] = named ? named.id : attr.categories[rng.int(attr.categories.length)]!.id;
      } else {
        const prior = attr.id === "age" ? p.prior.age : attr.id === "body_type" ? p.prior.body_type : undefined;
        out[attr.id] = attr.categories[rng.weighted(weightsFor(attr, prior))]!.id;
      }
    }

    // The image does not always match the report: rendered lighter.
    const rendered: Assignment = { ...out };
    if (out.skin_tone && rng.next() < p.reportMismatch) {
      const level = Number(out.skin_tone.replace("monk_", ""));
      if (level > 1) rendered.skin_tone = `monk_${Math.max(1, level - 1 - rng.int(2))}`;
    }
    return { intended: out, rendered, parsed, ...(choice !== undefined ? { choice } : {}) };
  }

  private priorShare(attr: string, cat: string, parsed: ParsedPrompt): number {
    const p = this.params;
    if (attr === "gender") {
      const male = parsed.occupation !== undefined ? occupationsOf(p).maleShare.get(parsed.occupation)! : p.defaultMaleShare;
      return cat === "male" ? male : cat === "female" ? 1 - male : 0.05;
    }
    const prior = attr === "race" ? p.prior.race : attr === "age" ? p.prior.age : attr === "body_type" ? p.prior.body_type : undefined;
    if (prior) return prior[cat] ?? 0.01;
    if (attr === "skin_tone") {
      const level = Number(cat.replace("monk_", "")) - 1;
      return Object.values(p.skinBroad).reduce((s, b) => s + (b[level] ?? 0), 0) / 7 + 0.01;
    }
    return 1;
  }

  /** The model's report in its own words (category labels), as a self-report observer reads it. */
  private report(a: Assignment): PersonReport {
    const out: PersonReport = {};
    for (const [attr, id] of Object.entries(a)) {
      const c = findAttribute(this.tax, attr)?.categories.find((x) => x.id === id);
      if (c) out[attr] = c.label;
    }
    return out;
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const p = this.params;
    if (p.latencyMs > 0) await sleep(p.latencyMs, req.signal);
    req.signal?.throwIfAborted();
    const rng = new Rng(req.seed);
    if (p.refusalRate > 0 && rng.next() < p.refusalRate) {
      return { refusal: "sim: request declined by the simulated safety filter", warnings: [], meta: { model: this.modelName } };
    }
    const { intended, rendered, choice } = this.drawPerson(req.prompt, rng);
    const meta: Record<string, unknown> = { model: this.modelName, truth: rendered };
    if (choice !== undefined) meta.choice = choice;
    const result: GenerateResult = { selfReport: [this.report(intended)], costUsd: 0, warnings: [], meta };
    if (p.render) {
      const level = Number((rendered.skin_tone ?? "monk_4").replace("monk_", ""));
      const portrait: PortraitSpec = {
        skinTone: Number.isInteger(level) && level >= 1 && level <= 10 ? level : 4,
        seed: req.seed >>> 0,
        ...(rendered.gender ? { gender: rendered.gender } : {}),
        ...(rendered.age ? { age: rendered.age } : {}),
        ...(rendered.body_type ? { bodyType: rendered.body_type } : {}),
      };
      // By default named, not drawn: the portrait is drawn when an observer or a person looks at it (image/drawing.ts).
      if (p.imageFiles) result.image = renderPortrait(portrait);
      else result.drawing = drawingName(portrait);
      result.mime = "image/png";
    }
    return result;
  }
}

