import { DEFAULT_MAX_BODY_BYTES, readBodyLimited } from "./body.js";
import { ProviderError } from "./errors.js";
import { redact } from "./keys.js";
import { sleep } from "../util/sleep.js";

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
  /** Largest body read, bytes (default DEFAULT_MAX_BODY_BYTES). */
  maxBytes?: number;
  /** For tests: a fake clock and random source. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** Overrides for tests: a faster retry policy, a fake sleep and random source. */
export type HttpOverrides = Partial<Omit<HttpContext, "retry" | "secrets">> & { retry?: Partial<RetryPolicy> };

/** The HttpContext of one call: the caller's timeout and retries, test overrides, its secrets, the caller's signal. */
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

/** The context of a cheap check request (`doctor`, `providers --check`): 15 s, one retry, unless a test overrides. */
export function checkContext(http: HttpOverrides, secrets: string[]): HttpContext {
  return { ...http, retry: { ...DEFAULT_RETRY, timeoutMs: 15_000, retries: 1, ...http.retry }, secrets };
}

/** Seconds or an HTTP date, as Retry-After carries it, in ms; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export { sleep };

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
 * read whole inside the try, up to `ctx.maxBytes`), honouring `retry-after-ms` and Retry-After; no
 * retry on other 4xx. Returns the first response that is not retryable, its body already received
 * (the caller reads 4xx bodies: refusals live there). Error messages name the provider and status,
 * never a secret.
 */
export async function fetchWithRetry(provider: string, url: string, init: RequestInit, ctx: HttpContext): Promise<Response> {
  const wait = ctx.sleep ?? sleep;
  const random = ctx.random ?? Math.random;
  const maxBytes = ctx.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
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
        const body = NULL_BODY.has(res.status) ? null : await readBodyLimited(provider, res, maxBytes);
        return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
      }
      const body = await res.text().catch(() => "");
      lastError = `HTTP ${res.status}${body ? `: ${body.slice(0, 300)}` : ""}`;
      retryAfter = retryAfterFromHeaders(res.headers);
      if (attempt >= ctx.retry.retries) throw new ProviderError(redact(`${provider}: ${lastError} (gave up after ${attempt + 1} tries)`, ctx.secrets), res.status, true, body ? redact(body.slice(0, 300), ctx.secrets) : undefined);
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
