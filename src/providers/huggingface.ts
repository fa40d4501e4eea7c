import { z } from "zod";
import { InputError } from "../core/errors.js";
import { parseOptions } from "../core/options.js";
import { errorBodyOf, errorDetail, readErrorBody, type ErrorBody } from "../http/body.js";
import { ProviderError } from "../http/errors.js";
import { fetchWithRetry, type HttpOverrides } from "../http/fetch.js";
import { checkKeyDestination, requireEnv } from "../http/keys.js";
import { joinUrl, parseBaseUrl } from "../http/url.js";
import { HOSTED_OPTIONS, HttpProvider } from "./base.js";
import type { GenerateRequest, GenerateResult, ImageProvider, ProviderContext, ProviderEntry } from "./types.js";

/**
 * Hugging Face text-to-image: the serverless HF Inference API behind the router, or a dedicated
 * Inference Endpoint.
 *
 * - `huggingface:MODEL_ID` (e.g. `black-forest-labs/FLUX.1-schnell`):
 *   `POST {base}/{MODEL_ID}`, base = https://router.huggingface.co/hf-inference/models;
 * - `huggingface:https://xxxx.endpoints.huggingface.cloud`: `POST` that URL as given.
 *
 * Body `{"inputs": prompt, "parameters": {"seed": seed, ...providerOptions.parameters}}`, key
 * HF_TOKEN as a Bearer token. Success is the image bytes (`content-type: image/*`). A model still
 * loading answers 503 `{"error": "... is currently loading", "estimated_time": 20}`: retried with
 * backoff (or set `waitForModel: true`, header `x-wait-for-model`, and the server holds the request).
 * A 4xx whose error speaks of NSFW / unsafe content is a refusal.
 *
 * Cost: HF bills by compute time (serverless) or by the hour (endpoints) and the answer does not
 * say what a call cost, so costUsd is `providerOptions.priceUsd` (USD per image) or not set.
 */

export const HF_KEY_ENV = "HF_TOKEN";
export const HF_DEFAULT_BASE = "https://router.huggingface.co/hf-inference/models";

const OptionsSchema = z.strictObject({
  /** Generation parameters besides the seed (negative_prompt, num_inference_steps, guidance_scale, width, height, ...). */
  parameters: z.record(z.string(), z.unknown()).default({}),
  /** Sends `x-wait-for-model: true`: the server waits for a cold model instead of answering 503. */
  waitForModel: z.boolean().default(false),
  ...HOSTED_OPTIONS,
});

export type HuggingFaceOptions = z.output<typeof OptionsSchema>;
export const HF_OPTION_KEYS = Object.keys(OptionsSchema.shape);

/** An error that the model's safety checker / content filter raised. */
export function isHfSafetyError(text: string): boolean {
  return /\bnsfw\b|not safe for work|\bunsafe\b|safety checker|content policy|inappropriate content|content (?:moderation|filter)/i.test(text);
}

/** The message of HF's error JSON `{"error": "..." | ["..."], "error_type"?: "..."}`. */
function hfMessage(json: unknown): string | undefined {
  if (!json || typeof json !== "object") return undefined;
  const r = json as Record<string, unknown>;
  const e = r.error ?? r.message ?? r.detail;
  const msg = typeof e === "string" ? e : Array.isArray(e) ? e.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join("; ") : e !== undefined ? JSON.stringify(e) : "";
  if (msg.trim() === "") return undefined;
  return `${msg.trim()}${typeof r.error_type === "string" ? ` (${r.error_type})` : ""}`.replace(/\s+/g, " ");
}

const hfDetail = (body: ErrorBody): string => errorDetail(body, hfMessage, { collapse: true });

/** HF's error body (or the text) as one line. */
export const describeHfError = (text: string): string => hfDetail(errorBodyOf(text));

export interface HuggingFaceConfig {
  /** A model id, or undefined for an endpoint URL. */
  model?: string;
  /** Where to POST. */
  url: URL;
  apiKey: string;
  options: HuggingFaceOptions;
  http?: HttpOverrides;
}

export class HuggingFaceProvider extends HttpProvider implements ImageProvider {
  readonly id: string;
  readonly model: string | undefined;
  private readonly url: URL;
  readonly #apiKey: string;
  private readonly options: HuggingFaceOptions;

  constructor(cfg: HuggingFaceConfig) {
    super([cfg.apiKey], cfg.options, cfg.http);
    this.model = cfg.model;
    this.url = cfg.url;
    this.id = `huggingface:${cfg.model ?? `${cfg.url.origin}${cfg.url.pathname.replace(/\/+$/, "")}`}`;
    this.#apiKey = cfg.apiKey;
    this.options = cfg.options;
    if ("seed" in cfg.options.parameters) throw new InputError(`provider ${this.id}: providerOptions.parameters.seed is not allowed; the seed comes from the run`);
    if (cfg.options.priceUsd === undefined) this.warnOnce(`${this.id}: the cost of a call is unknown (billed by compute time); costUsd is not set (give providerOptions.priceUsd, USD per image)`);
  }

  get cacheKey(): Record<string, unknown> {
    return { parameters: this.options.parameters };
  }

  /** The request body (exactly what is sent). */
  body(req: Pick<GenerateRequest, "prompt" | "seed">): Record<string, unknown> {
    return { inputs: req.prompt, parameters: { seed: req.seed, ...this.options.parameters } };
  }

  headers(): Record<string, string> {
    const h: Record<string, string> = { authorization: `Bearer ${this.#apiKey}`, "content-type": "application/json", accept: "image/*" };
    if (this.options.waitForModel) h["x-wait-for-model"] = "true";
    return h;
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    let res: Response;
    try {
      res = await fetchWithRetry(this.id, this.url.href, { method: "POST", headers: this.headers(), body: JSON.stringify(this.body(req)) }, this.ctx(req.signal));
    } catch (e) {
      if (e instanceof ProviderError && e.status === 503 && /loading/i.test(e.message)) {
        throw new ProviderError(`${e.message}; the model is still loading: try again later, raise retries, or set providerOptions.waitForModel: true`, e.status, true);
      }
      throw e;
    }
    const meta: Record<string, unknown> = this.model ? { model: this.model } : { endpoint: this.id.slice("huggingface:".length) };
    if (!res.ok) {
      const detail = hfDetail(await readErrorBody(res)) || "no message";
      if (res.status >= 400 && res.status < 500 && isHfSafetyError(detail)) {
        return { refusal: this.redact(detail), warnings: this.takeWarnings(), meta };
      }
      if (res.status === 401 || res.status === 403) {
        this.fail(`HTTP ${res.status}: ${detail} (check ${HF_KEY_ENV}: a token with the "Make calls to Inference Providers" permission, or access to the endpoint)`, res.status);
      }
      if (res.status === 404) this.fail(`HTTP 404: ${detail} (is the model id right, and is it served by HF Inference? otherwise deploy an Inference Endpoint and give its URL)`, 404);
      this.fail(`HTTP ${res.status}: ${detail}`, res.status);
    }
    const { image, mime } = await this.imageBody(res, "expected image bytes", " (is this a text-to-image model?)");
    const computeTime = res.headers.get("x-compute-time");
    if (computeTime && Number.isFinite(Number(computeTime))) meta.computeTime = Number(computeTime);
    const computeType = res.headers.get("x-compute-type");
    if (computeType) meta.computeType = computeType;
    const result: GenerateResult = { image, mime, warnings: this.takeWarnings(), meta };
    if (this.options.priceUsd !== undefined) result.costUsd = this.options.priceUsd;
    return result;
  }
}

/** Builds the provider from `huggingface:MODEL_ID` or `huggingface:https://endpoint`; InputError for a bad model, URL, option or a missing key. */
export function createHuggingFaceProvider(model: string | undefined, ctx: Pick<ProviderContext, "options" | "env" | "keyScope">, http?: HttpOverrides): HuggingFaceProvider {
  const usage = "--provider huggingface:MODEL_ID (e.g. black-forest-labs/FLUX.1-schnell) or huggingface:https://YOUR-ENDPOINT.endpoints.huggingface.cloud";
  const spec = model?.trim();
  if (!spec) throw new InputError(`provider huggingface needs a model id or an endpoint URL: ${usage}`);
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(spec);
  const id = `huggingface:${isUrl ? "endpoint" : spec}`;
  const options = parseOptions(OptionsSchema, ctx.options, id);
  let url: URL;
  if (isUrl) {
    if (options.baseUrl !== undefined) throw new InputError(`provider huggingface: providerOptions.baseUrl applies to a model id, not to an endpoint URL (${usage})`);
    url = parseBaseUrl(spec, "huggingface");
    if (url.username || url.password) throw new InputError(`provider huggingface: put no credentials in the endpoint URL; the key comes from ${HF_KEY_ENV}`);
  } else {
    if (!/^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(spec)) throw new InputError(`provider huggingface: "${spec}" is not a model id; use ${usage}`);
    const base = parseBaseUrl(options.baseUrl ?? HF_DEFAULT_BASE, id);
    url = new URL(joinUrl(base, `/${spec.split("/").map(encodeURIComponent).join("/")}`));
  }
  const apiKey = requireEnv(ctx.env ?? process.env, HF_KEY_ENV, id);
  // An endpoint URL is the user's choice too: from the dashboard, the key goes only to Hugging Face's router.
  if (isUrl) checkKeyDestination(ctx.keyScope, `provider ${id}`, HF_KEY_ENV, url, [], "provider");
  else checkKeyDestination(ctx.keyScope, `provider ${id}`, HF_KEY_ENV, new URL(joinUrl(parseBaseUrl(options.baseUrl ?? HF_DEFAULT_BASE, id), "")), [HF_DEFAULT_BASE], "providerOptions.baseUrl");
  return new HuggingFaceProvider({ ...(isUrl ? {} : { model: spec }), url, apiKey, options, ...(http ? { http } : {}) });
}

export const huggingfaceProvider: ProviderEntry = {
  description: "Hugging Face text-to-image: HF Inference (serverless) by model id, or a dedicated Inference Endpoint URL (cost unknown unless providerOptions.priceUsd)",
  env: [HF_KEY_ENV],
  usage: `--provider huggingface:MODEL_ID or huggingface:https://ENDPOINT_URL; providerOptions: ${HF_OPTION_KEYS.join(", ")}`,
  options: OptionsSchema,
  // Images only: nothing about the people drawn.
  reportsPeople: () => false,
  create: (model, ctx) => createHuggingFaceProvider(model, ctx),
};
