import { z } from "zod";
import { InputError, listAccepted } from "../core/errors.js";
import { parseOptions } from "../core/options.js";
import { errorBodyOf } from "../http/body.js";
import { checkContext, fetchWithRetry, type HttpOverrides } from "../http/fetch.js";
import { keyedServer } from "../http/keys.js";
import { joinUrl } from "../http/url.js";
import { HOSTED_OPTIONS, HttpProvider } from "./base.js";
import { SD3_DEFAULT_MODEL, stabilityPriceUsd, type StabilityService } from "./stability-prices.js";
import type { GenerateRequest, GenerateResult, ImageProvider, ProviderContext, ProviderEntry } from "./types.js";

/**
 * Stability AI REST API v2beta, Stable Image generate:
 * `POST {base}/v2beta/stable-image/generate/{core|ultra|sd3}`, multipart/form-data, with
 * `Authorization: Bearer $STABILITY_API_KEY` and `Accept: image/*` (the answer is the image bytes,
 * with the headers `finish-reason: SUCCESS | CONTENT_FILTERED` and `seed`).
 *
 * - `stability:core`, `stability:ultra`, `stability:sd3` (model sd3.5-large unless
 *   `providerOptions.model`), or `stability:sd3.5-medium` etc. (the sd3 endpoint with that model).
 * - `finish-reason: CONTENT_FILTERED` (the output was blurred by the filter) is a refusal, and so is
 *   HTTP 403 `{"name": "content_moderation", ...}` (the request was refused; Stability says it is
 *   not charged). Other 4xx `{"id", "name", "errors": [...]}` are ProviderErrors with the errors.
 */

export const STABILITY_KEY_ENV = "STABILITY_API_KEY";
export const STABILITY_DEFAULT_BASE = "https://api.stability.ai";

const SERVICES: readonly StabilityService[] = ["core", "ultra", "sd3"];
const ASPECT_RATIOS = ["16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21"] as const;

const OptionsSchema = z.strictObject({
  /** sd3 only: sd3.5-large (default), sd3.5-large-turbo, sd3.5-medium, ... */
  model: z.string().regex(/^sd3[\w.-]*$/, "an sd3 model name such as sd3.5-large").optional(),
  aspect_ratio: z.enum(ASPECT_RATIOS).default("1:1"),
  negative_prompt: z.string().max(10_000).optional(),
  /** png (default), jpeg, or webp (core and ultra only). */
  output_format: z.enum(["png", "jpeg", "webp"]).default("png"),
  /** core (and sd3): photographic, cinematic, ... */
  style_preset: z.string().min(1).optional(),
  ...HOSTED_OPTIONS,
});

export type StabilityOptions = z.output<typeof OptionsSchema>;
export const STABILITY_OPTION_KEYS = Object.keys(OptionsSchema.shape);

/** Stability's error body `{"id", "name", "errors": [...]}` (or the text), read leniently. */
export function readStabilityError(text: string): { name?: string; message: string } {
  const { json } = errorBodyOf(text);
  if (json && typeof json === "object") {
    const r = json as Record<string, unknown>;
    const errors = Array.isArray(r.errors) ? r.errors.map((e) => (typeof e === "string" ? e : JSON.stringify(e))) : typeof r.message === "string" ? [r.message] : [];
    const name = typeof r.name === "string" ? r.name : undefined;
    const message = errors.join("; ").trim().replace(/\s+/g, " ");
    if (message || name) return { ...(name ? { name } : {}), message: message || name! };
  }
  return { message: text.trim().replace(/\s+/g, " ").slice(0, 300) };
}

/** `core`, `ultra`, `sd3`, or an sd3 model name (`sd3.5-medium`) meaning the sd3 endpoint with that model. */
export function parseStabilityModel(spec: string | undefined): { service: StabilityService; model?: string } {
  const s = (spec ?? "").trim().toLowerCase();
  if (s === "") return { service: "core" };
  if ((SERVICES as readonly string[]).includes(s)) return { service: s as StabilityService };
  if (/^sd3[\w.-]+$/.test(s)) return { service: "sd3", model: s };
  throw new InputError(`provider stability: unknown model "${spec}"; accepted: ${listAccepted([...SERVICES, "an sd3 model name (sd3.5-large, sd3.5-large-turbo, sd3.5-medium)"])}`);
}

export interface StabilityConfig {
  service: StabilityService;
  apiKey: string;
  base: URL;
  options: StabilityOptions;
  http?: HttpOverrides;
}

export class StabilityProvider extends HttpProvider implements ImageProvider {
  readonly id: string;
  readonly service: StabilityService;
  /** The sd3 model (sd3 only). */
  readonly model: string | undefined;
  readonly priceUsd: number | undefined;
  private readonly base: URL;
  readonly #apiKey: string;
  private readonly options: StabilityOptions;

  constructor(cfg: StabilityConfig) {
    super([cfg.apiKey], cfg.options, cfg.http);
    this.service = cfg.service;
    this.base = cfg.base;
    this.#apiKey = cfg.apiKey;
    this.options = cfg.options;
    const o = cfg.options;
    if (cfg.service === "sd3") {
      this.model = o.model ?? SD3_DEFAULT_MODEL;
      this.id = `stability:${this.model}`;
      if (o.output_format === "webp") throw new InputError(`provider ${this.id}: output_format "webp" is not accepted by sd3; accepted: png or jpeg`);
    } else {
      this.model = undefined;
      this.id = `stability:${cfg.service}`;
      if (o.model !== undefined) throw new InputError(`provider ${this.id}: providerOptions.model applies to sd3 only (use --provider stability:sd3 with model, or stability:${o.model})`);
    }
    const warnings: string[] = [];
    if (o.style_preset !== undefined && cfg.service === "ultra") warnings.push(`${this.id}: Stable Image Ultra takes no style_preset; it is sent anyway and may be ignored`);
    this.priceUsd = o.priceUsd ?? stabilityPriceUsd(cfg.service, this.model);
    if (this.priceUsd === undefined) warnings.push(`${this.id}: no price known for ${this.model ?? cfg.service}; costUsd is not set (give providerOptions.priceUsd)`);
    this.warnOnce(...warnings);
  }

  /** The seed Stability takes: 0 .. 4294967294 (a run seed of 2^32-1 wraps to 0). */
  static seedFor(seed: number): number {
    return Math.abs(Math.trunc(seed)) % 4_294_967_295;
  }

  /** The form fields (exactly what is sent, in order). */
  fields(req: Pick<GenerateRequest, "prompt" | "seed">): [string, string][] {
    const o = this.options;
    const f: [string, string][] = [
      ["prompt", req.prompt],
      ["seed", String(StabilityProvider.seedFor(req.seed))],
      ["output_format", o.output_format],
      ["aspect_ratio", o.aspect_ratio],
    ];
    if (o.negative_prompt !== undefined && o.negative_prompt !== "") f.push(["negative_prompt", o.negative_prompt]);
    if (o.style_preset !== undefined) f.push(["style_preset", o.style_preset]);
    if (this.model !== undefined) f.push(["model", this.model]);
    return f;
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const form = new FormData();
    for (const [k, v] of this.fields(req)) form.append(k, v);
    const res = await fetchWithRetry(
      this.id,
      joinUrl(this.base, `/v2beta/stable-image/generate/${this.service}`),
      { method: "POST", headers: { authorization: `Bearer ${this.#apiKey}`, accept: "image/*" }, body: form },
      this.ctx(req.signal),
    );
    const meta: Record<string, unknown> = { service: this.service, ...(this.model ? { model: this.model } : {}) };
    const requestId = res.headers.get("x-request-id");
    if (requestId) meta.requestId = requestId;

    if (!res.ok) {
      const text = await res.text().catch(() => "");
      const err = readStabilityError(text);
      const message = err.message || res.statusText || "no message";
      if (res.status === 403 && (err.name === "content_moderation" || /content moderation/i.test(message))) {
        // "...your request was denied and you were not charged."
        return { refusal: this.redact(message), costUsd: 0, warnings: this.takeWarnings(), meta: { ...meta, moderation: err.name ?? "content_moderation" } };
      }
      const hint =
        res.status === 401 ? ` (check ${STABILITY_KEY_ENV})` : res.status === 402 ? " (out of credits: buy more at https://platform.stability.ai/account/credits)" : "";
      this.fail(`HTTP ${res.status}${err.name ? ` ${err.name}` : ""}: ${message}${hint}`, res.status);
    }

    const finish = res.headers.get("finish-reason")?.trim().toUpperCase();
    if (finish) meta.finishReason = finish;
    const seedHeader = res.headers.get("seed");
    const warnings = this.takeWarnings();
    if (seedHeader && Number.isFinite(Number(seedHeader))) {
      meta.seedUsed = Number(seedHeader);
      if (Number(seedHeader) !== StabilityProvider.seedFor(req.seed)) warnings.push(`${this.id}: asked for seed ${StabilityProvider.seedFor(req.seed)}, Stability used ${seedHeader}`);
    }
    if (finish === "CONTENT_FILTERED") {
      await res.body?.cancel();
      // The filtered (blurred) image was generated: counted at the full price (Stability does not say otherwise).
      const result: GenerateResult = { refusal: "content filtered", warnings, meta };
      if (this.priceUsd !== undefined) result.costUsd = this.priceUsd;
      return result;
    }
    if (finish !== undefined && finish !== "SUCCESS") warnings.push(`${this.id}: unexpected finish-reason "${finish}"`);
    const { image, mime } = await this.imageBody(res, "expected image bytes (Accept: image/*)");
    const result: GenerateResult = { image, mime, warnings, meta };
    if (this.priceUsd !== undefined) result.costUsd = this.priceUsd;
    return result;
  }

  /** `GET {base}/v1/user/balance` (free): shows the key works; resolves to the credits left. */
  async check(): Promise<string> {
    const res = await fetchWithRetry(
      this.id,
      joinUrl(this.base, "/v1/user/balance"),
      { method: "GET", headers: { authorization: `Bearer ${this.#apiKey}`, accept: "application/json" } },
      checkContext(this.http, [...this.secrets]),
    );
    const text = await res.text().catch(() => "");
    if (!res.ok) this.fail(`HTTP ${res.status} on GET /v1/user/balance: ${readStabilityError(text).message || res.statusText}`, res.status);
    let credits: unknown;
    try {
      credits = (JSON.parse(text) as { credits?: unknown }).credits;
    } catch {
      credits = undefined;
    }
    return `${this.id} at ${this.base.host}${typeof credits === "number" ? ` (${credits} credits left)` : ""}`;
  }
}

/** Builds the provider from `stability:core|ultra|sd3|sd3.5-...`; InputError for a bad model, option, URL or a missing key. */
export function createStabilityProvider(model: string | undefined, ctx: Pick<ProviderContext, "options" | "env" | "keyScope">, http?: HttpOverrides): StabilityProvider {
  const parsed = parseStabilityModel(model);
  const id = `stability:${parsed.model ?? parsed.service}`;
  const options = parseOptions(OptionsSchema, ctx.options, id);
  if (parsed.model !== undefined && options.model !== undefined && options.model !== parsed.model) {
    throw new InputError(`provider ${id}: providerOptions.model "${options.model}" contradicts the model in --provider`);
  }
  const { base, apiKey } = keyedServer({ id, env: ctx.env ?? process.env, keyEnv: STABILITY_KEY_ENV, baseUrl: options.baseUrl, defaultBase: STABILITY_DEFAULT_BASE, keyScope: ctx.keyScope });
  const finalOptions = parsed.model !== undefined ? { ...options, model: parsed.model } : options;
  return new StabilityProvider({ service: parsed.service, apiKey, base, options: finalOptions, ...(http ? { http } : {}) });
}

export const stabilityProvider: ProviderEntry = {
  description: "Stability AI Stable Image API: core (3 credits), ultra (8), sd3 / sd3.5-* (3.5-6.5); $0.01 per credit",
  env: [STABILITY_KEY_ENV],
  usage: `--provider stability[:core|ultra|sd3|sd3.5-large|sd3.5-large-turbo|sd3.5-medium] (default core); providerOptions: ${STABILITY_OPTION_KEYS.join(", ")}`,
  options: OptionsSchema,
  // Images only: nothing about the people drawn.
  reportsPeople: () => false,
  create: (model, ctx) => createStabilityProvider(model, ctx),
  check: (model, ctx) => createStabilityProvider(model, ctx).check(),
};
