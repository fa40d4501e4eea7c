/**
 * The whole settings check of a stored run's config (run.json), on top of the store's check of its shape:
 * every setting as the schema accepts it, older keys tolerated, and the settings every run has required.
 */
import { z } from "zod";
import { InputError } from "../core/errors.js";
import { fileProblem, type StoredConfig } from "../store/schema.js";
import type { RunConfig } from "./resolve.js";
import { runConfigSchema } from "./schema.js";

const storedConfigSchema = z
  .object({
    config: runConfigSchema.loose().required({
      prompt: true,
      n: true,
      seed: true,
      policy: true,
      mode: true,
      overflow: true,
      concurrency: true,
      maxAttempts: true,
      provider: true,
      observer: true,
    }),
  })
  .loose();

/** A stored run's config checked as settings; InputError naming the file and the field (`where` is e.g. "run folder X: run.json"). */
export function storedConfig(config: StoredConfig, where: string): RunConfig {
  const checked = storedConfigSchema.safeParse({ config });
  if (!checked.success) throw new InputError(fileProblem(checked.error, where));
  // The schema's output with its defaults is the resolved settings type (run.json is written from a RunConfig).
  return checked.data.config as unknown as RunConfig;
}
