import type { Observation } from "../core/request.js";
import type { Observer, ObserverEntry } from "./types.js";

/**
 * `requested`: takes the request as the truth (the open-loop assumption). A choice request is known
 * only for the attributes on which all its options agree; a plain prompt tells nothing.
 */
export const requestedObserver: Observer = {
  id: "requested",
  async observe({ request }): Promise<Observation> {
    switch (request.kind) {
      case "direct":
        return { observer: "requested", persons: [{ labels: { ...request.cells } }] };
      case "choice": {
        const labels: Record<string, string | null> = {};
        for (const attr of Object.keys(request.options[0] ?? {})) {
          const values = new Set(request.options.map((o) => o[attr]));
          labels[attr] = values.size === 1 ? [...values][0]! : null;
        }
        return { observer: "requested", persons: [{ labels }], note: "choice request: only attributes common to all options are known" };
      }
      default:
        return { observer: "requested", persons: [{ labels: {} }], note: "nothing was requested, so nothing is known" };
    }
  },
};

export const requestedEntry: ObserverEntry = { description: "the request taken as the truth (open loop)", create: () => requestedObserver };
