import { mainSubject } from "../core/request.js";
import type { AttemptEvent } from "../store/events.js";

/** How often a checking observer agrees with the observer that drove the loop, on one attribute. */
export interface Agreement {
  checker: string;
  attribute: string;
  /** Images where both gave a category. */
  n: number;
  agree: number;
  /** agree / n (null when n = 0). */
  rate: number | null;
  /** Images where the checker could not tell (unknown or no person). */
  checkerUnknown: number;
  /** Counts by the driving observer's category (rows), then the checker's (columns). */
  confusion: Record<string, Record<string, number>>;
}

/**
 * Agreement between the driving observer and each checking observer over the given images (the
 * main subject of each), per attribute both can see. This measures how far, say, a model's own
 * report and what the pixels show disagree.
 */
export function agreementTables(events: readonly Pick<AttemptEvent, "observation" | "checks">[], attributes: readonly string[]): Agreement[] {
  const tables = new Map<string, Agreement>();
  for (const e of events) {
    if (!e.observation || !e.checks) continue;
    const driver = mainSubject(e.observation);
    for (const check of e.checks) {
      const seen = mainSubject(check);
      for (const attr of attributes) {
        const a = driver[attr];
        if (a === undefined || a === null) continue;
        const key = `${check.observer}\u0000${attr}`;
        let t = tables.get(key);
        const b = seen[attr];
        if (!t) {
          // Only attributes the checker looks at at all.
          if (b === undefined && check.persons.length > 0) continue;
          t = { checker: check.observer, attribute: attr, n: 0, agree: 0, rate: null, checkerUnknown: 0, confusion: {} };
          tables.set(key, t);
        }
        if (b === undefined || b === null) {
          t.checkerUnknown += 1;
          continue;
        }
        t.n += 1;
        if (a === b) t.agree += 1;
        const row = (t.confusion[a] ??= {});
        row[b] = (row[b] ?? 0) + 1;
      }
    }
  }
  return [...tables.values()].map((t) => ({ ...t, rate: t.n > 0 ? t.agree / t.n : null }));
}
