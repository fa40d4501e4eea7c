import type { z } from "zod";
import type { Taxonomy } from "../core/taxonomy.js";
import type { GenerateRequest, GenerateResult } from "../core/generation.js";
import type { KeyScope } from "../http/keys.js";

export type { GenerateRequest, GenerateResult, PersonReport } from "../core/generation.js";

export interface ImageProvider {
  /** "sim", "openai:gpt-image-1", ... */
  readonly id: string;
  /** What else decides its answers beyond prompt, seed and options (e.g. a workflow file's hash), for the response cache. */
  readonly cacheKey?: Record<string, unknown>;
  generate(req: GenerateRequest): Promise<GenerateResult>;
}

export interface ProviderContext {
  taxonomy: Taxonomy;
  /** The `sim:` settings of the config file (a deep partial of the simulator's parameters), for the `sim` provider. */
  sim: Record<string, unknown>;
  /** Provider settings from the config file (`providerOptions:`), validated by the provider. */
  options?: Record<string, unknown>;
  /** Where API keys come from (the process environment unless a test passes its own). */
  env?: NodeJS.ProcessEnv;
  /** Where keys from the environment may be sent (default `any`; the dashboard passes `env`). */
  keyScope?: KeyScope;
  /** Builds another provider by spec (the `chat` provider draws with one); set by createProvider. */
  createInner?: (spec: string, ctx: ProviderContext) => ImageProvider;
}

/** One provider as the registry knows it: declared in its own file, registered in providers/index.ts. */
export interface ProviderEntry {
  /** One line for `debiaspi providers`. */
  description: string;
  /** Environment variables it reads (keys first). */
  env: string[];
  /** How to name it on the command line. */
  usage: string;
  /** Its `providerOptions` schema (strict); undefined when it takes none. */
  options?: z.ZodObject;
  /** Builds the provider; throws InputError for a bad model, URL, option or a missing key, before any call. */
  create(model: string | undefined, ctx: ProviderContext): ImageProvider;
  /**
   * Whether this provider's results say what it drew (a self-report, or a revised prompt the
   * `self-report` observer reads) with this model; undefined when it depends on what is behind it
   * (not refused). A driving observer that reads only the provider's report is refused before the
   * first call when this is false.
   */
  reportsPeople?(model: string | undefined): boolean | undefined;
  /** A model of this provider that does report what it drew, offered as a fix (`openai:dall-e-3`). */
  reportingModel?: string;
  /** A cheap request that shows the backend answers (no image generated); resolves to what it saw. */
  check?(model: string | undefined, ctx: ProviderContext): Promise<string>;
}
