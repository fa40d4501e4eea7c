import { z } from "zod";
import { InputError } from "../core/errors.js";
import { parseOptions } from "../core/options.js";
import type { Taxonomy } from "../core/taxonomy.js";
import { CHAT_BASE_ENV, CHAT_KEY_ENV, ChatClient, jsonInContent, jsonRefusal, resolveChatServer, type ChatReply } from "../http/chat.js";
import { ProviderError } from "../http/errors.js";
import { DEFAULT_RETRY, type HttpOverrides } from "../http/fetch.js";
import { redact } from "../http/keys.js";
import { isLocalHost } from "../http/url.js";
import type { GenerateRequest, GenerateResult, ImageProvider, PersonReport, ProviderContext, ProviderEntry } from "./types.js";

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
  const found = jsonInContent(content);
  if ("none" in found) return { refusal: found.none === "" ? `${id}: the chat model gave an empty answer` : found.none.slice(0, 500) };
  if ("invalid" in found) throw new ProviderError(`${id}: the chat model's answer is not valid JSON (${found.invalid}): ${JSON.stringify(found.text.slice(0, 200))}`);
  const parsed = DeclarationSchema.safeParse(found.value);
  if (!parsed.success) {
    const refusal = jsonRefusal(found.value);
    if (refusal) return { refusal };
    const issue = parsed.error.issues[0]!;
    throw new ProviderError(`${id}: the chat model's JSON does not have the asked shape (${issue.path.join(".") || "root"}: ${issue.message}): ${JSON.stringify(found.text.slice(0, 200))}`);
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
  readonly #client: ChatClient;
  private readonly options: ChatOptions;
  private readonly system: string;
  private readonly price: { input: number; output: number } | undefined;
  private pendingWarnings: string[] = [];

  constructor(cfg: ChatConfig) {
    this.model = cfg.model;
    this.inner = cfg.inner;
    this.options = cfg.options;
    this.id = `chat:${cfg.model}+${cfg.inner.id}`;
    this.#client = new ChatClient(this.id, cfg.base, cfg.apiKey, cfg.options, cfg.http);
    this.system = chatSystemMessage(cfg.taxonomy);
    this.price = cfg.options.priceUsdPerMTok ?? (isLocalHost(cfg.base) ? { input: 0, output: 0 } : CHAT_PRICES_USD_PER_MTOK[cfg.model.replace(/-\d{4}-\d{2}-\d{2}$/, "")]);
    if (!this.price) this.pendingWarnings.push(`${this.id}: no price known for chat model ${cfg.model}; its cost is not counted (give providerOptions.priceUsdPerMTok)`);
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

  /** The chat model's answer as a written prompt with its declaration, or a refusal; ProviderError when unusable. */
  private answerOf(reply: ChatReply): ChatAnswer {
    const secrets = this.#client.secrets;
    switch (reply.kind) {
      case "refused":
        return { refusal: reply.message };
      case "filtered":
        return { refusal: `${this.id}: the chat answer was blocked by a content filter` };
      case "truncated":
        throw new ProviderError(`${this.id}: the chat model ran out of tokens before answering`, reply.status);
      case "unreadable":
        throw new ProviderError(`${this.id}: unexpected answer (no "choices[0].message"): ${reply.body}`, reply.status);
      case "content":
        try {
          const answer = readChatContent(this.id, reply.content);
          return "refusal" in answer ? { refusal: redact(answer.refusal, secrets) } : answer;
        } catch (e) {
          throw e instanceof ProviderError ? new ProviderError(redact(e.message, secrets), reply.status) : e;
        }
    }
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const reply = await this.#client.complete(this.body(req), req.signal);
    const meta: Record<string, unknown> = { chatModel: this.model };
    const usage = "usage" in reply ? reply.usage : undefined;
    const chatCost = this.price && usage ? ((usage.prompt_tokens ?? 0) * this.price.input + (usage.completion_tokens ?? 0) * this.price.output) / 1e6 : undefined;
    if (usage) meta.chatUsage = usage;
    const answer = this.answerOf(reply);
    if ("refusal" in answer) {
      // An HTTP refusal (no completion) has no cost of its own.
      return { refusal: answer.refusal, ...(chatCost !== undefined ? { costUsd: chatCost } : {}), warnings: this.takeWarnings(), meta };
    }

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
    if (inner.drawing) result.drawing = inner.drawing;
    if (inner.mime) result.mime = inner.mime;
    if (inner.revisedPrompt) result.revisedPrompt = inner.revisedPrompt;
    if (answer.people && answer.people.length > 0) result.selfReport = answer.people;
    return result;
  }

  /** `GET {base}/models`: free; shows the server answers and whether it has the model. */
  async check(): Promise<string> {
    const ids = await this.#client.models();
    return `chat server at ${this.#client.base.origin} lists ${ids.length} model(s)${ids.length > 0 ? `; ${this.model} ${ids.includes(this.model) ? "is" : "is NOT"} among them` : ""}`;
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
  const options = parseOptions(OptionsSchema, ctx.options, id);
  const env = ctx.env ?? process.env;
  const { base, apiKey } = resolveChatServer({ baseUrl: options.baseUrl, env, keyScope: ctx.keyScope, who: `provider ${id}`, field: "providerOptions.baseUrl" });

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
  options: OptionsSchema,
  reportsPeople: () => true,
  create: (model, ctx) => createChatProvider(model, ctx),
  check: (model, ctx) => createChatProvider(model, ctx).check(),
};
