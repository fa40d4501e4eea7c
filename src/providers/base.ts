import { z } from "zod";
import { imageMime } from "../core/image-mime.js";
import { ProviderError } from "../http/errors.js";
import { DEFAULT_RETRY, httpContext, type HttpContext, type HttpOverrides, type RetryPolicy } from "../http/fetch.js";
import { redact } from "../http/keys.js";

/**
 * The options every hosted API provider takes (openai, huggingface, replicate, stability), last in its options
 * schema so that `providerOptions` lists and errors name them after the provider's own.
 */
export const HOSTED_OPTIONS = {
  /** Instead of the provider's default base URL (a proxy, or a test server). */
  baseUrl: z.string().min(1).optional(),
  /** Time limit of one request, ms. */
  timeoutMs: z.number().int().positive().default(DEFAULT_RETRY.timeoutMs),
  /** Retries after the first try (429, 5xx, timeouts, dropped connections). */
  retries: z.number().int().min(0).max(20).default(DEFAULT_RETRY.retries),
  /** USD per image: instead of the price table, or where the provider knows no price. */
  priceUsd: z.number().min(0).optional(),
};

/**
 * What every HTTP provider shares: its id, the secrets blanked out of its messages, its timeout and retries,
 * test overrides of the HTTP path, and warnings said once (on the first result).
 */
export abstract class HttpProvider {
  abstract readonly id: string;
  #pending: string[] = [];
  /** Private (#), so no key reaches JSON.stringify of a provider. */
  readonly #secrets: readonly string[];

  constructor(
    secrets: readonly string[],
    protected readonly limits: { timeoutMs: number; retries: number },
    protected readonly http: HttpOverrides = {},
  ) {
    this.#secrets = secrets;
  }

  protected get secrets(): readonly string[] {
    return this.#secrets;
  }

  /** The HttpContext of one call. */
  protected ctx(signal?: AbortSignal, retry?: Partial<RetryPolicy>): HttpContext {
    return httpContext(this.http, this.limits, [...this.secrets], signal, retry);
  }

  /** Throws a ProviderError whose message starts with the id, secrets blanked. */
  protected fail(message: string, status?: number, retryable = false): never {
    throw new ProviderError(redact(`${this.id}: ${message}`, this.secrets), status, retryable);
  }

  protected redact(text: string): string {
    return redact(text, this.secrets);
  }

  /**
   * An answer whose body is the image (`content-type: image/*`); a ProviderError saying what came instead
   * (`expected`, e.g. "expected image bytes", then `hint`) or that the bytes are no PNG, JPEG or WebP.
   */
  protected async imageBody(res: Response, expected: string, hint = ""): Promise<{ image: Uint8Array; mime: string }> {
    const type = contentType(res);
    if (!type.startsWith("image/")) {
      const text = await res.text().catch(() => "");
      this.fail(`${expected}, got ${type || "no content-type"}: ${JSON.stringify(text.slice(0, 200))}${hint}`, res.status);
    }
    const image = new Uint8Array(await res.arrayBuffer());
    const mime = imageMime(image);
    if (!mime) this.fail(`the answer is not a PNG, JPEG or WebP image (${image.length} bytes, said ${type})`, res.status);
    return { image, mime };
  }

  /** Keeps warnings for the next result. */
  protected warnOnce(...warnings: string[]): void {
    this.#pending.push(...warnings);
  }

  /** The warnings not said yet (then none). */
  protected takeWarnings(): string[] {
    const w = this.#pending;
    this.#pending = [];
    return w;
  }
}

/** An answer's declared media type, lower case without parameters ("" when absent). */
export const contentType = (res: Response): string => res.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() ?? "";
