import { InputError, listAccepted } from "../core/errors.js";
import { requestedObserver } from "./requested.js";
import { selfReportObserver } from "./self-report.js";
import type { Observer } from "./types.js";
import { z } from "zod";
import { observerOptions, parseOptions } from "../core/options.js";
import type { KeyScope } from "../http/keys.js";
import { createVlmObserver } from "./vlm.js";
import { skinToneObserver } from "./skin-tone.js";
import { createFacesObserver } from "./faces.js";
import type { Calibration } from "../calibration/schema.js";
import { createSimulatedObserver } from "./simulated.js";

export type { Observer, ObserveInput } from "./types.js";

export interface ObserverContext {
  /** Observer settings from the config (`observerOptions: { vlm: {...} }`), per observer id. */
  options?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Where a key from the environment may be sent (default `any`; the dashboard passes `env`). */
  keyScope?: KeyScope;
  /** The run's calibration (`--calibration`), which the `simulated` observer imitates. */
  calibration?: Calibration;
}

export interface ObserverEntry {
  description: string;
  /** It reads only what the provider reports it drew (self-report, revised prompt), never the pixels: blind with a provider that reports nothing. */
  readsProviderReport?: boolean;
  /** Builds the observer; InputError for bad options or a missing key, before any image is generated. */
  create(ctx: ObserverContext): Observer;
}

const VlmOptions = z
  .object({ model: z.string().min(1), baseUrl: z.string().min(1), timeoutMs: z.number().int().positive(), retries: z.number().int().min(0).max(20) })
  .partial()
  .strict();

const FacesOptions = z
  .object({
    minConfidence: z.number().min(0).max(1),
    minFaceScore: z.number().min(0).max(1),
    maxFaces: z.number().int().min(1).max(100),
    skinFallback: z.boolean(),
    workers: z.number().int().min(0).max(16),
  })
  .partial()
  .strict();

const OBSERVERS: Record<string, ObserverEntry> = {
  requested: { description: "the request taken as the truth (open loop)", create: () => requestedObserver },
  "self-report": {
    description: "the model's own report: sim's report, a revised prompt, a chat model's JSON",
    readsProviderReport: true,
    create: () => selfReportObserver,
  },
  "skin-tone": {
    description: "skin tone from pixels: median CIELAB over skin pixels -> Monk level (nearest colour), ITA and Fitzpatrick",
    create: () => skinToneObserver,
  },
  faces: {
    description:
      "offline face analysis on CPU (human 3 on tfjs WASM): per face gender, age and skin tone from pixels; no race; whole-image skin tone when no face",
    create: (ctx) => {
      const opts = parseOptions(FacesOptions, ctx.options ?? {}, "faces", observerOptions("faces"));
      return createFacesObserver(opts);
    },
  },
  simulated: {
    description: "sim only: draws what a calibrated observer would say of what sim rendered, from the --calibration file's confusion matrix",
    create: (ctx) => {
      if (!ctx.calibration) throw new InputError("observer simulated imitates a calibrated observer: give the calibration with --calibration FILE (debiaspi calibrate makes one)", "observer");
      return createSimulatedObserver(ctx.calibration);
    },
  },
  vlm: {
    description: "a vision chat model (GPT-4o, or a local model on an OpenAI-compatible server) labels each person; keys as the chat provider",
    create: (ctx) => {
      const opts = parseOptions(VlmOptions, ctx.options ?? {}, "vlm", observerOptions("vlm"));
      return createVlmObserver({ ...opts, ...(ctx.env ? { env: ctx.env } : {}), ...(ctx.keyScope ? { keyScope: ctx.keyScope } : {}) });
    },
  },
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
