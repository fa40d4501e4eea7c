import { errorDetail, readErrorBody } from "./body.js";
import { ProviderError } from "./errors.js";
import { redact } from "./keys.js";

/**
 * How OpenAI and the servers that copy its API (Azure, Ollama, vLLM, llama.cpp, LiteLLM) say what went wrong:
 * `{"error": {"message", "type", "code"}}`, and which of those errors are a safety block (a refusal, not a crash).
 */

/** The `error` object of an OpenAI(-compatible) error body, read leniently. */
export interface ApiError {
  message?: string;
  type?: string;
  code?: string;
}

export function readApiError(body: unknown): ApiError | undefined {
  if (!body || typeof body !== "object") return undefined;
  const e = (body as { error?: unknown }).error;
  if (typeof e === "string") return { message: e };
  if (!e || typeof e !== "object") return undefined;
  const r = e as Record<string, unknown>;
  const out: ApiError = {};
  if (typeof r.message === "string") out.message = r.message;
  if (typeof r.type === "string") out.type = r.type;
  if (typeof r.code === "string") out.code = r.code;
  return out;
}

/** A block by the safety system: DALL-E's `content_policy_violation`, gpt-image's `moderation_blocked`, Azure's content filter. */
export function isSafetyBlock(err: ApiError | undefined): boolean {
  if (!err) return false;
  const code = (err.code ?? "").toLowerCase();
  if (code === "content_policy_violation" || code === "moderation_blocked" || code === "content_filter") return true;
  const type = (err.type ?? "").toLowerCase();
  const msg = (err.message ?? "").toLowerCase();
  return /safety system|moderation_blocked|content (?:management )?policy|content_policy/.test(msg) || (type.includes("image_generation_user_error") && msg.includes("safety"));
}

/** Reads a non-2xx answer: a refusal message for a safety block, else throws a ProviderError with the API's message. */
export async function refusalOrThrow(id: string, res: Response, secrets: readonly string[]): Promise<string> {
  const body = await readErrorBody(res);
  const err = readApiError(body.json);
  const message = errorDetail(body, () => err?.message, { fallback: "no message" });
  if (res.status >= 400 && res.status < 500 && isSafetyBlock(err)) return redact(message, secrets);
  const tags = [err?.type, err?.code].filter((s): s is string => Boolean(s));
  throw new ProviderError(redact(`${id}: HTTP ${res.status}: ${message}${tags.length > 0 ? ` (${tags.join(", ")})` : ""}`, secrets), res.status, false, redact(message, secrets));
}
