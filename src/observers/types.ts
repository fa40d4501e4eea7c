import type { Observation, Request } from "../core/request.js";
import type { Taxonomy } from "../core/taxonomy.js";
import type { GenerateResult } from "../providers/types.js";

export interface ObserveInput {
  /** What the provider returned, image and self-report included. */
  result: GenerateResult;
  /** What the policy asked for. */
  request: Request;
  /** The image prompt that was sent. */
  prompt: string;
}

export interface Observer {
  readonly id: string;
  observe(input: ObserveInput, taxonomy: Taxonomy): Promise<Observation>;
}
