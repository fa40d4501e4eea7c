import { z } from "zod";
import { InputError } from "../core/errors.js";
import { readJson } from "./body.js";
import { checkContext, DEFAULT_RETRY, fetchWithRetry, httpContext, type HttpOverrides } from "./fetch.js";
import { ProviderError } from "./errors.js";
import { checkKeyDestination, redact, type KeyScope } from "./keys.js";
import { refusalOrThrow } from "./openai-compat.js";
import { isLocalHost, joinUrl, parseBaseUrl } from "./url.js";

/**
 * One client for an OpenAI-compatible chat server (`POST {base}/chat/completions`, `GET {base}/models`), used by
 * the `chat` provider (a chat model writes the prompt) and the `vlm` observer (a vision model reads the image).
 *
 * Keys: CHAT_API_KEY; OPENAI_API_KEY only when the server is api.openai.com (so an OpenAI key is never sent to
 * another host); none for a server on localhost / 127.0.0.1 / ::1. The base URL is the caller's `baseUrl`, else
 * CHAT_BASE_URL, else https://api.openai.com/v1.
 */

export const CHAT_KEY_ENV = "CHAT_API_KEY";
export const CHAT_BASE_ENV = "CHAT_BASE_URL";
export const CHAT_DEFAULT_BASE = "https://api.openai.com/v1";

export interface ChatServer {
  base: URL;
  apiKey?: string;
}

/**
 * The chat server and its key; InputError for a bad URL, a missing key, or (scope `env`) a key that would go
 * to a URL the environment did not name. `who` starts every message; `field` names the setting of the URL.
 */
export function resolveChatServer(opts: { baseUrl: string | undefined; env: NodeJS.ProcessEnv; keyScope: KeyScope | undefined; who: string; field: string }): ChatServer {
  const { env, who } = opts;
  const envBase = env[CHAT_BASE_ENV]?.trim();
  const base = parseBaseUrl(opts.baseUrl ?? (envBase ? envBase : CHAT_DEFAULT_BASE), "chat", who);
  const chatKey = env[CHAT_KEY_ENV]?.trim();
  let apiKey: string | undefined;
  if (chatKey) apiKey = chatKey;
  else if (isLocalHost(base)) apiKey = undefined;
  else if (base.hostname === "api.openai.com") {
    const openaiKey = env.OPENAI_API_KEY?.trim();
    if (!openaiKey) throw new InputError(`${who} needs the environment variable ${CHAT_KEY_ENV} or OPENAI_API_KEY (the API key); set one and run again`);
    apiKey = openaiKey;
  } else throw new InputError(`${who} needs the environment variable ${CHAT_KEY_ENV} (the API key of the chat server ${base.host}); set it and run again`);
  if (apiKey) checkKeyDestination(opts.keyScope, who, chatKey ? CHAT_KEY_ENV : "OPENAI_API_KEY", base, [envBase || CHAT_DEFAULT_BASE], opts.field);
  return apiKey ? { base, apiKey } : { base };
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

export type ChatUsage = NonNullable<z.output<typeof CompletionSchema>["usage"]>;

/**
 * What the server answered: a refusal (HTTP 4xx safety block, the message's `refusal`, an empty answer cut by a
 * content filter), an answer cut short by the token limit, the message content, or a body that is not a chat
 * completion (`unreadable`, with the body's start). Other HTTP errors and connection failures throw a ProviderError.
 */
export type ChatReply =
  | { kind: "refused"; message: string; usage?: ChatUsage; status: number }
  | { kind: "filtered"; usage?: ChatUsage; status: number }
  | { kind: "truncated"; usage?: ChatUsage; status: number }
  | { kind: "content"; content: string; usage?: ChatUsage; status: number }
  | { kind: "unreadable"; body: string; status: number };

export class ChatClient {
  readonly #apiKey: string | undefined;
  readonly #secrets: string[];

  constructor(
    /** Names the caller in messages (`chat:gpt-4o+sim`, `vlm llava`). */
    private readonly who: string,
    readonly base: URL,
    apiKey: string | undefined,
    private readonly limits: { timeoutMs: number; retries: number } = DEFAULT_RETRY,
    private readonly http: HttpOverrides = {},
  ) {
    this.#apiKey = apiKey;
    this.#secrets = apiKey ? [apiKey] : [];
  }

  /** The key, to blank out of messages (private, so it never reaches JSON.stringify of a client). */
  get secrets(): string[] {
    return this.#secrets;
  }

  headers(json: boolean): Record<string, string> {
    return { accept: "application/json", ...(json ? { "content-type": "application/json" } : {}), ...(this.#apiKey ? { authorization: `Bearer ${this.#apiKey}` } : {}) };
  }

  /** `POST {base}/chat/completions` with `body` as given. */
  async complete(body: Record<string, unknown>, signal?: AbortSignal): Promise<ChatReply> {
    const res = await fetchWithRetry(this.who, joinUrl(this.base, "/chat/completions"), { method: "POST", headers: this.headers(true), body: JSON.stringify(body) }, httpContext(this.http, this.limits, this.secrets, signal));
    if (!res.ok) return { kind: "refused", message: await refusalOrThrow(this.who, res, this.secrets), status: res.status };
    const json = await readJson(this.who, res, this.secrets);
    const parsed = CompletionSchema.safeParse(json);
    if (!parsed.success) return { kind: "unreadable", body: redact(JSON.stringify(json).slice(0, 200), this.secrets), status: res.status };
    const choice = parsed.data.choices[0]!;
    const usage = parsed.data.usage ?? undefined;
    const u = usage ? { usage } : {};
    const content = choice.message.content ?? "";
    if (choice.message.refusal && choice.message.refusal.trim() !== "") return { kind: "refused", message: redact(choice.message.refusal.trim(), this.secrets), ...u, status: res.status };
    if (content.trim() === "" && choice.finish_reason === "content_filter") return { kind: "filtered", ...u, status: res.status };
    if (content.trim() === "" && choice.finish_reason === "length") return { kind: "truncated", ...u, status: res.status };
    return { kind: "content", content, ...u, status: res.status };
  }

  /** `GET {base}/models`: free; the model ids the server lists. */
  async models(): Promise<string[]> {
    const res = await fetchWithRetry(this.who, joinUrl(this.base, "/models"), { method: "GET", headers: this.headers(false) }, checkContext(this.http, this.secrets));
    if (!res.ok) await refusalOrThrow(this.who, res, this.secrets);
    const json = await readJson(this.who, res, this.secrets);
    const data = json && typeof json === "object" ? (json as { data?: unknown }).data : undefined;
    return Array.isArray(data) ? data.map((m) => (m && typeof m === "object" ? (m as { id?: unknown }).id : undefined)).filter((x): x is string => typeof x === "string") : [];
  }
}

/**
 * The JSON object in a model's message content, code fences and words around it allowed: `none` when there is
 * no `{` at all (plain words, often a refusal), `invalid` when it does not parse.
 */
export type JsonContent = { none: string } | { invalid: string; text: string } | { value: unknown; text: string };

export function jsonInContent(content: string): JsonContent {
  const text = content.trim().replace(/^```(?:json)?\s*/i, "").replace(/\s*```$/, "").trim();
  const start = text.indexOf("{");
  if (start < 0) return { none: text };
  const end = text.lastIndexOf("}");
  try {
    return { value: JSON.parse(end > start ? text.slice(start, end + 1) : text.slice(start)) as unknown, text };
  } catch (e) {
    return { invalid: (e as Error).message, text };
  }
}

/** The `refusal` string of a JSON answer that declines instead of answering; undefined otherwise. */
export function jsonRefusal(value: unknown): string | undefined {
  const v = value as Record<string, unknown> | null;
  return v && typeof v === "object" && typeof v.refusal === "string" && v.refusal.trim() !== "" ? v.refusal.trim() : undefined;
}

/** Re-throws a ProviderError with its secrets blanked and the answer's status (for errors found in an answer's content). */
export function inAnswer(e: unknown, secrets: readonly string[], status: number): unknown {
  return e instanceof ProviderError ? new ProviderError(redact(e.message, secrets), status) : e;
}
