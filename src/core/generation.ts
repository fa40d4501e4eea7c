import { z } from "zod";

/**
 * What one generation gave back, as every layer sees it: the provider that made it, the observers that read it,
 * the store that writes it, the queue that carries it between machines. One declaration: the type is the zod
 * schema's output (plus the image bytes, which travel apart from the JSON).
 */

/** What a model says it drew for one person: attribute id -> its own words ("Black", "woman", "Monk 3"). */
export const personReportSchema = z.record(z.string(), z.string());
export type PersonReport = z.output<typeof personReportSchema>;

/**
 * The file name of an image a provider can draw again, byte for byte, from the name alone (the simulator's portraits:
 * `portrait-v1_female_young_slim_monk4_123.png`, see image/drawing.ts). Such an image is neither encoded nor stored
 * when it is generated; it is drawn when an observer or a person looks at it.
 */
export const DRAWING_NAME = /^portrait-v1_(female|male|neutral)_(young|adult|middle|old)_(slim|average|athletic|plus_size)_monk([1-9]|10)_(\d{1,10})\.png$/;

/** The JSON part of a generation result (all but the image bytes). */
export const generateResultFieldsSchema = z.object({
  mime: z.string().optional(),
  /** Instead of image bytes: the name the image is drawn from on demand ({@link DRAWING_NAME}). */
  drawing: z.string().regex(DRAWING_NAME, "must be a drawing name such as portrait-v1_female_young_slim_monk4_123.png").optional(),
  /** A prompt the provider rewrote (DALL-E 3's revised_prompt): readable as a self-report. */
  revisedPrompt: z.string().optional(),
  /** The model's own account of the people it drew: the "internal state" tracker reads this. */
  selfReport: z.array(personReportSchema).optional(),
  /** Set when the provider declined (content policy, safety filter): an outcome, not a crash. */
  refusal: z.string().optional(),
  costUsd: z.number().optional(),
  /** Settings the backend ignored, and other things worth telling the user. */
  warnings: z.array(z.string()),
  meta: z.record(z.string(), z.unknown()),
});

export type GenerateResult = z.output<typeof generateResultFieldsSchema> & { image?: Uint8Array };

export interface GenerateRequest {
  prompt: string;
  /** Per-attempt seed, derived from the run seed; providers that take a seed use it. */
  seed: number;
  signal?: AbortSignal;
}
