import type { Attribute, Category, Taxonomy } from "./taxonomy.js";

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

interface Matcher {
  re: RegExp;
  byAlias: Map<string, Category>;
}
const cache = new WeakMap<Attribute, Matcher>();

function matcherFor(attr: Attribute): Matcher {
  let m = cache.get(attr);
  if (!m) {
    const byAlias = new Map<string, Category>();
    for (const c of attr.categories) {
      for (const a of [c.id, c.label.toLowerCase(), ...c.aliases]) if (!byAlias.has(a)) byAlias.set(a, c);
    }
    // Longest alias first so "very dark brown skin" wins over "brown skin".
    const alts = [...byAlias.keys()].sort((a, b) => b.length - a.length).map(escape);
    const re = new RegExp(`(?<![\\p{L}\\p{N}_-])(?:${alts.join("|") || "(?!)"})(?![\\p{L}\\p{N}_-])`, "giu");
    m = { re, byAlias };
    cache.set(attr, m);
  }
  return m;
}

/** Categories of `attr` mentioned in free text (a revised prompt, a caption), in order, each once. */
export function mentionedCategories(text: string, attr: Attribute): Category[] {
  const { re, byAlias } = matcherFor(attr);
  const found: Category[] = [];
  for (const match of text.toLowerCase().matchAll(re)) {
    const c = byAlias.get(match[0]);
    if (c && !found.includes(c)) found.push(c);
  }
  return found;
}

/** Reads one label (a model's report "Black", "woman", "monk 3") as a category of `attr`, or null. */
export function readLabel(attr: Attribute, value: string): Category | null {
  const key = value.trim().toLowerCase();
  const { byAlias } = matcherFor(attr);
  const exact = byAlias.get(key);
  if (exact) return exact;
  const mentioned = mentionedCategories(key, attr);
  return mentioned.length === 1 ? mentioned[0]! : null;
}

/** All categories mentioned in free text, per attribute (attributes with no mention are left out). */
export function mentionsByAttribute(text: string, tax: Taxonomy): Record<string, Category[]> {
  const out: Record<string, Category[]> = {};
  for (const attr of tax.attributes) {
    if (attr.categories.length === 0) continue;
    const found = mentionedCategories(text, attr);
    if (found.length > 0) out[attr.id] = found;
  }
  return out;
}
