import { mentionedCategories, readLabel } from "../core/aliases.js";
import type { Observation, PersonObservation } from "../core/request.js";
import type { Taxonomy } from "../core/taxonomy.js";
import type { PersonReport } from "../core/generation.js";
import type { Observer, ObserverEntry } from "./types.js";

/** Reads a structured report ({ race: "Black", gender: "woman" }) against the taxonomy's aliases. */
export function readReport(report: PersonReport, tax: Taxonomy): PersonObservation {
  const labels: Record<string, string | null> = {};
  for (const attr of tax.attributes) {
    const said = Object.entries(report).find(([k]) => k.toLowerCase().replace(/[\s-]+/g, "_") === attr.id)?.[1];
    if (said === undefined) continue;
    labels[attr.id] = typeof said === "string" ? (readLabel(attr, said)?.id ?? null) : null;
  }
  return { labels };
}

/**
 * Reads free text (a revised prompt) for one person: an attribute is known when exactly one of its
 * categories is mentioned, unknown when several are, and absent when none is.
 */
export function readFreeText(text: string, tax: Taxonomy): PersonObservation {
  const labels: Record<string, string | null> = {};
  for (const attr of tax.attributes) {
    if (attr.categories.length === 0) continue;
    const found = mentionedCategories(text, attr);
    if (found.length === 1) labels[attr.id] = found[0]!.id;
    else if (found.length > 1) labels[attr.id] = null;
  }
  return { labels };
}

/**
 * `self-report`: the model's own account of what it drew ("probing the internal state"): the sim's
 * report, a chat model's JSON, or a provider's revised prompt read against the taxonomy's aliases.
 */
export const selfReportObserver: Observer = {
  id: "self-report",
  async observe({ result }, tax): Promise<Observation> {
    if (result.selfReport && result.selfReport.length > 0) {
      return { observer: "self-report", persons: result.selfReport.map((r) => readReport(r, tax)) };
    }
    if (result.revisedPrompt) {
      return { observer: "self-report", persons: [readFreeText(result.revisedPrompt, tax)], note: "read from the revised prompt" };
    }
    return { observer: "self-report", persons: [], note: "the provider gave no self-report" };
  },
};

export const selfReportEntry: ObserverEntry = {
  description: "the model's own report: sim's report, a revised prompt, a chat model's JSON",
  readsProviderReport: true,
  create: () => selfReportObserver,
};
