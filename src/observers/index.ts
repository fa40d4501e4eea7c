import { InputError, listAccepted } from "../core/errors.js";
import { facesEntry } from "./faces.js";
import { requestedEntry } from "./requested.js";
import { selfReportEntry } from "./self-report.js";
import { simulatedEntry } from "./simulated.js";
import { skinToneEntry } from "./skin-tone.js";
import type { Observer, ObserverContext, ObserverEntry } from "./types.js";
import { vlmEntry } from "./vlm.js";

export type { Observer, ObserveInput, ObserverContext, ObserverEntry } from "./types.js";

/** The registry: each observer is declared in its own file (options schema, what it sees); this file only lists them. */
const OBSERVERS: Record<string, ObserverEntry> = {
  requested: requestedEntry,
  "self-report": selfReportEntry,
  "skin-tone": skinToneEntry,
  faces: facesEntry,
  simulated: simulatedEntry,
  vlm: vlmEntry,
};

/** Adds an observer to the registry. */
export function registerObserver(id: string, entry: ObserverEntry): void {
  OBSERVERS[id] = entry;
}

export const observerIds = (): string[] => Object.keys(OBSERVERS);

export function observerEntries(): [string, ObserverEntry][] {
  return Object.entries(OBSERVERS);
}

/** The registry entry of an observer id; undefined for an unknown one. */
export const observerEntry = (id: string): ObserverEntry | undefined => OBSERVERS[id];

/** The observer with this id, built with its options; InputError naming the accepted ids. */
export function getObserver(id: string, ctx: ObserverContext = {}): Observer {
  const entry = OBSERVERS[id];
  if (!entry) throw new InputError(`unknown observer "${id}"; accepted: ${listAccepted(observerIds())}`);
  return entry.create({ env: process.env, ...ctx });
}
