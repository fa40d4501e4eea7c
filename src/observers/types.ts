import type { z } from "zod";
import type { Calibration } from "../calibration/schema.js";
import type { GenerateResult } from "../core/generation.js";
import type { Observation, Request } from "../core/request.js";
import type { Taxonomy } from "../core/taxonomy.js";
import type { KeyScope } from "../http/keys.js";

export interface ObserveInput {
  /** What the provider returned, image and self-report included. */
  result: GenerateResult;
  /** What the policy asked for. */
  request: Request;
  /** The image prompt that was sent. */
  prompt: string;
  /** The attempt's seed, for observers that draw at random (`simulated`). */
  seed?: number;
}

export interface Observer {
  readonly id: string;
  /**
   * The attributes this observer can label, when it is limited to some (pixel observers); undefined
   * means any attribute of the taxonomy. A run whose driving observer cannot see a controlled
   * attribute is refused before anything is generated.
   */
  readonly sees?: readonly string[];
  observe(input: ObserveInput, taxonomy: Taxonomy): Promise<Observation>;
}

export interface ObserverContext {
  /** Observer settings from the config (`observerOptions: { vlm: {...} }`), for this observer. */
  options?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Where a key from the environment may be sent (default `any`; the dashboard passes `env`). */
  keyScope?: KeyScope;
  /** The run's calibration (`--calibration`), which the `simulated` observer imitates. */
  calibration?: Calibration;
}

/** One observer as the registry knows it: declared in its own file, listed in observers/index.ts. */
export interface ObserverEntry {
  description: string;
  /** It reads only what the provider reports it drew (self-report, revised prompt), never the pixels: blind with a provider that reports nothing. */
  readsProviderReport?: boolean;
  /** The attributes it can label, when limited to some (the built observer's `sees`); undefined = any. */
  sees?: readonly string[];
  /** Its `observerOptions.<id>` schema (strict); undefined when it takes none. */
  options?: z.ZodObject;
  /** Builds the observer; InputError for bad options or a missing key, before any image is generated. */
  create(ctx: ObserverContext): Observer;
}
