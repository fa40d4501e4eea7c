import { z } from "zod";
import { InputError } from "../core/errors.js";
import { imageMime } from "../core/image-mime.js";
import { parseOptions } from "../core/options.js";
import { errorDetail, readErrorBody, readJson } from "../http/body.js";
import { fetchWithRetry, type HttpOverrides } from "../http/fetch.js";
import { checkKeyDestination } from "../http/keys.js";
import { baseLabel, cleanBase, joinUrl, parseBaseUrl } from "../http/url.js";
import { HttpProvider } from "./base.js";
import { describeDetail } from "./fastapi.js";
import type { GenerateRequest, GenerateResult, ImageProvider, ProviderContext, ProviderEntry } from "./types.js";

/**
 * AUTOMATIC1111 Stable Diffusion WebUI (and its forks with the same API: Forge, reForge, SD.Next in
 * A1111 mode), started with `--api`: `POST /sdapi/v1/txt2img`.
 *
 * What it cannot tell us: A1111 has no content refusal, and it gives no account of the people it
 * drew (use an observer other than `self-report`, e.g. `requested`). When its NSFW / safety filter
 * is on (an extension, or `--enable-safety-checker`-style forks), a filtered image comes back as an
 * ordinary all-black PNG with HTTP 200: it is NOT detected here and counts as an image.
 */

export const A1111_AUTH_ENV = "A1111_AUTH";

const OptionsSchema = z.strictObject({
  steps: z.number().int().min(1).max(500).default(25),
  cfg_scale: z.number().min(0).max(100).default(7),
  sampler: z.string().min(1).default("DPM++ 2M"),
  width: z.number().int().min(64).max(8192).default(512),
  height: z.number().int().min(64).max(8192).default(512),
  negative_prompt: z.string().default(""),
  /** Time limit of one txt2img request, ms (a slow GPU or a queue in front of us can take minutes). */
  timeoutMs: z.number().int().positive().default(300_000),
  /** Retries after the first try (429, 5xx, timeouts, dropped connections). */
  retries: z.number().int().min(0).max(20).default(2),
});

export type A1111Options = z.output<typeof OptionsSchema>;
export const A1111_OPTION_KEYS = Object.keys(OptionsSchema.shape);

const ResponseSchema = z.object({
  images: z.array(z.string()).min(1),
  info: z.string().optional(),
});


export class A1111Provider extends HttpProvider implements ImageProvider {
  readonly id: string;
  private readonly base: URL;
  private readonly authHeader: string | undefined;

  constructor(
    base: URL,
    readonly options: A1111Options,
    /** `user:pass` as given to the WebUI's `--api-auth`. */
    auth?: string,
    http: HttpOverrides = {},
  ) {
    let credentials = auth;
    // fetch refuses URLs with credentials: user:pass@ in the URL becomes the Authorization header.
    if (!credentials && (base.username || base.password)) credentials = `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`;
    const authHeader = credentials ? `Basic ${Buffer.from(credentials, "utf8").toString("base64")}` : undefined;
    const password = credentials?.slice(credentials.indexOf(":") + 1);
    super([credentials, authHeader?.slice(6), password, base.password].filter((s): s is string => Boolean(s)), options, http);
    this.authHeader = authHeader;
    this.base = cleanBase(base);
    this.id = `a1111:${baseLabel(this.base)}`;
  }

  private headers(json: boolean): Record<string, string> {
    return { accept: "application/json", ...(json ? { "content-type": "application/json" } : {}), ...(this.authHeader ? { authorization: this.authHeader } : {}) };
  }

  /** A non-2xx answer as a ProviderError that says what to do. */
  private async failFromResponse(res: Response, what: string): Promise<never> {
    const detail = errorDetail(await readErrorBody(res), describeDetail);
    if (res.status === 401) this.fail(`HTTP 401 on ${what}: authentication failed; set ${A1111_AUTH_ENV}=user:pass to match the WebUI's --api-auth`, 401);
    if (res.status === 404 && /^not found$/i.test(detail)) {
      this.fail(`HTTP 404 on ${what}: no API there; start the WebUI with --api (and check the URL)`, 404);
    }
    this.fail(`HTTP ${res.status} on ${what}: ${detail}`, res.status);
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const o = this.options;
    const body = {
      prompt: req.prompt,
      negative_prompt: o.negative_prompt,
      seed: req.seed,
      steps: o.steps,
      cfg_scale: o.cfg_scale,
      sampler_name: o.sampler,
      width: o.width,
      height: o.height,
      batch_size: 1,
      n_iter: 1,
    };
    const res = await fetchWithRetry(this.id, joinUrl(this.base, "/sdapi/v1/txt2img"), { method: "POST", headers: this.headers(true), body: JSON.stringify(body) }, this.ctx(req.signal));
    if (!res.ok) return this.failFromResponse(res, "txt2img");
    const json = await readJson(this.id, res, [...this.secrets]);
    const parsed = ResponseSchema.safeParse(json);
    if (!parsed.success) {
      const hasImages = json && typeof json === "object" && Array.isArray((json as { images?: unknown }).images);
      this.fail(hasImages ? "the answer holds no image" : `unexpected answer (no "images"): ${JSON.stringify(json).slice(0, 200)}`, res.status);
    }
    const b64 = parsed.data.images[0]!.replace(/^data:[^,]*,/, "");
    const image = new Uint8Array(Buffer.from(b64, "base64"));
    const mime = imageMime(image);
    if (!mime) this.fail(`the answer's image is not a PNG, JPEG or WebP (${image.length} bytes after base64 decoding)`, res.status);

    const warnings: string[] = [];
    const meta: Record<string, unknown> = { sampler: o.sampler };
    if (parsed.data.info !== undefined) {
      // `info` is a JSON document inside a string.
      let info: Record<string, unknown> | undefined;
      try {
        const v = JSON.parse(parsed.data.info) as unknown;
        if (v && typeof v === "object" && !Array.isArray(v)) info = v as Record<string, unknown>;
      } catch {
        info = undefined;
      }
      if (!info) warnings.push(`${this.id}: could not read the "info" of the answer; the seed used is unknown`);
      else {
        if (typeof info.seed === "number") meta.seedUsed = info.seed;
        if (typeof info.sd_model_name === "string") meta.model = info.sd_model_name;
        if (typeof info.sampler_name === "string") meta.sampler = info.sampler_name;
        if (typeof info.seed === "number" && info.seed !== req.seed) warnings.push(`${this.id}: asked for seed ${req.seed}, the WebUI used ${info.seed}`);
        if ((typeof info.width === "number" && info.width !== o.width) || (typeof info.height === "number" && info.height !== o.height)) {
          warnings.push(`${this.id}: asked for ${o.width}x${o.height}, the WebUI made ${String(info.width)}x${String(info.height)}`);
        }
      }
    }
    return { image, mime: mime!, costUsd: 0, warnings, meta };
  }

  /** GET /sdapi/v1/options (no generation): the loaded checkpoint. */
  async check(signal?: AbortSignal): Promise<string> {
    const ctx = this.ctx(signal);
    const res = await fetchWithRetry(this.id, joinUrl(this.base, "/sdapi/v1/options"), { method: "GET", headers: this.headers(false) }, { ...ctx, retry: { ...ctx.retry, timeoutMs: Math.min(ctx.retry.timeoutMs, 15_000), retries: 0 } });
    if (!res.ok) return this.failFromResponse(res, "/sdapi/v1/options");
    const json = await readJson(this.id, res, [...this.secrets]);
    const model = json && typeof json === "object" ? (json as { sd_model_checkpoint?: unknown }).sd_model_checkpoint : undefined;
    return `${baseLabel(this.base)} with checkpoint ${typeof model === "string" ? model : "(unknown)"}`;
  }
}

/** Builds the provider from `a1111:<url>` and the context; InputError for a missing or bad URL, option or A1111_AUTH. */
export function createA1111(model: string | undefined, ctx: Pick<ProviderContext, "options" | "env" | "keyScope">, http: HttpOverrides = {}): A1111Provider {
  if (!model) throw new InputError("provider a1111 needs the WebUI's URL: --provider a1111:http://127.0.0.1:7860");
  const base = parseBaseUrl(model, "a1111");
  const options = parseOptions(OptionsSchema, ctx.options, "a1111");
  const auth = ctx.env?.[A1111_AUTH_ENV]?.trim();
  if (auth !== undefined && auth !== "" && !auth.includes(":")) {
    throw new InputError(`provider a1111: ${A1111_AUTH_ENV} must be user:pass (as given to the WebUI's --api-auth)`);
  }
  // The WebUI's URL always comes from the settings: from the dashboard, A1111_AUTH goes nowhere without the opt-in.
  if (auth) checkKeyDestination(ctx.keyScope, "provider a1111", A1111_AUTH_ENV, base, [], "provider");
  return new A1111Provider(base, options, auth || undefined, http);
}

export const a1111Provider: ProviderEntry = {
  description: "AUTOMATIC1111 / Forge Stable Diffusion WebUI started with --api (local, free; no self-report: use --observer requested or an image observer)",
  env: [A1111_AUTH_ENV],
  usage: `--provider a1111:http://127.0.0.1:7860 (options: ${A1111_OPTION_KEYS.join(", ")})`,
  options: OptionsSchema,
  // Images only: nothing about the people drawn.
  reportsPeople: () => false,
  create: (model, ctx) => createA1111(model, ctx),
  check: (model, ctx) => createA1111(model, ctx).check(),
};
