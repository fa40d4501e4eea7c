/**
 * A call to a remote service that failed for good (after retries, or at once for a non-retryable answer), as a
 * typed value: the HTTP status when there was an answer, the service's own message when it gave one, and whether
 * trying again later could help. The message names the service and never holds a secret.
 */
export class ProviderError extends Error {
  override readonly name = "ProviderError";
  constructor(
    message: string,
    readonly status?: number,
    readonly retryable = false,
    /** What the service itself said (its error body's message), redacted; undefined when it said nothing readable. */
    readonly providerMessage?: string,
  ) {
    super(message);
  }
}
