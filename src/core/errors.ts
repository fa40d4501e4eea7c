/**
 * An error caused by what the user gave us (flags, config, a run folder), not by a bug.
 * The CLI prints its message on one line, without a stack trace, and exits with code 2.
 */
export class InputError extends Error {
  override readonly name = "InputError";
  /** `field`: the setting at fault, when the check knows it (the dashboard shows the error next to that field). */
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Joins a list of accepted values for an error message: `a, b or c`. */
export function listAccepted(values: readonly string[]): string {
  if (values.length <= 1) return values.join("");
  return `${values.slice(0, -1).join(", ")} or ${values[values.length - 1]}`;
}
