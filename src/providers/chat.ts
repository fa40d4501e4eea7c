import { z } from "zod";
import { InputError } from "../core/errors.js";
import type { Taxonomy } from "../core/taxonomy.js";
import { checkKeyDestination, DEFAULT_RETRY, fetchWithRetry, parseBaseUrl, ProviderError, readJson, redact, requireEnv, type HttpContext } from "./http.js";
import type { ProviderContext, ProviderEntry } from "./index.js";
import { httpContext, joinUrl, parseProviderOptions, type HttpOverrides } from "./common.js";
import { refusalOrThrow } from "./openai.js";
import type { GenerateRequest, GenerateResult, ImageProvider, PersonReport } from "./types.js";

/**
 * `chat:MODEL`: an OpenAI-compatible chat model (GPT-4o, Ollama, vLLM, llama.cpp server) in front of
 * another image provider. The chat model turns the intervention prompt into ONE image prompt and
 * declares, as JSON, the attributes of the people it chose; that declaration is the self-report,
 * and the written prompt goes to the inner provider (`providerOptions.image`, default `sim`).
 *
 * Keys: CHAT_API_KEY; OPENAI_API_KEY is used only when the server is api.openai.com (so an OpenAI
 * key is never sent to another host); no key is needed for a server on localhost / 127.0.0.1 / ::1.
 *
 * The inner provider is built with `ctx.createInner`, which the registry passes in (so this module
 * does not import the registry, and the two load in any order).
 */

export const CHAT_KEY_ENV = "CHAT_API_KEY";
export const CHAT_BASE_ENV = "CHAT_BASE_URL";
export const CHAT_DEFAULT_BASE = "https://api.openai.com/v1";
export const CHAT_DEFAULT_MODEL = "gpt-4o-mini";

/**
 * USD per million tokens {input, output}, OpenAI list prices (https://platform.openai.com/docs/pricing,
 * read 2026-01). A server on this machine costs nothing; another model without a price here has no cost.
 */
export const CHAT_PRICES_USD_PER_MTOK: Readonly<Record<string, { input: number; output: number }>> = {
  "gpt-4o": { input: 2.5, output: 10 },
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
};

const OptionsSchema = z.strictObject({
  baseUrl: z.string().min(1).optional(),
  /** The image provider behind the chat model, as on the command line (`sim`, `openai:dall-e-3`). */
  image: z.string().min(1).default("sim"),
  /** Its providerOptions. */
  imageOptions: z.record(z.string(), z.unknown()).default({}),
  temperature: z.number().min(0).max(2).optional(),
  timeoutMs: z.number().int().positive().default(DEFAULT_RETRY.timeoutMs),
  retries: z.number().int().min(0).max(20).default(DEFAULT_RETRY.retries),
  /** USD per million tokens, instead of the price table. */
  priceUsdPerMTok: z.strictObject({ input: z.number().min(0), output: z.number().min(0) }).optional(),
});

export type ChatOptions = z.output<typeof OptionsSchema>;
export const CHAT_OPTION_KEYS = Object.keys(OptionsSchema.shape);

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);
export const isLocalHost = (url: URL): boolean => LOCAL_HOSTS.has(url.hostname.toLowerCase());

/** The system message: write one prompt that follows the instruction, and declare the people as JSON. */
export function chatSystemMessage(tax: Taxonomy): string {
  const lines = tax.attributes.map((a) =>
    a.categories.length > 0 ? `- ${a.id} (${a.label}): one of ${a.categories.map((c) => JSON.stringify(c.label)).join(", ")}` : `- ${a.id} (${a.label}): free text`,
  );
  const example = Object.fromEntries(tax.attributes.slice(0, 3).map((a) => [a.id, a.categories[0]?.label ?? "..."]));
  return [
    "You write prompts for a text-to-image model.",
    "The user's message is an instruction for an image of people. Write ONE image prompt that follows the instruction: where it names attributes of a person, use them; where it leaves a choice, make the choice yourself.",
    'Then declare the attributes of every person in your prompt. Reply with one JSON object and nothing else, in this form: {"prompt": "<the image prompt>", "people": [{"<attribute id>": "<label>", ...}]}',
    "with one entry in \"people\" per person shown, and for each person a value for every attribute below (use these ids as keys and these labels as values):",
    ...lines,
    `Example of one person: ${JSON.stringify(example)}`,
  ].join("\n");
}

const CompletionSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish(), refusal: z.string().nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: z.number().optional(), completion_tokens: z.number().optional() }).nullish(),
});

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const DeclarationSchema = z.object({
  prompt: z.string().trim().min(1),
  people: z.array(z.record(z.string(), Scalar)).optional(),
});

/** What the chat model answered: a written prompt with its declaration, or a refusal. */
export type ChatAnswer = { prompt: string; people?: PersonReport[] } | { refusal: string };

/**
 * Reads the chat model's message content. No JSON at all (plain words) is a refusal; JSON that
 * does not parse or lacks "prompt" is a ProviderError. Code fences around the JSON are accepted.
 */
export function readChatContent(id: string, content: string): ChatAnswer {
  const text = content.trim().replace(/^```(?:json)?\s*/i, "").replace(/\s*```$/, "").trim();
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start < 0) return { refusal: text === "" ? `${id}: the chat model gave an empty answer` : text.slice(0, 500) };
  let value: unknown;
  try {
    value = JSON.parse(end > start ? text.slice(start, end + 1) : text.slice(start));
  } catch (e) {
    throw new ProviderError(`${id}: the chat model's answer is not valid JSON (${(e as Error).message}): ${JSON.stringify(text.slice(0, 200))}`);
  }
  const parsed = DeclarationSchema.safeParse(value);
  if (!parsed.success) {
    const v = value as Record<string, unknown> | null;
    if (v && typeof v === "object" && typeof v.refusal === "string" && v.refusal.trim() !== "") return { refusal: v.refusal.trim() };
    const issue = parsed.error.issues[0]!;
    throw new ProviderError(`${id}: the chat model's JSON does not have the asked shape (${issue.path.join(".") || "root"}: ${issue.message}): ${JSON.stringify(text.slice(0, 200))}`);
  }
  const people = parsed.data.people?.map((p) => {
    const r: PersonReport = {};
    for (const [k, v] of Object.entries(p)) if (v !== null && String(v).trim() !== "") r[k] = String(v).trim();
    return r;
  });
  return people ? { prompt: parsed.data.prompt, people } : { prompt: parsed.data.prompt };
}

export interface ChatConfig {
  model: string;
  base: URL;
  apiKey?: string;
  options: ChatOptions;
  taxonomy: Taxonomy;
  inner: ImageProvider;
  http?: HttpOverrides;
}

export class ChatPromptProvider implements ImageProvider {
  readonly id: string;
  readonly model: string;
  readonly inner: ImageProvider;
  private readonly base: URL;
  readonly #apiKey: string | undefined;
  private readonly options: ChatOptions;
  private readonly http: HttpOverrides;
  readonly #secrets: string[];
  private readonly system: string;
  private readonly price: { input: number; output: number } | undefined;
  private pendingWarnings: string[] = [];

  constructor(cfg: ChatConfig) {
    this.model = cfg.model;
    this.inner = cfg.inner;
    this.base = cfg.base;
    this.#apiKey = cfg.apiKey;
    this.options = cfg.options;
    this.http = cfg.http ?? {};
    this.#secrets = cfg.apiKey ? [cfg.apiKey] : [];
    this.id = `chat:${cfg.model}+${cfg.inner.id}`;
    this.system = chatSystemMessage(cfg.taxonomy);
    this.price = cfg.options.priceUsdPerMTok ?? (isLocalHost(cfg.base) ? { input: 0, output: 0 } : CHAT_PRICES_USD_PER_MTOK[cfg.model.replace(/-\d{4}-\d{2}-\d{2}$/, "")]);
    if (!this.price) this.pendingWarnings.push(`${this.id}: no price known for chat model ${cfg.model}; its cost is not counted (give providerOptions.priceUsdPerMTok)`);
  }

  private ctx(signal: AbortSignal | undefined): HttpContext {
    return httpContext(this.http, this.options, this.#secrets, signal);
  }

  private headers(json: boolean): Record<string, string> {
    return { accept: "application/json", ...(json ? { "content-type": "application/json" } : {}), ...(this.#apiKey ? { authorization: `Bearer ${this.#apiKey}` } : {}) };
  }

  /** The request body (exactly what is sent). */
  body(req: GenerateRequest): Record<string, unknown> {
    const body: Record<string, unknown> = {
      model: this.model,
      messages: [
        { role: "system", content: this.system },
        { role: "user", content: req.prompt },
      ],
      response_format: { type: "json_object" },
      seed: req.seed,
    };
    if (this.options.temperature !== undefined) body.temperature = this.options.temperature;
    return body;
  }

  private takeWarnings(): string[] {
    const w = this.pendingWarnings;
    this.pendingWarnings = [];
    return w;
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const res = await fetchWithRetry(
      this.id,
      joinUrl(this.base, "/chat/completions"),
      { method: "POST", headers: this.headers(true), body: JSON.stringify(this.body(req)) },
      this.ctx(req.signal),
    );
    const meta: Record<string, unknown> = { chatModel: this.model };
    if (!res.ok) {
      const refusal = await refusalOrThrow(this.id, res, this.#secrets);
      return { refusal, warnings: this.takeWarnings(), meta };
    }
    const json = await readJson(this.id, res, this.#secrets);
    const parsed = CompletionSchema.safeParse(json);
    if (!parsed.success) throw new ProviderError(redact(`${this.id}: unexpected answer (no "choices[0].message"): ${JSON.stringify(json).slice(0, 200)}`, this.#secrets), res.status);
    const choice = parsed.data.choices[0]!;
    const usage = parsed.data.usage;
    let chatCost: number | undefined;
    if (this.price && usage) chatCost = ((usage.prompt_tokens ?? 0) * this.price.input + (usage.completion_tokens ?? 0) * this.price.output) / 1e6;
    if (usage) meta.chatUsage = usage;

    const refused = (text: string): GenerateResult => ({ refusal: redact(text, this.#secrets), ...(chatCost !== undefined ? { costUsd: chatCost } : {}), warnings: this.takeWarnings(), meta });
    if (choice.message.refusal && choice.message.refusal.trim() !== "") return refused(choice.message.refusal.trim());
    const content = choice.message.content ?? "";
    if (content.trim() === "" && choice.finish_reason === "content_filter") return refused(`${this.id}: the chat answer was blocked by a content filter`);
    if (content.trim() === "" && choice.finish_reason === "length") throw new ProviderError(`${this.id}: the chat model ran out of tokens before answering`, res.status);
    let answer: ChatAnswer;
    try {
      answer = readChatContent(this.id, content);
    } catch (e) {
      throw e instanceof ProviderError ? new ProviderError(redact(e.message, this.#secrets), res.status) : e;
    }
    if ("refusal" in answer) return refused(answer.refusal);

    meta.writtenPrompt = answer.prompt;
    const inner = await this.inner.generate({ prompt: answer.prompt, seed: req.seed, ...(req.signal ? { signal: req.signal } : {}) });
    meta.inner = inner.meta;
    const warnings = [...this.takeWarnings(), ...inner.warnings];
    if (!answer.people || answer.people.length === 0) warnings.push(`${this.id}: the chat model declared no people; no self-report for this image`);
    const costs = [chatCost, inner.costUsd].filter((c): c is number => c !== undefined);
    const result: GenerateResult = { warnings, meta };
    if (costs.length > 0) result.costUsd = costs.reduce((a, b) => a + b, 0);
    if (inner.refusal) {
      result.refusal = inner.refusal;
      return result;
    }
    if (inner.image) result.image = inner.image;
    if (inner.mime) result.mime = inner.mime;
    if (inner.revisedPrompt) result.revisedPrompt = inner.revisedPrompt;
    if (answer.people && answer.people.length > 0) result.selfReport = answer.people;
    return result;
  }

  /** `GET {base}/models`: free; shows the server answers and whether it has the model. */
  async check(): Promise<string> {
    const res = await fetchWithRetry(
      this.id,
      joinUrl(this.base, "/models"),
      { method: "GET", headers: this.headers(false) },
      { ...this.ctx(undefined), retry: { ...DEFAULT_RETRY, timeoutMs: 15_000, retries: 1, ...this.http.retry } },
    );
    if (!res.ok) await refusalOrThrow(this.id, res, this.#secrets);
    const json = await readJson(this.id, res, this.#secrets);
    const data = json && typeof json === "object" ? (json as { data?: unknown }).data : undefined;
    const ids = Array.isArray(data) ? data.map((m) => (m && typeof m === "object" ? (m as { id?: unknown }).id : undefined)).filter((x): x is string => typeof x === "string") : [];
    return `chat server at ${this.base.origin} lists ${ids.length} model(s)${ids.length > 0 ? `; ${this.model} ${ids.includes(this.model) ? "is" : "is NOT"} among them` : ""}`;
  }
}

export interface ChatDeps {
  /** Builds the inner image provider (default: the registry's createProvider). */
  createInner?: (spec: string, ctx: ProviderContext) => ImageProvider;
  http?: HttpOverrides;
}

/** Builds `chat:MODEL` and its inner provider; InputError for a bad option, URL, inner spec or a missing key. */
export function createChatProvider(model: string | undefined, ctx: ProviderContext, deps: ChatDeps = {}): ChatPromptProvider {
  const name = model && model.trim() !== "" ? model.trim() : CHAT_DEFAULT_MODEL;
  const id = `chat:${name}`;
  const options = parseProviderOptions(OptionsSchema, CHAT_OPTION_KEYS, ctx.options, id);
  const env = ctx.env ?? process.env;
  const envBase = env[CHAT_BASE_ENV]?.trim();
  const base = parseBaseUrl(options.baseUrl ?? (envBase ? envBase : CHAT_DEFAULT_BASE), id);
  const chatKey = env[CHAT_KEY_ENV]?.trim();
  let apiKey: string | undefined;
  if (chatKey) apiKey = chatKey;
  else if (isLocalHost(base)) apiKey = undefined;
  else if (base.hostname === "api.openai.com") {
    const openaiKey = env.OPENAI_API_KEY?.trim();
    if (!openaiKey) throw new InputError(`provider ${id} needs the environment variable ${CHAT_KEY_ENV} or OPENAI_API_KEY (the API key); set one and run again`);
    apiKey = openaiKey;
  } else apiKey = requireEnv(env, CHAT_KEY_ENV, `${id} (chat server ${base.host})`);
  if (apiKey) checkKeyDestination(ctx.keyScope, `provider ${id}`, chatKey ? CHAT_KEY_ENV : "OPENAI_API_KEY", base, [envBase || CHAT_DEFAULT_BASE], "providerOptions.baseUrl");

  const innerSpec = options.image.trim();
  if (/^chat(?::|$)/i.test(innerSpec)) throw new InputError(`provider ${id}: providerOptions.image "${innerSpec}" is itself a chat provider; give an image provider such as sim or openai:dall-e-3`);
  const make = deps.createInner ?? ctx.createInner;
  if (!make) throw new Error(`provider ${id}: no way to build the inner provider (create it through createProvider)`);
  const inner = make(innerSpec, { ...ctx, env, options: options.imageOptions });
  return new ChatPromptProvider({ model: name, base, options, taxonomy: ctx.taxonomy, inner, ...(apiKey ? { apiKey } : {}), ...(deps.http ? { http: deps.http } : {}) });
}

export const chatProvider: ProviderEntry = {
  description: "an OpenAI-compatible chat model (GPT-4o, Ollama, vLLM, llama.cpp) writes the image prompt and declares the people; another provider draws",
  env: [CHAT_KEY_ENV, "OPENAI_API_KEY", CHAT_BASE_ENV],
  usage: `--provider chat[:MODEL] (default ${CHAT_DEFAULT_MODEL}); providerOptions: ${CHAT_OPTION_KEYS.join(", ")} (image: the drawing provider, default sim)`,
  reportsPeople: () => true,
  create: (model, ctx) => createChatProvider(model, ctx),
  check: (model, ctx) => createChatProvider(model, ctx).check(),
};
