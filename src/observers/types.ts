import type { Observation, Request } from "../core/request.js";
import type { Taxonomy } from "../core/taxonomy.js";
import type { GenerateResult } from "../core/generation.js";

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
