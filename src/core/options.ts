import type { z } from "zod";
import { InputError, listAccepted } from "./errors.js";

/** What is being configured and under which config key (`{ noun: "observer", field: "observerOptions.faces" }`). */
export interface OptionsKind {
  noun: string;
  field: string;
}

export const PROVIDER_OPTIONS: OptionsKind = { noun: "provider", field: "providerOptions" };
export const observerOptions = (id: string): OptionsKind => ({ noun: "observer", field: `observerOptions.${id}` });

/**
 * Validates the options of a provider or an observer with a strict zod object schema; a one-line InputError
 * naming an unknown key and the accepted ones, or the first bad field.
 */
export function parseOptions<S extends z.ZodObject>(schema: S, raw: unknown, who: string, kind: OptionsKind = PROVIDER_OPTIONS): z.output<S> {
  const parsed = schema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    throw new InputError(`${kind.noun} ${who}: unknown ${kind.field} ${issue.keys.map((k) => `"${k}"`).join(", ")}; accepted: ${listAccepted(Object.keys(schema.shape))}`);
  }
  const where = issue.path.length > 0 ? `${kind.field}.${issue.path.join(".")}` : kind.field;
  throw new InputError(`${kind.noun} ${who}: ${where}: ${issue.message}`);
}
