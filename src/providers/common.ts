import type { z } from "zod";
import { InputError, listAccepted } from "../core/errors.js";
import { DEFAULT_RETRY, type HttpContext, type RetryPolicy } from "./http.js";

/** Overrides for tests: a faster retry policy, a fake sleep and random source. */
export type HttpOverrides = Partial<Omit<HttpContext, "retry" | "secrets">> & { retry?: Partial<RetryPolicy> };

/** Validates `providerOptions` with a strict zod schema; a one-line InputError naming an unknown key and the accepted ones. */
export function parseProviderOptions<S extends z.ZodType>(
  schema: S,
  keys: readonly string[],
  raw: unknown,
  provider: string,
  /** What is being configured and under which config key (observers: `{ noun: "observer", field: "observerOptions.faces" }`). */
  kind: { noun: string; field: string } = { noun: "provider", field: "providerOptions" },
): z.output<S> {
  const parsed = schema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    throw new InputError(`${kind.noun} ${provider}: unknown ${kind.field} ${issue.keys.map((k) => `"${k}"`).join(", ")}; accepted: ${listAccepted(keys)}`);
  }
  const where = issue.path.length > 0 ? `${kind.field}.${issue.path.join(".")}` : kind.field;
  throw new InputError(`${kind.noun} ${provider}: ${where}: ${issue.message}`);
}

/** `base` + `/path`, keeping the base's path (`/v1`, a reverse proxy's `/sd`) and dropping query and fragment. */
export function joinUrl(base: URL, path: string): string {
  return `${base.origin}${base.pathname.replace(/\/+$/, "")}${path}`;
}

/** Image type from the first bytes (PNG, JPEG, WebP). */
export function imageMime(bytes: Uint8Array): string | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "image/png";
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  if (bytes.length >= 12 && String.fromCharCode(...bytes.slice(0, 4)) === "RIFF" && String.fromCharCode(...bytes.slice(8, 12)) === "WEBP") return "image/webp";
  return undefined;
}

/** The HttpContext of one call: the provider's timeout and retries, test overrides, its secrets, the caller's signal. */
export function httpContext(
  http: HttpOverrides,
  limits: { timeoutMs: number; retries: number },
  secrets: string[],
  signal: AbortSignal | undefined,
  retry: Partial<RetryPolicy> = {},
): HttpContext {
  return {
    ...http,
    retry: { ...DEFAULT_RETRY, timeoutMs: limits.timeoutMs, retries: limits.retries, ...http.retry, ...retry },
    secrets,
    ...(signal ? { signal } : {}),
  };
}
