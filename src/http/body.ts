import { ProviderError } from "./errors.js";
import { redact } from "./keys.js";

/** Largest answer body read by default (a large PNG is a few MB; a runaway or hostile server is cut off). */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024;

/** Reads a whole body, refusing one larger than `maxBytes` (a ProviderError naming `who`, not retryable). */
export async function readBodyLimited(who: string, res: Response, maxBytes: number): Promise<ArrayBuffer> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  const tooLarge = (): ProviderError => new ProviderError(`${who}: the answer (HTTP ${res.status}) is larger than ${maxBytes} bytes; refused`, res.status);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!res.body) return new ArrayBuffer(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out.buffer;
}

/** An error answer's body: its text, and its JSON when it is JSON (undefined when not). */
export interface ErrorBody {
  status: number;
  statusText: string;
  text: string;
  json: unknown;
}

/** An error answer's text as an ErrorBody: the text, and its JSON if it parses. */
export function errorBodyOf(text: string, status = 0, statusText = ""): ErrorBody {
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    json = undefined;
  }
  return { status, statusText, text, json };
}

/** Reads an error answer once: the text, then JSON if it parses. Never throws. */
export async function readErrorBody(res: Response): Promise<ErrorBody> {
  return errorBodyOf(await res.text().catch(() => ""), res.status, res.statusText);
}

/**
 * One line saying what an error answer said: what `fromJson` reads out of its JSON, else the start of its
 * text (whitespace collapsed when `collapse`), else the status text, else `fallback`.
 */
export function errorDetail(body: ErrorBody, fromJson: (json: unknown) => string | undefined = () => undefined, opts: { collapse?: boolean; fallback?: string } = {}): string {
  const said = body.json === undefined ? undefined : fromJson(body.json)?.trim();
  if (said) return said;
  const text = opts.collapse ? body.text.trim().replace(/\s+/g, " ") : body.text.trim();
  return text.slice(0, 300) || body.statusText || opts.fallback || "";
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
