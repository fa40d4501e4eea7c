import { z } from "zod";
import { InputError } from "../core/errors.js";
import { imageMime } from "../core/image-mime.js";
import { parseOptions } from "../core/options.js";
import { errorDetail, readErrorBody, readJson, type ErrorBody } from "../http/body.js";
import { fetchWithRetry, sleep, type HttpOverrides } from "../http/fetch.js";
import { keyedServer } from "../http/keys.js";
import { joinUrl } from "../http/url.js";
import { HOSTED_OPTIONS, HttpProvider } from "./base.js";
import type { GenerateRequest, GenerateResult, ImageProvider, ProviderContext, ProviderEntry } from "./types.js";

/**
 * Replicate predictions API (https://replicate.com/docs/reference/http):
 *
 * - `replicate:owner/model` (an official model, its latest version):
 *   `POST {base}/models/{owner}/{model}/predictions` with `{input}`;
 * - `replicate:owner/model:VERSION`: `POST {base}/predictions` with `{version, input}`.
 *
 * The input is `{prompt, seed, ...providerOptions.input}`. With `Prefer: wait=N` (option `wait`,
 * default 60 s, 0 = off) Replicate holds the create request until the prediction ends or N seconds
 * pass; then we poll `GET urls.get` (or `{base}/predictions/{id}`) every `pollMs` until the status
 * is succeeded / failed / canceled / aborted, within `maxWaitMs` overall (past it, or when the
 * caller aborts, the prediction is canceled, best effort, so it stops costing).
 * The output (a URL or a list of URLs; a data: URL too) is downloaded: the first one. The key is
 * sent to the download only when it is on the API's own host.
 *
 * A prediction that fails because the model's safety checker flagged it (NSFW, "flagged as
 * sensitive (E005)", ...) is a refusal; any other failure is a ProviderError with Replicate's text.
 *
 * Caveat: a create request that times out or drops is retried, and Replicate may have started
 * (and will bill) the first one: keep `timeoutMs` well above `wait`.
 *
 * Cost: Replicate bills by model (per image or per second of GPU time) and the API does not say
 * what a prediction cost, so costUsd is `providerOptions.priceUsd` (USD per image) or not set.
 */

export const REPLICATE_KEY_ENV = "REPLICATE_API_TOKEN";
export const REPLICATE_DEFAULT_BASE = "https://api.replicate.com/v1";

const OptionsSchema = z.strictObject({
  /** Model inputs besides prompt and seed (width, aspect_ratio, num_inference_steps, ...), as the model's schema names them. */
  input: z.record(z.string(), z.unknown()).default({}),
  /** `Prefer: wait=N`: seconds the create request may wait for the result (1-60); 0 = answer at once and poll. */
  wait: z.number().int().min(0).max(60).default(60),
  /** Time between two polls, ms. */
  pollMs: z.number().int().min(1).max(60_000).default(1_000),
  /** Time limit of the whole prediction (create, polls, download), ms. */
  maxWaitMs: z.number().int().positive().default(600_000),
  ...HOSTED_OPTIONS,
});

export type ReplicateOptions = z.output<typeof OptionsSchema>;
export const REPLICATE_OPTION_KEYS = Object.keys(OptionsSchema.shape);

const Prediction = z.object({
  id: z.string().min(1),
  status: z.string(),
  model: z.string().nullish(),
  version: z.string().nullish(),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
  logs: z.string().nullish(),
  metrics: z.record(z.string(), z.unknown()).nullish(),
  urls: z.object({ get: z.string().optional(), cancel: z.string().optional() }).partial().nullish(),
});
type Prediction = z.output<typeof Prediction>;

const TERMINAL = new Set(["succeeded", "failed", "canceled", "aborted"]);

/** A failure caused by the model's safety checker / content filter (not a crash). */
export function isReplicateSafetyFailure(text: string): boolean {
  return /\bnsfw\b|not safe for work|safety (?:check|filter|system)|unsafe content|flagged as sensitive|\(E005\)|content (?:policy|moderation|filter)/i.test(text);
}

/** `owner/model` or `owner/model:version`. */
export function parseReplicateModel(spec: string | undefined): { owner: string; name: string; version?: string } {
  const usage = "--provider replicate:owner/model (e.g. black-forest-labs/flux-schnell) or replicate:owner/model:VERSION";
  if (!spec || spec.trim() === "") throw new InputError(`provider replicate needs a model: ${usage}`);
  const m = /^([A-Za-z0-9][\w.-]*)\/([A-Za-z0-9][\w.-]*)(?::([A-Za-z0-9]+))?$/.exec(spec.trim());
  if (!m) throw new InputError(`provider replicate: "${spec}" is not a model name; use ${usage}`);
  return { owner: m[1]!, name: m[2]!, ...(m[3] ? { version: m[3] } : {}) };
}

/** Replicate's error body (RFC 7807 problem details `{title, detail, status}`), or its text, as one line. */
function describeProblem(body: ErrorBody): string {
  return errorDetail(
    body,
    (json) => {
      if (!json || typeof json !== "object") return undefined;
      const r = json as Record<string, unknown>;
      const parts = [r.title, r.detail].filter((s): s is string => typeof s === "string" && s.trim() !== "").map((s) => s.trim());
      return parts.length > 0 ? parts.join(": ").replace(/\s+/g, " ") : undefined;
    },
    { collapse: true },
  );
}

function errorText(error: unknown): string {
  if (error === undefined || error === null || error === "") return "";
  return (typeof error === "string" ? error : JSON.stringify(error)).trim();
}


export interface ReplicateConfig {
  owner: string;
  name: string;
  version?: string;
  apiKey: string;
  base: URL;
  options: ReplicateOptions;
  http?: HttpOverrides;
}

export class ReplicateProvider extends HttpProvider implements ImageProvider {
  readonly id: string;
  readonly model: string;
  readonly version: string | undefined;
  private readonly base: URL;
  readonly #apiKey: string;
  private readonly options: ReplicateOptions;

  constructor(cfg: ReplicateConfig) {
    super([cfg.apiKey], cfg.options, cfg.http);
    this.model = `${cfg.owner}/${cfg.name}`;
    this.version = cfg.version;
    this.id = `replicate:${this.model}${cfg.version ? `:${cfg.version}` : ""}`;
    this.base = cfg.base;
    this.#apiKey = cfg.apiKey;
    this.options = cfg.options;
    for (const k of ["prompt", "seed"]) {
      if (k in cfg.options.input) throw new InputError(`provider ${this.id}: providerOptions.input.${k} is not allowed; the ${k} comes from the run`);
    }
    if (cfg.options.priceUsd === undefined) this.warnOnce(`${this.id}: the price of this model is unknown; costUsd is not set (give providerOptions.priceUsd, USD per image)`);
  }

  get cacheKey(): Record<string, unknown> {
    return { model: this.model, version: this.version ?? null, input: this.options.input };
  }

  private auth(): Record<string, string> {
    return { authorization: `Bearer ${this.#apiKey}` };
  }

  /** A URL Replicate gave us, used only when it is on the API's own origin (else the key would go elsewhere). */
  private sameOrigin(raw: string | undefined): string | undefined {
    if (!raw) return undefined;
    try {
      return new URL(raw).origin === this.base.origin ? raw : undefined;
    } catch {
      return undefined;
    }
  }

  /** The create request: its URL and body (exactly what is sent). */
  createRequest(req: Pick<GenerateRequest, "prompt" | "seed">): { url: string; body: Record<string, unknown> } {
    const input = { prompt: req.prompt, seed: req.seed, ...this.options.input };
    if (this.version) return { url: joinUrl(this.base, "/predictions"), body: { version: this.version, input } };
    const [owner, name] = this.model.split("/") as [string, string];
    return { url: joinUrl(this.base, `/models/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/predictions`), body: { input } };
  }

  private async readPrediction(res: Response, what: string): Promise<Prediction> {
    if (!res.ok) {
      const detail = describeProblem(await readErrorBody(res));
      if (res.status === 401) this.fail(`HTTP 401 on ${what}: ${detail} (check ${REPLICATE_KEY_ENV})`, 401);
      if (res.status === 404) this.fail(`HTTP 404 on ${what}: ${detail} (is the model name right? a community model needs owner/model:VERSION)`, 404);
      this.fail(`HTTP ${res.status} on ${what}: ${detail}`, res.status);
    }
    const json = await readJson(this.id, res, [...this.secrets]);
    const parsed = Prediction.safeParse(json);
    if (!parsed.success) this.fail(`unexpected answer to ${what} (not a prediction): ${JSON.stringify(json).slice(0, 200)}`, res.status);
    return parsed.data;
  }

  private async cancel(pred: Prediction): Promise<void> {
    const url = this.sameOrigin(pred.urls?.cancel ?? undefined) ?? joinUrl(this.base, `/predictions/${encodeURIComponent(pred.id)}/cancel`);
    try {
      const res = await fetchWithRetry(this.id, url, { method: "POST", headers: this.auth() }, this.ctx(undefined, { timeoutMs: Math.min(this.options.timeoutMs, 10_000), retries: 0 }));
      await res.body?.cancel();
    } catch {
      // best effort
    }
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const deadline = AbortSignal.timeout(this.options.maxWaitMs);
    const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
    let current: Prediction | undefined;
    try {
      const { url, body } = this.createRequest(req);
      const headers: Record<string, string> = { ...this.auth(), "content-type": "application/json", accept: "application/json" };
      if (this.options.wait > 0) headers.prefer = `wait=${this.options.wait}`;
      const res = await fetchWithRetry(this.id, url, { method: "POST", headers, body: JSON.stringify(body) }, this.ctx(signal));
      current = await this.readPrediction(res, "create prediction");
      const pause = this.http.sleep ?? sleep;
      while (!TERMINAL.has(current.status)) {
        await pause(this.options.pollMs, signal);
        signal.throwIfAborted();
        const getUrl = this.sameOrigin(current.urls?.get ?? undefined) ?? joinUrl(this.base, `/predictions/${encodeURIComponent(current.id)}`);
        const polled = await fetchWithRetry(this.id, getUrl, { method: "GET", headers: { ...this.auth(), accept: "application/json" } }, this.ctx(signal));
        current = await this.readPrediction(polled, `prediction ${current.id}`);
      }
      return await this.finish(current, req, signal);
    } catch (e) {
      if (deadline.aborted && !req.signal?.aborted) {
        if (current && !TERMINAL.has(current.status)) await this.cancel(current);
        this.fail(`no result within ${this.options.maxWaitMs} ms (maxWaitMs)${current ? `; prediction ${current.id} was ${current.status}${TERMINAL.has(current.status) ? "" : ", canceled"}` : ""}`, undefined, true);
      }
      if (req.signal?.aborted && current && !TERMINAL.has(current.status)) void this.cancel(current);
      throw e;
    }
  }

  private async finish(pred: Prediction, req: GenerateRequest, signal: AbortSignal): Promise<GenerateResult> {
    const meta: Record<string, unknown> = { model: pred.model ?? this.model, predictionId: pred.id, status: pred.status };
    if (pred.version) meta.version = pred.version;
    const predictTime = pred.metrics?.predict_time;
    if (typeof predictTime === "number") meta.predictTime = predictTime;
    const warnings = this.takeWarnings();
    // Most Cog image models log the seed they used ("Using seed: 1234").
    const seedLog = pred.logs ? /using seed:?\s*(\d+)/i.exec(pred.logs) : null;
    if (seedLog) {
      const used = Number(seedLog[1]);
      meta.seedUsed = used;
      if (used !== req.seed) warnings.push(`${this.id}: asked for seed ${req.seed}, the model used ${used}`);
    }

    if (pred.status !== "succeeded") {
      const error = errorText(pred.error);
      if (pred.status === "failed" && isReplicateSafetyFailure(error)) {
        const result: GenerateResult = { refusal: this.redact(error), warnings, meta };
        if (this.options.priceUsd !== undefined) result.costUsd = this.options.priceUsd;
        return result;
      }
      this.fail(`prediction ${pred.id} ${pred.status}${error ? `: ${error.replace(/\s+/g, " ").slice(0, 500)}` : ""}`);
    }

    const output = pred.output;
    const first = typeof output === "string" ? output : Array.isArray(output) ? output.find((x): x is string => typeof x === "string") : undefined;
    if (!first) this.fail(`prediction ${pred.id} succeeded without an image URL in its output: ${JSON.stringify(output ?? null).slice(0, 200)}`);
    const { image, mime } = await this.download(first, signal);
    const result: GenerateResult = { image, mime, warnings, meta };
    if (this.options.priceUsd !== undefined) result.costUsd = this.options.priceUsd;
    return result;
  }

  private async download(raw: string, signal: AbortSignal): Promise<{ image: Uint8Array; mime: string }> {
    let bytes: Uint8Array;
    let claimed: string | undefined;
    const data = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(raw);
    if (data) {
      claimed = data[1] || undefined;
      bytes = new Uint8Array(data[2] ? Buffer.from(data[3]!, "base64") : Buffer.from(decodeURIComponent(data[3]!), "utf8"));
    } else {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        this.fail(`the output "${raw.slice(0, 100)}" is not a URL`);
      }
      if (url.protocol !== "https:" && url.protocol !== "http:") this.fail(`the output URL "${raw.slice(0, 100)}" is not http(s)`);
      const headers = url.host === this.base.host ? this.auth() : {};
      const res = await fetchWithRetry(this.id, url.href, { method: "GET", headers }, this.ctx(signal));
      if (!res.ok) this.fail(`HTTP ${res.status} downloading the output: ${describeProblem(await readErrorBody(res))}`, res.status);
      claimed = res.headers.get("content-type")?.split(";")[0]?.trim() || undefined;
      bytes = new Uint8Array(await res.arrayBuffer());
    }
    const mime = imageMime(bytes);
    if (!mime) this.fail(`the output is not a PNG, JPEG or WebP image (${bytes.length} bytes${claimed ? `, said ${claimed}` : ""})`);
    return { image: bytes, mime };
  }

  /** `GET {base}/models/{owner}/{name}` (free): shows the key works and the model exists. */
  async check(): Promise<string> {
    const [owner, name] = this.model.split("/") as [string, string];
    const res = await fetchWithRetry(
      this.id,
      joinUrl(this.base, `/models/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`),
      { method: "GET", headers: { ...this.auth(), accept: "application/json" } },
      this.ctx(undefined, { timeoutMs: Math.min(this.options.timeoutMs, 15_000), retries: 1 }),
    );
    if (!res.ok) this.fail(`HTTP ${res.status} on GET model: ${describeProblem(await readErrorBody(res))}`, res.status);
    const json = await readJson(this.id, res, [...this.secrets]);
    const latest = json && typeof json === "object" ? (json as { latest_version?: { id?: unknown } | null }).latest_version?.id : undefined;
    return `model ${this.model} on ${this.base.host}${typeof latest === "string" ? ` (latest version ${latest.slice(0, 12)})` : ""}`;
  }
}

/** Builds the provider from `replicate:owner/model[:version]`; InputError for a bad model, option, URL or a missing key. */
export function createReplicateProvider(model: string | undefined, ctx: Pick<ProviderContext, "options" | "env" | "keyScope">, http?: HttpOverrides): ReplicateProvider {
  const { owner, name, version } = parseReplicateModel(model);
  const id = `replicate:${owner}/${name}`;
  const options = parseOptions(OptionsSchema, ctx.options, id);
  if (options.wait > 0 && options.timeoutMs <= options.wait * 1000) {
    throw new InputError(`provider ${id}: providerOptions.timeoutMs (${options.timeoutMs}) must be longer than wait (${options.wait} s), or set wait: 0`);
  }
  const { base, apiKey } = keyedServer({ id, env: ctx.env ?? process.env, keyEnv: REPLICATE_KEY_ENV, baseUrl: options.baseUrl, defaultBase: REPLICATE_DEFAULT_BASE, keyScope: ctx.keyScope });
  return new ReplicateProvider({ owner, name, ...(version ? { version } : {}), apiKey, base, options, ...(http ? { http } : {}) });
}

export const replicateProvider: ProviderEntry = {
  description: "Replicate predictions API: any text-to-image model hosted there (paid; price unknown unless providerOptions.priceUsd)",
  env: [REPLICATE_KEY_ENV],
  usage: `--provider replicate:owner/model or replicate:owner/model:VERSION; providerOptions: ${REPLICATE_OPTION_KEYS.join(", ")}`,
  options: OptionsSchema,
  // Images only: nothing about the people drawn.
  reportsPeople: () => false,
  create: (model, ctx) => createReplicateProvider(model, ctx),
  check: (model, ctx) => createReplicateProvider(model, ctx).check(),
};
