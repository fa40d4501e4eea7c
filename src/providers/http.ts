import { InputError } from "../core/errors.js";

/** A provider call that failed for good (after retries, or at once for a non-retryable answer). */
export class ProviderError extends Error {
  override readonly name = "ProviderError";
  constructor(
    message: string,
    readonly status?: number,
    readonly retryable = false,
  ) {
    super(message);
  }
}

export interface RetryPolicy {
  /** Time limit of one HTTP request, ms. */
  timeoutMs: number;
  /** Retries after the first try (429, 5xx, timeouts, dropped connections). */
  retries: number;
  /** First backoff, ms; doubles each retry, with full jitter. */
  baseDelayMs: number;
  /** Largest wait between tries, ms (Retry-After included). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { timeoutMs: 120_000, retries: 4, baseDelayMs: 1_000, maxDelayMs: 60_000 };

export interface HttpContext {
  retry: RetryPolicy;
  /** Secrets to blank out of any message (API keys). */
  secrets: string[];
  signal?: AbortSignal;
  /** For tests: a fake clock and random source. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** Replaces every secret in a text with "***", so keys never reach a log, a report or an error. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join("***");
  return out;
}

/** Reads an API key from the environment; a clear InputError (naming the variable, never a value) when missing. */
export function requireEnv(env: NodeJS.ProcessEnv, name: string, provider: string): string {
  const v = env[name];
  if (!v || v.trim() === "") throw new InputError(`provider ${provider} needs the environment variable ${name} (the API key); set it and run again`);
  return v.trim();
}

/** Parses a base URL given by the user; InputError when it is not an http(s) URL. */
export function parseBaseUrl(raw: string, provider: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(`provider ${provider}: "${raw}" is not a valid URL; give one like http://127.0.0.1:7860`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InputError(`provider ${provider}: URL "${raw}" must start with http:// or https://`);
  }
  return url;
}

/** Seconds or an HTTP date, as Retry-After carries it, in ms; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500;

/** Statuses whose answer has no body (a Response cannot be built with one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * The wait an answer asks for, in ms: OpenAI's `retry-after-ms` (milliseconds, more precise) when
 * present and readable, else `Retry-After` (seconds or an HTTP date).
 */
export function retryAfterFromHeaders(headers: Headers, now = Date.now()): number | undefined {
  const ms = Number(headers.get("retry-after-ms") ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  return retryAfterMs(headers.get("retry-after"), now);
}

/**
 * fetch with a timeout per try, retries with exponential backoff and full jitter on 429, 5xx,
 * timeouts and dropped connections (also a connection dropped while the body arrives: the body is
 * read whole inside the try), honouring `retry-after-ms` and Retry-After; no retry on other 4xx.
 * Returns the first response that is not retryable, its body already received (the caller reads
 * 4xx bodies: refusals live there). Error messages name the provider and status, never a secret.
 */
export async function fetchWithRetry(provider: string, url: string, init: RequestInit, ctx: HttpContext): Promise<Response> {
  const wait = ctx.sleep ?? sleep;
  const random = ctx.random ?? Math.random;
  let lastError = "";
  for (let attempt = 0; ; attempt++) {
    ctx.signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(ctx.retry.timeoutMs);
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
    let retryAfter: number | undefined;
    let status: number | undefined;
    try {
      const res = await fetch(url, { ...init, signal });
      status = res.status;
      if (!isRetryableStatus(res.status)) {
        const body = NULL_BODY.has(res.status) ? null : await res.arrayBuffer();
        return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
      }
      const body = await res.text().catch(() => "");
      lastError = `HTTP ${res.status}${body ? `: ${body.slice(0, 300)}` : ""}`;
      retryAfter = retryAfterFromHeaders(res.headers);
      if (attempt >= ctx.retry.retries) throw new ProviderError(redact(`${provider}: ${lastError} (gave up after ${attempt + 1} tries)`, ctx.secrets), res.status, true);
    } catch (e) {
      if (e instanceof ProviderError) throw e;
      if (ctx.signal?.aborted) throw e;
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const why = err.cause?.code ?? err.cause?.message ?? err.message;
      lastError = timeout.aborted
        ? `no answer within ${ctx.retry.timeoutMs} ms`
        : status !== undefined
          ? `connection dropped while the answer (HTTP ${status}) arrived (${why})`
          : `connection failed (${why})`;
      if (attempt >= ctx.retry.retries) throw new ProviderError(redact(`${provider}: ${lastError} (gave up after ${attempt + 1} tries)`, ctx.secrets), undefined, true);
    }
    const backoff = random() * Math.min(ctx.retry.maxDelayMs, ctx.retry.baseDelayMs * 2 ** attempt);
    await wait(Math.min(ctx.retry.maxDelayMs, Math.max(retryAfter ?? 0, backoff)), ctx.signal);
  }
}

/** Reads a JSON body; a ProviderError naming the provider when it is not JSON. */
export async function readJson(provider: string, res: Response, secrets: readonly string[]): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProviderError(redact(`${provider}: expected JSON, got ${JSON.stringify(text.slice(0, 200))} (HTTP ${res.status})`, secrets), res.status);
  }
}

/**
 * Where a key read from the environment may be sent. `any`: to whatever URL the settings name (the
 * CLI and the library, whose settings come from the key's owner). `env`: only to the base URL the
 * environment names or the provider's default (the dashboard, whose settings come from a web page:
 * a page must not point the server's key at a server of its choosing).
 */
export type KeyScope = "any" | "env";

const normalUrl = (u: URL): string => `${u.protocol}//${u.host.toLowerCase()}${u.pathname.replace(/\/+$/, "")}`;

/**
 * Throws an InputError (on `field`) when `scope` is `env` and `url` is none of `trusted` (the base URL
 * from the environment and the provider's default; undefined entries are skipped). Names the key's
 * variable and the URLs, never the key.
 */
export function checkKeyDestination(scope: KeyScope | undefined, who: string, keyVar: string, url: URL, trusted: readonly (string | undefined)[], field: string): void {
  if (scope !== "env") return;
  const allowed: string[] = [];
  for (const t of trusted) {
    if (!t) continue;
    try {
      allowed.push(normalUrl(new URL(t)));
    } catch {
      // an unreadable URL in the environment trusts nothing
    }
  }
  if (allowed.includes(normalUrl(url))) return;
  throw new InputError(
    `${who}: ${field} ${url.origin} would receive ${keyVar} from the server's environment; the dashboard sends it only to ${allowed.length > 0 ? allowed.join(" or ") : "the URL set in the server's environment (none is)"}. ` +
      "Set that URL in the server's environment, or start the server with `debiaspi serve --allow-any-base-url`",
    field,
  );
}
