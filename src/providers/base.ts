import { ProviderError } from "../http/errors.js";
import { httpContext, type HttpContext, type HttpOverrides, type RetryPolicy } from "../http/fetch.js";
import { redact } from "../http/keys.js";

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
