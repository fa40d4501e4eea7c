import { InputError, listAccepted } from "../core/errors.js";
import { requestedObserver } from "./requested.js";
import { selfReportObserver } from "./self-report.js";
import type { Observer } from "./types.js";

export type { Observer, ObserveInput } from "./types.js";

const OBSERVERS: Record<string, Observer> = {
  requested: requestedObserver,
  "self-report": selfReportObserver,
};

export const OBSERVER_IDS = Object.keys(OBSERVERS);

export function getObserver(id: string): Observer {
  const o = OBSERVERS[id];
  if (!o) throw new InputError(`unknown observer "${id}"; accepted: ${listAccepted(OBSERVER_IDS)}`);
  return o;
}
