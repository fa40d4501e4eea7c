import { z } from "zod";
import { readLabel } from "../core/aliases.js";
import { InputError } from "../core/errors.js";
import { imageMime } from "../core/image-mime.js";
import { resultImage } from "../image/drawing.js";
import type { Observation, PersonObservation } from "../core/request.js";
import { findCategory, type Attribute, type Taxonomy } from "../core/taxonomy.js";
import { ChatClient, jsonInContent, jsonRefusal, resolveChatServer } from "../http/chat.js";
import { ProviderError } from "../http/errors.js";
import { DEFAULT_RETRY, type HttpOverrides } from "../http/fetch.js";
import { redact, type KeyScope } from "../http/keys.js";
import { observerOptions, parseOptions } from "../core/options.js";
import type { ObserveInput, Observer, ObserverEntry } from "./types.js";

/**
 * `vlm`: a vision-language model behind an OpenAI-compatible chat server (GPT-4o, Ollama with a
 * vision model, vLLM, llama.cpp server) looks at the image and lists the people it sees, with a
 * category label per attribute, or "unknown" when it cannot tell. It sees only the image, never the
 * prompt that asked for it, so the request cannot bias the answer.
 *
 * Keys as for the chat provider: CHAT_API_KEY; OPENAI_API_KEY only when the server is api.openai.com;
 * none for a server on localhost / 127.0.0.1 / ::1. The base URL is `baseUrl`, else CHAT_BASE_URL,
 * else https://api.openai.com/v1.
 *
 * observe() never throws: a refusal, an answer that is not the asked JSON, or an HTTP error after
 * the retries gives no persons and a note saying why (with any key blanked out). Only when the
 * server could not be used (unreachable, an HTTP error after the retries, a body that is not a chat
 * completion) is the observation's `error` set too; a refusal or a malformed model answer is an
 * honest unknown.
 */

export const VLM_OBSERVER_ID = "vlm";
export const VLM_DEFAULT_MODEL = "gpt-4o-mini";

/** The options of the vlm observer (`observerOptions.vlm`), declared once. */
export const vlmOptionsSchema = z.strictObject({
  /** The vision model (default gpt-4o-mini). */
  model: z.string().min(1).optional(),
  /** The chat server, e.g. `http://127.0.0.1:11434/v1` (default CHAT_BASE_URL, else api.openai.com). */
  baseUrl: z.string().min(1).optional(),
  /** Time limit of one request, ms. */
  timeoutMs: z.number().int().positive().optional(),
  /** Retries after the first try (429, 5xx, timeouts, dropped connections). */
  retries: z.number().int().min(0).max(20).optional(),
});

export type VlmObserverOptions = z.output<typeof vlmOptionsSchema> & {
  /** Where the keys are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where a key from the environment may be sent (default `any`; the dashboard passes `env`). */
  keyScope?: KeyScope;
  /** For tests: a faster retry policy, a fake sleep. */
  http?: HttpOverrides;
};

/** The attributes the model is asked about: those with categories. */
const askedAttributes = (tax: Taxonomy): Attribute[] => tax.attributes.filter((a) => a.categories.length > 0);

/** The system message: list every visible person as JSON, one label per attribute, "unknown" rather than a guess. */
export function vlmSystemMessage(tax: Taxonomy): string {
  const attrs = askedAttributes(tax);
  const lines = attrs.map((a) => `- ${a.id} (${a.label}): one of ${a.categories.map((c) => JSON.stringify(c.label)).join(", ")}, or "unknown"`);
  const example = Object.fromEntries(attrs.map((a) => [a.id, "<label or unknown>"]));
  return [
    "You annotate images for a study of how image generators depict people.",
    "Look at the image and list every visible person, the largest (most prominent) first.",
    `Reply with one JSON object and nothing else, in this form: ${JSON.stringify({ people: [example] })}`,
    "For each person give a value for every attribute below, using these ids as keys and exactly one of these labels as the value:",
    ...lines,
    'Use "unknown" whenever you cannot tell from the image (face hidden, too small, ambiguous). Never guess.',
    'If no person is visible, reply {"people": []}.',
  ].join("\n");
}

/** The text part of the user message. */
export const VLM_USER_TEXT = "List the people in this image as JSON, as described.";

const PeopleSchema = z.object({ people: z.array(z.record(z.string(), z.unknown())) });

/** Words that mean the model could not tell; such a value is unknown even if it also names a category. */
const UNSURE_RE = /\b(?:unknown|unsure|uncertain|unclear|not sure|not clear|can(?:no|')t tell|cannot determine|indeterminate|ambiguous|n\/a)\b/i;

/** One value of the model's answer as a category id of `attr`, or null (unknown, invented, not a string). */
export function readVlmValue(attr: Attribute, value: unknown): string | null {
  if (typeof value !== "string" || value.trim() === "") return null;
  const exact = findCategory(attr, value);
  if (exact) return exact.id;
  if (UNSURE_RE.test(value)) return null;
  return readLabel(attr, value)?.id ?? null;
}

/** One person of the model's answer: a label (or null) for every asked attribute. Keys match as in self-report ("Skin tone" = skin_tone). */
export function readVlmPerson(person: Record<string, unknown>, tax: Taxonomy): PersonObservation {
  const labels: Record<string, string | null> = {};
  for (const attr of askedAttributes(tax)) {
    const said = Object.entries(person).find(([k]) => k.trim().toLowerCase().replace(/[\s-]+/g, "_") === attr.id)?.[1];
    labels[attr.id] = readVlmValue(attr, said);
  }
  return { labels };
}

/** What the message content says: the people, a refusal (no JSON at all, or a JSON refusal), or a malformed answer. */
export type VlmAnswer = { people: Record<string, unknown>[] } | { declined: string } | { malformed: string };

export function readVlmContent(content: string): VlmAnswer {
  const found = jsonInContent(content);
  if ("none" in found) return { declined: found.none === "" ? "empty answer" : found.none.slice(0, 300) };
  if ("invalid" in found) return { malformed: `not valid JSON (${found.invalid}): ${JSON.stringify(found.text.slice(0, 200))}` };
  const parsed = PeopleSchema.safeParse(found.value);
  if (parsed.success) return { people: parsed.data.people };
  const refusal = jsonRefusal(found.value);
  if (refusal) return { declined: refusal.slice(0, 300) };
  const issue = parsed.error.issues[0]!;
  return { malformed: `JSON without the asked shape (${issue.path.join(".") || "root"}: ${issue.message}): ${JSON.stringify(found.text.slice(0, 200))}` };
}

export class VlmObserver implements Observer {
  readonly id = VLM_OBSERVER_ID;
  readonly model: string;
  readonly base: URL;
  readonly #client: ChatClient;

  constructor(cfg: { model: string; base: URL; apiKey?: string; timeoutMs: number; retries: number; http?: HttpOverrides }) {
    this.model = cfg.model;
    this.base = cfg.base;
    this.#client = new ChatClient(`vlm ${cfg.model}`, cfg.base, cfg.apiKey, { timeoutMs: cfg.timeoutMs, retries: cfg.retries }, cfg.http);
  }

  /** The request body (exactly what is sent). */
  body(image: Uint8Array, mime: string, tax: Taxonomy): Record<string, unknown> {
    return {
      model: this.model,
      messages: [
        { role: "system", content: vlmSystemMessage(tax) },
        {
          role: "user",
          content: [
            { type: "text", text: VLM_USER_TEXT },
            { type: "image_url", image_url: { url: `data:${mime};base64,${Buffer.from(image).toString("base64")}` } },
          ],
        },
      ],
      response_format: { type: "json_object" },
      temperature: 0,
    };
  }

  private none(note: string): Observation {
    return { observer: this.id, persons: [], note: redact(note, this.#client.secrets) };
  }

  /** The observer could not do its job (server unreachable, HTTP error, not a chat answer): no persons, and `error` set. */
  private failed(message: string): Observation {
    const text = redact(message, this.#client.secrets);
    return { observer: this.id, persons: [], note: text, error: text };
  }

  private declined(why: string): Observation {
    return this.none(`vlm declined: ${why} (model ${this.model})`);
  }

  async observe({ result }: ObserveInput, tax: Taxonomy): Promise<Observation> {
    const drawn = resultImage(result);
    if (!drawn) return this.none(`vlm (model ${this.model}): no image to look at`);
    const image = drawn.bytes;
    const mime = result.mime ?? imageMime(image);
    if (!mime) return this.none(`vlm (model ${this.model}): the image is not a PNG, JPEG or WebP`);
    if (askedAttributes(tax).length === 0) return this.none(`vlm (model ${this.model}): the taxonomy has no attribute with categories to ask about`);
    try {
      const reply = await this.#client.complete(this.body(image, mime, tax));
      if (reply.kind === "refused") return this.declined(reply.message.slice(0, 300));
      if (reply.kind === "unreadable") return this.failed(`vlm (model ${this.model}): unexpected answer (no "choices[0].message"): ${reply.body}`);
      if (reply.kind === "filtered") return this.declined("the answer was blocked by a content filter");
      if (reply.kind === "truncated") return this.none(`vlm (model ${this.model}): ran out of tokens before answering`);
      const answer = readVlmContent(reply.content);
      if ("declined" in answer) return this.declined(answer.declined);
      if ("malformed" in answer) return this.none(`vlm (model ${this.model}): malformed answer: ${answer.malformed}`);
      const persons = answer.people.map((p) => readVlmPerson(p, tax));
      return {
        observer: this.id,
        persons,
        note: redact(`vlm (model ${this.model}): ${persons.length === 0 ? "no person seen" : `${persons.length} person${persons.length === 1 ? "" : "s"} seen`}`, this.#client.secrets),
      };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      return this.failed(e instanceof ProviderError ? `vlm error: ${msg}` : `vlm (model ${this.model}) error: ${msg}`);
    }
  }
}

/** Builds the `vlm` observer; InputError for a bad URL, timeout or retry count, or a missing key. */
export function createVlmObserver(options: VlmObserverOptions = {}): VlmObserver {
  const model = options.model && options.model.trim() !== "" ? options.model.trim() : VLM_DEFAULT_MODEL;
  const who = `observer vlm (model ${model})`;
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? DEFAULT_RETRY.timeoutMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new InputError(`${who}: timeoutMs must be a positive whole number of milliseconds, got ${timeoutMs}`);
  const retries = options.retries ?? DEFAULT_RETRY.retries;
  if (!Number.isInteger(retries) || retries < 0 || retries > 20) throw new InputError(`${who}: retries must be a whole number from 0 to 20, got ${retries}`);

  const { base, apiKey } = resolveChatServer({ baseUrl: options.baseUrl, env, keyScope: options.keyScope, who, field: "observerOptions.vlm.baseUrl" });
  return new VlmObserver({ model, base, timeoutMs, retries, ...(apiKey ? { apiKey } : {}), ...(options.http ? { http: options.http } : {}) });
}

export const vlmEntry: ObserverEntry = {
  description: "a vision chat model (GPT-4o, or a local model on an OpenAI-compatible server) labels each person; keys as the chat provider",
  options: vlmOptionsSchema,
  create: (ctx) => {
    const opts = parseOptions(vlmOptionsSchema, ctx.options ?? {}, VLM_OBSERVER_ID, observerOptions(VLM_OBSERVER_ID));
    return createVlmObserver({ ...opts, ...(ctx.env ? { env: ctx.env } : {}), ...(ctx.keyScope ? { keyScope: ctx.keyScope } : {}) });
  },
};
