import { InputError, listAccepted } from "./errors.js";

/** Where a category's phrase goes when a person is described: "a {adjective} {noun} {suffix}". */
export type Slot = "adjective" | "noun" | "suffix";

export interface Category {
  /** Stable id used in configs, targets and reports (`female`, `east_asian`, `monk_3`). */
  id: string;
  /** Human label for tables (`East Asian`). */
  label: string;
  /** The words put into an image prompt to ask for this category. */
  phrase: string;
  /** Lower-case words and phrases that identify this category in a model's report or a revised prompt. */
  aliases: string[];
  /**
   * A category that can be observed but not asked for ("can't tell"): it gets weight 0 in a uniform target and
   * cannot be given a weight, so the loop never requests it; an image observed in it fills no bin.
   */
  observedOnly?: boolean;
}

export interface Attribute {
  id: string;
  label: string;
  /** Ordered scales (age bins, Monk skin tone) keep their category order in reports. */
  ordered: boolean;
  slot: Slot;
  categories: Category[];
}

export interface Taxonomy {
  attributes: Attribute[];
}

const cat = (id: string, label: string, phrase: string, aliases: string[]): Category => ({
  id,
  label,
  phrase,
  aliases: [...new Set([label.toLowerCase(), ...aliases.map((a) => a.toLowerCase())])],
});

/**
 * The built-in taxonomy.
 * - gender: the two categories the FairFace classifier and most published audits use; extend it in the config.
 *   Pronouns are deliberately not aliases: "comforts her patient" says nothing about the person drawn.
 * - race: the seven FairFace groups (Karkkainen & Joo 2021). "Asian" alone is deliberately not an alias
 *   because it does not say which of two groups is meant.
 * - age: four adult bins, ordered.
 * - skin_tone: the Monk Skin Tone scale, 1 (lightest) to 10 (darkest), ordered.
 * - body_type: four builds.
 * - profession: empty until the user lists professions (config `professions:` or `--professions`).
 */
export function builtinTaxonomy(): Taxonomy {
  return {
    attributes: [
      {
        id: "gender",
        label: "Gender",
        ordered: false,
        slot: "noun",
        categories: [
          cat("female", "Female", "woman", ["woman", "women", "girl", "lady", "feminine"]),
          cat("male", "Male", "man", ["man", "men", "boy", "gentleman", "masculine"]),
        ],
      },
      {
        id: "race",
        label: "Race",
        ordered: false,
        slot: "adjective",
        categories: [
          cat("white", "White", "White", ["caucasian", "european"]),
          cat("black", "Black", "Black", ["african", "african american", "african-american"]),
          cat("latino_hispanic", "Latino/Hispanic", "Latino", ["latino", "latina", "latinx", "hispanic", "latino_hispanic"]),
          cat("east_asian", "East Asian", "East Asian", ["east asian", "east_asian", "chinese", "japanese", "korean"]),
          cat("southeast_asian", "Southeast Asian", "Southeast Asian", ["southeast asian", "southeast_asian", "south-east asian", "filipino", "filipina", "vietnamese", "thai", "indonesian", "malaysian"]),
          cat("indian", "Indian", "Indian", ["south asian"]),
          cat("middle_eastern", "Middle Eastern", "Middle Eastern", ["middle eastern", "middle_eastern", "arab", "persian"]),
        ],
      },
      {
        id: "age",
        label: "Age",
        ordered: true,
        slot: "suffix",
        categories: [
          cat("18-29", "18-29", "in their twenties", ["young", "young adult", "twenties", "in their twenties", "20s"]),
          cat("30-44", "30-44", "in their late thirties", ["thirties", "in their thirties", "in their late thirties", "30s", "early forties"]),
          cat("45-64", "45-64", "in their fifties", ["middle-aged", "middle aged", "fifties", "in their fifties", "50s", "late forties"]),
          cat("65+", "65+", "in their seventies", ["elderly", "senior", "older", "seventies", "in their seventies", "70s", "sixties"]),
        ],
      },
      {
        id: "skin_tone",
        label: "Skin tone (Monk)",
        ordered: true,
        slot: "suffix",
        categories: [
          cat("monk_1", "Monk 1", "with very pale, porcelain skin", ["monk 1", "monk_1", "porcelain skin", "very pale skin", "very pale, porcelain skin"]),
          cat("monk_2", "Monk 2", "with pale ivory skin", ["monk 2", "monk_2", "pale ivory skin", "ivory skin", "pale skin"]),
          cat("monk_3", "Monk 3", "with fair skin", ["monk 3", "monk_3", "fair skin"]),
          cat("monk_4", "Monk 4", "with light beige skin", ["monk 4", "monk_4", "light beige skin", "beige skin", "light skin"]),
          cat("monk_5", "Monk 5", "with light tan skin", ["monk 5", "monk_5", "light tan skin", "tan skin", "olive skin"]),
          cat("monk_6", "Monk 6", "with medium brown skin", ["monk 6", "monk_6", "medium brown skin", "medium skin"]),
          cat("monk_7", "Monk 7", "with brown skin", ["monk 7", "monk_7", "brown skin"]),
          cat("monk_8", "Monk 8", "with dark brown skin", ["monk 8", "monk_8", "dark brown skin", "dark skin"]),
          cat("monk_9", "Monk 9", "with very dark brown skin", ["monk 9", "monk_9", "very dark brown skin", "very dark skin"]),
          cat("monk_10", "Monk 10", "with deep ebony skin", ["monk 10", "monk_10", "deep ebony skin", "ebony skin", "deep dark skin"]),
        ],
      },
      {
        id: "body_type",
        label: "Body type",
        ordered: false,
        slot: "suffix",
        categories: [
          cat("slim", "Slim", "with a slim build", ["slim", "thin", "slender", "skinny", "slim build"]),
          cat("average", "Average", "with an average build", ["average build", "medium build", "average"]),
          cat("athletic", "Athletic", "with a muscular, athletic build", ["athletic", "muscular", "athletic build", "muscular build"]),
          cat("plus_size", "Plus-size", "with a plus-size, heavy build", ["plus-size", "plus size", "plus_size", "heavy", "heavyset", "overweight", "large build", "fat"]),
        ],
      },
      { id: "profession", label: "Profession", ordered: false, slot: "suffix", categories: [] },
    ],
  };
}

/**
 * Gender category presets (`genderCategories:` in the config, `--gender-categories`): `binary` (female, male: the
 * built-in default, what FairFace and most audits use), `non-binary` (adds non_binary, which can be requested), and
 * `inclusive` (adds non_binary and cant_tell: a person whose gender a viewer cannot determine, observed but never
 * requested).
 */
export const GENDER_PRESETS = ["binary", "non-binary", "inclusive"] as const;
export type GenderPreset = (typeof GENDER_PRESETS)[number];

const NON_BINARY = (): Category => cat("non_binary", "Non-binary", "non-binary person", ["non-binary", "nonbinary", "non binary", "genderqueer", "enby"]);
const CANT_TELL = (): Category => ({
  ...cat("cant_tell", "Can't tell", "person whose gender cannot be told", ["can't tell", "cannot tell", "cant tell", "cant_tell", "indeterminate", "ambiguous", "unclear gender"]),
  observedOnly: true,
});

/** The taxonomy with the gender categories of a preset (a new taxonomy; the input is not changed). */
export function withGenderPreset(base: Taxonomy, preset: GenderPreset): Taxonomy {
  if (preset === "binary") return base;
  const tax = structuredClone(base);
  const gender = findAttribute(tax, "gender");
  if (!gender) return tax;
  const add = preset === "inclusive" ? [NON_BINARY(), CANT_TELL()] : [NON_BINARY()];
  for (const c of add) if (!gender.categories.some((x) => x.id === c.id)) gender.categories.push(c);
  return tax;
}

const ID_RE = /^[a-z0-9][a-z0-9_+\-]*$/;

/** Turns a free-text name ("software developer") into a category id ("software_developer"); `keepDashes` keeps "-" as well. */
export function slugify(text: string, { keepDashes = false } = {}): string {
  return text
    .toLowerCase()
    .trim()
    .replace(keepDashes ? /[^a-z0-9+-]+/g : /[^a-z0-9+]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

const article = (word: string): string => (/^[aeiou]/i.test(word) ? "an" : "a");

/** Profession categories from a user list: "nurse" -> { id: nurse, phrase: "who works as a nurse" }. */
export function professionCategories(names: readonly string[]): Category[] {
  const seen = new Set<string>();
  const out: Category[] = [];
  for (const raw of names) {
    const name = raw.trim();
    const id = slugify(name);
    if (!id) throw new InputError(`profession "${raw}" is empty after trimming; give a name such as "nurse"`);
    if (seen.has(id)) throw new InputError(`profession "${name}" is listed twice`);
    seen.add(id);
    out.push(cat(id, name, `who works as ${article(name)} ${name}`, [name.toLowerCase(), id]));
  }
  return out;
}

export function findAttribute(tax: Taxonomy, id: string): Attribute | undefined {
  const key = id.trim().toLowerCase();
  return tax.attributes.find((a) => a.id === key);
}

/** The attribute with this id, or an InputError naming the accepted ids. */
export function getAttribute(tax: Taxonomy, id: string, where = "attribute"): Attribute {
  const attr = findAttribute(tax, id);
  if (!attr) {
    throw new InputError(
      `unknown ${where} "${id}"; accepted: ${listAccepted(tax.attributes.map((a) => a.id))}`,
    );
  }
  return attr;
}

/** Finds a category by id, label or alias, case-insensitively. */
export function findCategory(attr: Attribute, name: string): Category | undefined {
  const key = name.trim().toLowerCase();
  return (
    attr.categories.find((c) => c.id === key) ??
    attr.categories.find((c) => c.label.toLowerCase() === key) ??
    attr.categories.find((c) => c.aliases.includes(key))
  );
}

/** The category of `attr` named `name`, or an InputError naming the accepted ids. */
export function getCategory(attr: Attribute, name: string): Category {
  const c = findCategory(attr, name);
  if (!c) {
    if (attr.categories.length === 0) {
      throw new InputError(
        `attribute "${attr.id}" has no categories yet` +
          (attr.id === "profession" ? "; list them with --professions or `professions:` in the config" : ""),
      );
    }
    throw new InputError(
      `unknown category "${name}" for attribute "${attr.id}"; accepted: ${listAccepted(attr.categories.map((c) => c.id))}`,
    );
  }
  return c;
}

export function categoryIndex(attr: Attribute, id: string): number {
  return attr.categories.findIndex((c) => c.id === id);
}

/** A user's edit of the taxonomy, as read from the config file (already validated by the config schema). */
export interface TaxonomyPatch {
  attributes?: Record<
    string,
    {
      label?: string;
      ordered?: boolean;
      slot?: Slot;
      /** Replace the whole category list instead of patching and appending. */
      replace?: boolean;
      categories?: { id: string; label?: string; phrase?: string; aliases?: string[] }[];
    }
  >;
  professions?: string[];
}

/**
 * Applies a user's patch: an existing attribute's categories are patched by id (phrase, label,
 * aliases) and new ones appended (or the list replaced with `replace: true`); a new attribute
 * needs at least two categories. Returns a new taxonomy; the input is not changed.
 */
export function applyTaxonomyPatch(base: Taxonomy, patch: TaxonomyPatch): Taxonomy {
  const tax: Taxonomy = structuredClone(base);
  const seenAttrs = new Set<string>();
  for (const [rawId, edit] of Object.entries(patch.attributes ?? {})) {
    const id = rawId.trim().toLowerCase();
    if (!ID_RE.test(id)) {
      throw new InputError(`taxonomy: attribute id "${rawId}" must be lower-case letters, digits, _ , - or +`);
    }
    if (seenAttrs.has(id)) throw new InputError(`taxonomy: attribute "${id}" is listed twice (ids are compared in lower case); list it once`);
    seenAttrs.add(id);
    let attr = findAttribute(tax, id);
    if (!attr) {
      if (!edit.categories || edit.categories.length < 2) {
        throw new InputError(`taxonomy: new attribute "${id}" needs at least two categories`);
      }
      attr = { id, label: edit.label ?? id, ordered: edit.ordered ?? false, slot: edit.slot ?? "suffix", categories: [] };
      tax.attributes.push(attr);
    } else {
      if (edit.label !== undefined) attr.label = edit.label;
      if (edit.ordered !== undefined) attr.ordered = edit.ordered;
      if (edit.slot !== undefined) attr.slot = edit.slot;
      if (edit.replace) attr.categories = [];
    }
    const seenCats = new Set<string>();
    for (const c of edit.categories ?? []) {
      const cid = c.id.trim().toLowerCase();
      if (!ID_RE.test(cid)) {
        throw new InputError(`taxonomy: category id "${c.id}" of "${id}" must be lower-case letters, digits, _ , - or +`);
      }
      if (seenCats.has(cid)) throw new InputError(`taxonomy: category "${cid}" of "${id}" is listed twice (ids are compared in lower case); list it once`);
      seenCats.add(cid);
      const existing = attr.categories.find((x) => x.id === cid);
      if (existing) {
        if (c.label !== undefined) existing.label = c.label;
        if (c.phrase !== undefined) existing.phrase = c.phrase;
        if (c.aliases !== undefined) existing.aliases = [...new Set([existing.label.toLowerCase(), ...c.aliases.map((a) => a.toLowerCase())])];
      } else {
        const label = c.label ?? c.id;
        attr.categories.push(cat(cid, label, c.phrase ?? label, c.aliases ?? [cid]));
      }
    }
  }
  if (patch.professions && patch.professions.length > 0) {
    const prof = getAttribute(tax, "profession");
    prof.categories = professionCategories(patch.professions);
  }
  return tax;
}

/** Words for a list of attribute ids: "gender and race". */
export function attributeWords(tax: Taxonomy, ids: readonly string[]): string {
  const words = ids.map((id) => (findAttribute(tax, id)?.label ?? id).toLowerCase().replace(/\s*\(.*\)$/, ""));
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}
