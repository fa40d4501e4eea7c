/** What a model says it drew for one person: attribute id -> its own words ("Black", "woman", "Monk 3"). */
export type PersonReport = Record<string, string>;

export interface GenerateRequest {
  prompt: string;
  /** Per-attempt seed, derived from the run seed; providers that take a seed use it. */
  seed: number;
  signal?: AbortSignal;
}

export interface GenerateResult {
  image?: Uint8Array;
  mime?: string;
  /** A prompt the provider rewrote (DALL-E 3's revised_prompt): readable as a self-report. */
  revisedPrompt?: string;
  /** The model's own account of the people it drew: the "internal state" tracker reads this. */
  selfReport?: PersonReport[];
  /** Set when the provider declined (content policy, safety filter): an outcome, not a crash. */
  refusal?: string;
  costUsd?: number;
  /** Settings the backend ignored, and other things worth telling the user. */
  warnings: string[];
  meta: Record<string, unknown>;
}

export interface ImageProvider {
  /** "sim", "openai:gpt-image-1", ... */
  readonly id: string;
  /** What else decides its answers beyond prompt, seed and options (e.g. a workflow file's hash), for the response cache. */
  readonly cacheKey?: Record<string, unknown>;
  generate(req: GenerateRequest): Promise<GenerateResult>;
}
