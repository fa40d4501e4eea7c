import { z } from "zod";
import { readLabel } from "../core/aliases.js";
import { InputError } from "../core/errors.js";
import type { Observation, PersonObservation } from "../core/request.js";
import { findCategory, type Attribute, type Taxonomy } from "../core/taxonomy.js";
import { CHAT_BASE_ENV, CHAT_DEFAULT_BASE, CHAT_KEY_ENV, isLocalHost } from "../providers/chat.js";
import { httpContext, imageMime, joinUrl, type HttpOverrides } from "../providers/common.js";
import { checkKeyDestination, DEFAULT_RETRY, fetchWithRetry, parseBaseUrl, ProviderError, readJson, redact, type KeyScope } from "../providers/http.js";
import { refusalOrThrow } from "../providers/openai.js";
import type { ObserveInput, Observer } from "./types.js";

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

export interface VlmObserverOptions {
  /** The vision model (default gpt-4o-mini). */
  model?: string;
  /** The chat server, e.g. `http://127.0.0.1:11434/v1` (default CHAT_BASE_URL, else api.openai.com). */
  baseUrl?: string;
  /** Where the keys are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where a key from the environment may be sent (default `any`; the dashboard passes `env`). */
  keyScope?: KeyScope;
  /** Time limit of one request, ms. */
  timeoutMs?: number;
  /** Retries after the first try (429, 5xx, timeouts, dropped connections). */
  retries?: number;
  /** For tests: a faster retry policy, a fake sleep. */
  http?: HttpOverrides;
}

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
});

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
  const text = content.trim().replace(/^```(?:json)?\s*/i, "").replace(/\s*```$/, "").trim();
  if (text === "") return { declined: "empty answer" };
  const start = text.indexOf("{");
  if (start < 0) return { declined: text.slice(0, 300) };
  const end = text.lastIndexOf("}");
  let value: unknown;
  try {
    value = JSON.parse(end > start ? text.slice(start, end + 1) : text.slice(start));
  } catch (e) {
    return { malformed: `not valid JSON (${(e as Error).message}): ${JSON.stringify(text.slice(0, 200))}` };
  }
  const parsed = PeopleSchema.safeParse(value);
  if (parsed.success) return { people: parsed.data.people };
  const v = value as Record<string, unknown> | null;
  if (v && typeof v === "object" && typeof v.refusal === "string" && v.refusal.trim() !== "") return { declined: v.refusal.trim().slice(0, 300) };
  const issue = parsed.error.issues[0]!;
  return { malformed: `JSON without the asked shape (${issue.path.join(".") || "root"}: ${issue.message}): ${JSON.stringify(text.slice(0, 200))}` };
}

export class VlmObserver implements Observer {
  readonly id = VLM_OBSERVER_ID;
  readonly model: string;
  readonly base: URL;
  readonly #apiKey: string | undefined;
  readonly #secrets: string[];
  private readonly limits: { timeoutMs: number; retries: number };
  private readonly http: HttpOverrides;

  constructor(cfg: { model: string; base: URL; apiKey?: string; timeoutMs: number; retries: number; http?: HttpOverrides }) {
    this.model = cfg.model;
    this.base = cfg.base;
    this.#apiKey = cfg.apiKey;
    this.#secrets = cfg.apiKey ? [cfg.apiKey] : [];
    this.limits = { timeoutMs: cfg.timeoutMs, retries: cfg.retries };
    this.http = cfg.http ?? {};
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

  private headers(): Record<string, string> {
    return { accept: "application/json", "content-type": "application/json", ...(this.#apiKey ? { authorization: `Bearer ${this.#apiKey}` } : {}) };
  }

  private none(note: string): Observation {
    return { observer: this.id, persons: [], note: redact(note, this.#secrets) };
  }

  /** The observer could not do its job (server unreachable, HTTP error, not a chat answer): no persons, and `error` set. */
  private failed(message: string): Observation {
    const text = redact(message, this.#secrets);
    return { observer: this.id, persons: [], note: text, error: text };
  }

  private declined(why: string): Observation {
    return this.none(`vlm declined: ${why} (model ${this.model})`);
  }

  async observe({ result }: ObserveInput, tax: Taxonomy): Promise<Observation> {
    const image = result.image;
    if (!image || image.length === 0) return this.none(`vlm (model ${this.model}): no image to look at`);
    const mime = result.mime ?? imageMime(image);
    if (!mime) return this.none(`vlm (model ${this.model}): the image is not a PNG, JPEG or WebP`);
    if (askedAttributes(tax).length === 0) return this.none(`vlm (model ${this.model}): the taxonomy has no attribute with categories to ask about`);
    try {
      const res = await fetchWithRetry(
        `vlm ${this.model}`,
        joinUrl(this.base, "/chat/completions"),
        { method: "POST", headers: this.headers(), body: JSON.stringify(this.body(image, mime, tax)) },
        httpContext(this.http, this.limits, this.#secrets, undefined),
      );
      if (!res.ok) return this.declined(await refusalOrThrow(`vlm ${this.model}`, res, this.#secrets));
      const json = await readJson(`vlm ${this.model}`, res, this.#secrets);
      const parsed = CompletionSchema.safeParse(json);
      if (!parsed.success) return this.failed(`vlm (model ${this.model}): unexpected answer (no "choices[0].message"): ${JSON.stringify(json).slice(0, 200)}`);
      const choice = parsed.data.choices[0]!;
      if (choice.message.refusal && choice.message.refusal.trim() !== "") return this.declined(choice.message.refusal.trim().slice(0, 300));
      const content = choice.message.content ?? "";
      if (content.trim() === "" && choice.finish_reason === "content_filter") return this.declined("the answer was blocked by a content filter");
      if (content.trim() === "" && choice.finish_reason === "length") return this.none(`vlm (model ${this.model}): ran out of tokens before answering`);
      const answer = readVlmContent(content);
      if ("declined" in answer) return this.declined(answer.declined);
      if ("malformed" in answer) return this.none(`vlm (model ${this.model}): malformed answer: ${answer.malformed}`);
      const persons = answer.people.map((p) => readVlmPerson(p, tax));
      return {
        observer: this.id,
        persons,
        note: redact(`vlm (model ${this.model}): ${persons.length === 0 ? "no person seen" : `${persons.length} person${persons.length === 1 ? "" : "s"} seen`}`, this.#secrets),
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
  const envBase = env[CHAT_BASE_ENV]?.trim();
  let base: URL;
  try {
    base = parseBaseUrl(options.baseUrl ?? (envBase ? envBase : CHAT_DEFAULT_BASE), "vlm");
  } catch (e) {
    throw e instanceof InputError ? new InputError(e.message.replace(/^provider vlm:/, `${who}:`)) : e;
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_RETRY.timeoutMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new InputError(`${who}: timeoutMs must be a positive whole number of milliseconds, got ${timeoutMs}`);
  const retries = options.retries ?? DEFAULT_RETRY.retries;
  if (!Number.isInteger(retries) || retries < 0 || retries > 20) throw new InputError(`${who}: retries must be a whole number from 0 to 20, got ${retries}`);

  const chatKey = env[CHAT_KEY_ENV]?.trim();
  let apiKey: string | undefined;
  if (chatKey) apiKey = chatKey;
  else if (isLocalHost(base)) apiKey = undefined;
  else if (base.hostname === "api.openai.com") {
    const openaiKey = env.OPENAI_API_KEY?.trim();
    if (!openaiKey) throw new InputError(`${who} needs the environment variable ${CHAT_KEY_ENV} or OPENAI_API_KEY (the API key); set one and run again`);
    apiKey = openaiKey;
  } else throw new InputError(`${who} needs the environment variable ${CHAT_KEY_ENV} (the API key of the chat server ${base.host}); set it and run again`);
  if (apiKey) checkKeyDestination(options.keyScope, who, chatKey ? CHAT_KEY_ENV : "OPENAI_API_KEY", base, [envBase || CHAT_DEFAULT_BASE], "observerOptions.vlm.baseUrl");

  return new VlmObserver({ model, base, timeoutMs, retries, ...(apiKey ? { apiKey } : {}), ...(options.http ? { http: options.http } : {}) });
}
