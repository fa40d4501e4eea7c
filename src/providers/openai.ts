import { z } from "zod";
import { InputError, listAccepted } from "../core/errors.js";
import { imageMime } from "../core/image-mime.js";
import { parseOptions } from "../core/options.js";
import { readJson } from "../http/body.js";
import { checkContext, fetchWithRetry, type HttpOverrides } from "../http/fetch.js";
import { keyedServer } from "../http/keys.js";
import { refusalOrThrow } from "../http/openai-compat.js";
import { joinUrl } from "../http/url.js";
import { HOSTED_OPTIONS, HttpProvider } from "./base.js";
import { openaiImagePrice } from "./openai-prices.js";
import type { GenerateRequest, GenerateResult, ImageProvider, ProviderContext, ProviderEntry } from "./types.js";

/**
 * OpenAI Images API (`POST {base}/images/generations`): the gpt-image-1 family and DALL-E 2 / 3.
 *
 * - The key comes from OPENAI_API_KEY only (never from a config file); it is sent as a Bearer token
 *   and blanked out of every message.
 * - The base URL is `providerOptions.baseUrl`, else OPENAI_BASE_URL (as the official SDK reads it),
 *   else https://api.openai.com/v1. A proxy there receives the key.
 * - The Images API takes no seed: every result of a run says so once (first result).
 * - A request the safety system blocks (HTTP 400 `content_policy_violation` / `moderation_blocked`)
 *   is a refusal, not an error.
 */

export const OPENAI_KEY_ENV = "OPENAI_API_KEY";
export const OPENAI_BASE_ENV = "OPENAI_BASE_URL";
export const OPENAI_DEFAULT_BASE = "https://api.openai.com/v1";
export const OPENAI_DEFAULT_MODEL = "gpt-image-1";

type Family = "gpt-image" | "dall-e-3" | "dall-e-2";

interface FamilySpec {
  sizes: readonly string[];
  qualities: readonly string[];
  size: string;
  quality?: string;
}

const FAMILIES: Record<Family, FamilySpec> = {
  "gpt-image": { sizes: ["1024x1024", "1536x1024", "1024x1536", "auto"], qualities: ["low", "medium", "high", "auto"], size: "1024x1024", quality: "medium" },
  "dall-e-3": { sizes: ["1024x1024", "1792x1024", "1024x1792"], qualities: ["standard", "hd"], size: "1024x1024", quality: "standard" },
  "dall-e-2": { sizes: ["256x256", "512x512", "1024x1024"], qualities: [], size: "1024x1024" },
};

/** The family of a model name; undefined for a name we do not know (sent like gpt-image-1, unchecked). */
function familyOf(model: string): Family | undefined {
  const m = model.toLowerCase();
  if (m === "dall-e-3" || m.startsWith("dall-e-3-")) return "dall-e-3";
  if (m === "dall-e-2" || m.startsWith("dall-e-2-")) return "dall-e-2";
  if (m.startsWith("gpt-image-") || m.startsWith("chatgpt-image")) return "gpt-image";
  return undefined;
}

const OptionsSchema = z.strictObject({
  /** `1024x1024`, ...; the accepted sizes depend on the model. */
  size: z.string().min(1).optional(),
  /** gpt-image: low | medium | high | auto; dall-e-3: standard | hd; dall-e-2: none. */
  quality: z.string().min(1).optional(),
  /** dall-e-3 only: vivid | natural. */
  style: z.enum(["vivid", "natural"]).optional(),
  /** gpt-image only: the strictness of moderation, auto | low. */
  moderation: z.enum(["auto", "low"]).optional(),
  ...HOSTED_OPTIONS,
});

export type OpenAIOptions = z.output<typeof OptionsSchema>;
export const OPENAI_OPTION_KEYS = Object.keys(OptionsSchema.shape);

const ImagesResponse = z.object({
  data: z.array(z.object({ b64_json: z.string().min(1).optional(), url: z.string().optional(), revised_prompt: z.string().optional() })).min(1),
  size: z.string().optional(),
  quality: z.string().optional(),
  output_format: z.string().optional(),
  usage: z.record(z.string(), z.unknown()).optional(),
});

export interface OpenAIImageConfig {
  model: string;
  apiKey: string;
  base: URL;
  options: OpenAIOptions;
  http?: HttpOverrides;
}

export class OpenAIImageProvider extends HttpProvider implements ImageProvider {
  readonly id: string;
  readonly model: string;
  readonly family: Family | undefined;
  readonly size: string;
  readonly quality: string | undefined;
  private readonly base: URL;
  readonly #apiKey: string;
  private readonly options: OpenAIOptions;

  constructor(cfg: OpenAIImageConfig) {
    super([cfg.apiKey], cfg.options, cfg.http);
    this.model = cfg.model;
    this.id = `openai:${cfg.model}`;
    this.base = cfg.base;
    this.#apiKey = cfg.apiKey;
    this.options = cfg.options;
    this.family = familyOf(cfg.model);
    const o = cfg.options;
    const spec = this.family ? FAMILIES[this.family] : undefined;
    const warnings = [`${this.id}: the OpenAI Images API takes no seed; images are not reproducible from the run seed`];

    this.size = o.size ?? (spec ?? FAMILIES["gpt-image"]).size;
    if (spec && !spec.sizes.includes(this.size)) {
      throw new InputError(`provider ${this.id}: providerOptions.size "${this.size}" is not accepted by ${cfg.model}; accepted: ${listAccepted(spec.sizes)}`);
    }
    if (this.family === "dall-e-2") {
      this.quality = undefined;
      if (o.quality !== undefined) warnings.push(`${this.id}: dall-e-2 has no quality setting; providerOptions.quality "${o.quality}" is ignored`);
    } else {
      this.quality = o.quality ?? (spec ?? FAMILIES["gpt-image"]).quality;
      if (spec && this.quality !== undefined && !spec.qualities.includes(this.quality)) {
        throw new InputError(`provider ${this.id}: providerOptions.quality "${this.quality}" is not accepted by ${cfg.model}; accepted: ${listAccepted(spec.qualities)}`);
      }
    }
    if (o.style !== undefined && this.family !== "dall-e-3") warnings.push(`${this.id}: providerOptions.style is a dall-e-3 setting; ignored`);
    if (o.moderation !== undefined && this.family !== "gpt-image" && this.family !== undefined) {
      warnings.push(`${this.id}: providerOptions.moderation is a gpt-image setting; ignored`);
    }
    if (o.priceUsd === undefined) {
      const price = openaiImagePrice(cfg.model, this.quality ?? "standard", this.size);
      if (!price) warnings.push(`${this.id}: no list price known for ${cfg.model} at ${this.quality ? `${this.quality}/` : ""}${this.size}; costUsd is not set (give providerOptions.priceUsd)`);
      else if (price.upperBound) warnings.push(`${this.id}: with "auto" size or quality the cost is counted at the dearest matching price ($${price.usd}) unless the answer says what was used`);
    }
    this.warnOnce(...warnings);
  }

  private headers(json: boolean): Record<string, string> {
    return { authorization: `Bearer ${this.#apiKey}`, accept: "application/json", ...(json ? { "content-type": "application/json" } : {}) };
  }

  /** The request body (exactly what is sent). */
  body(prompt: string): Record<string, unknown> {
    const body: Record<string, unknown> = { model: this.model, prompt, n: 1, size: this.size };
    if (this.quality !== undefined) body.quality = this.quality;
    if (this.family === "dall-e-3" || this.family === "dall-e-2") body.response_format = "b64_json";
    if (this.family === "dall-e-3" && this.options.style !== undefined) body.style = this.options.style;
    if ((this.family === "gpt-image" || this.family === undefined) && this.options.moderation !== undefined) body.moderation = this.options.moderation;
    return body;
  }

  private cost(quality: string | undefined, size: string): number | undefined {
    if (this.options.priceUsd !== undefined) return this.options.priceUsd;
    return openaiImagePrice(this.model, quality ?? "standard", size)?.usd;
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const res = await fetchWithRetry(
      this.id,
      joinUrl(this.base, "/images/generations"),
      { method: "POST", headers: this.headers(true), body: JSON.stringify(this.body(req.prompt)) },
      this.ctx(req.signal),
    );
    const meta: Record<string, unknown> = { model: this.model, size: this.size, quality: this.quality ?? "standard" };
    if (!res.ok) {
      const refusal = await refusalOrThrow(this.id, res, this.secrets);
      return { refusal, warnings: this.takeWarnings(), meta };
    }
    const json = await readJson(this.id, res, this.secrets);
    const parsed = ImagesResponse.safeParse(json);
    if (!parsed.success) this.fail(`unexpected answer (no "data" list): ${JSON.stringify(json).slice(0, 200)}`, res.status);
    const first = parsed.data.data[0]!;
    if (!first.b64_json) {
      this.fail(first.url ? "the answer holds an image URL, not base64 data (does the server ignore response_format?)" : "the answer holds no image (no data[0].b64_json)", res.status);
    }
    const image = new Uint8Array(Buffer.from(first.b64_json, "base64"));
    const mime = imageMime(image);
    if (!mime) this.fail(`data[0].b64_json is not a PNG, JPEG or WebP image (${image.length} bytes after decoding)`, res.status);

    // gpt-image answers say which size and quality were used (useful with "auto").
    const size = parsed.data.size ?? this.size;
    const quality = parsed.data.quality ?? this.quality;
    meta.size = size;
    meta.quality = quality ?? "standard";
    if (parsed.data.usage) meta.usage = parsed.data.usage;
    const result: GenerateResult = { image, mime, warnings: this.takeWarnings(), meta };
    const cost = this.cost(quality, size);
    if (cost !== undefined) result.costUsd = cost;
    if (first.revised_prompt) result.revisedPrompt = this.redact(first.revised_prompt);
    return result;
  }

  /** `GET {base}/models/{model}`: free; shows the key works and the model exists. */
  async check(): Promise<string> {
    const res = await fetchWithRetry(
      this.id,
      joinUrl(this.base, `/models/${encodeURIComponent(this.model)}`),
      { method: "GET", headers: this.headers(false) },
      checkContext(this.http, [...this.secrets]),
    );
    if (!res.ok) await refusalOrThrow(this.id, res, this.secrets);
    const json = await readJson(this.id, res, this.secrets);
    const owner = json && typeof json === "object" ? (json as { owned_by?: unknown }).owned_by : undefined;
    return `model ${this.model} at ${this.base.origin}${typeof owner === "string" ? ` (owned by ${owner})` : ""}`;
  }
}

/** Builds the provider from `openai:MODEL` and the context; InputError for a bad option, URL or a missing key. */
export function createOpenAIProvider(model: string | undefined, ctx: ProviderContext, http?: HttpOverrides): OpenAIImageProvider {
  const name = model && model.trim() !== "" ? model.trim() : OPENAI_DEFAULT_MODEL;
  const id = `openai:${name}`;
  const options = parseOptions(OptionsSchema, ctx.options, id);
  const { base, apiKey } = keyedServer({ id, env: ctx.env ?? process.env, keyEnv: OPENAI_KEY_ENV, baseUrl: options.baseUrl, baseEnv: OPENAI_BASE_ENV, defaultBase: OPENAI_DEFAULT_BASE, keyScope: ctx.keyScope });
  return new OpenAIImageProvider({ model: name, apiKey, base, options, ...(http ? { http } : {}) });
}

export const openaiProvider: ProviderEntry = {
  description: "OpenAI Images API: gpt-image-1 (-mini, 1.5), dall-e-3, dall-e-2 (paid; no seed)",
  env: [OPENAI_KEY_ENV, OPENAI_BASE_ENV],
  usage: `--provider openai[:MODEL] (default ${OPENAI_DEFAULT_MODEL}); providerOptions: ${OPENAI_OPTION_KEYS.join(", ")}`,
  options: OptionsSchema,
  // dall-e-3 answers with its revised prompt (read as a self-report); gpt-image and dall-e-2 say nothing of what they drew.
  reportsPeople: (model) => {
    const family = familyOf(model && model.trim() !== "" ? model.trim() : OPENAI_DEFAULT_MODEL);
    return family === undefined ? undefined : family === "dall-e-3";
  },
  reportingModel: "openai:dall-e-3",
  create: (model, ctx) => createOpenAIProvider(model, ctx),
  check: (model, ctx) => createOpenAIProvider(model, ctx).check(),
};
