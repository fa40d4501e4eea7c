import type { Assignment, Request } from "../core/request.js";
import { attributeWords, type Taxonomy } from "../core/taxonomy.js";
import type { Templates } from "./templates.js";

const article = (phrase: string): string => (/^[aeiou]/i.test(phrase) ? "an" : "a");

/** "a Black woman in their twenties with a slim build": adjectives, then the noun, then suffixes. */
export function describePerson(tax: Taxonomy, cells: Assignment): string {
  const adjectives: string[] = [];
  const suffixes: string[] = [];
  let noun: string | undefined;
  for (const attr of tax.attributes) {
    const id = cells[attr.id];
    if (id === undefined) continue;
    const c = attr.categories.find((x) => x.id === id);
    if (!c) continue;
    if (attr.slot === "adjective") adjectives.push(c.phrase);
    else if (attr.slot === "noun" && noun === undefined) noun = c.phrase;
    else suffixes.push(c.phrase);
  }
  const head = [...adjectives, noun ?? "person"].join(" ");
  return [`${article(head)} ${head}`, ...suffixes].join(" ");
}

/** "Indian female": the requested categories as bare words, adjectives first, as random prepending uses them. */
export function categoryWords(tax: Taxonomy, cells: Assignment): string {
  const bySlot: Record<string, string[]> = { adjective: [], noun: [], suffix: [] };
  for (const attr of tax.attributes) {
    const id = cells[attr.id];
    const c = id === undefined ? undefined : attr.categories.find((x) => x.id === id);
    if (!c) continue;
    bySlot[attr.slot]!.push(attr.slot === "adjective" ? c.label : attr.slot === "noun" ? c.label.toLowerCase() : c.phrase);
  }
  return [...bySlot.adjective!, ...bySlot.noun!, ...bySlot.suffix!].join(" ");
}

const fill = (template: string, values: Record<string, string>): string =>
  template.replace(/\{(prompt|person|options|attributes|words)\}/g, (m, key: string) => values[key] ?? m);

/** The image prompt for a request: the user's prompt put into the policy's template. */
export function composePrompt(prompt: string, request: Request, tax: Taxonomy, templates: Templates, policy: string): string {
  switch (request.kind) {
    case "plain":
      return fill(templates.plain, { prompt });
    case "eip":
      return fill(templates.eip, { prompt, attributes: attributeWords(tax, request.attributes) });
    case "direct":
      return policy === "random"
        ? fill(templates.random, { prompt, words: categoryWords(tax, request.cells), person: describePerson(tax, request.cells) })
        : fill(templates.direct, { prompt, person: describePerson(tax, request.cells) });
    case "choice":
      return fill(templates.choice, { prompt, options: request.options.map((o) => describePerson(tax, o)).join("; ") });
  }
}
