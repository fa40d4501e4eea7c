/** The OpenAI Images API's list prices: the `openai` provider's prices hook, read by it and by prices.ts. */

/**
 * List price in USD per image, by model and `quality/size`.
 * Source: OpenAI API pricing, https://platform.openai.com/docs/pricing ("Image generation", per image)
 * and the model pages (developers.openai.com/api/docs/models/gpt-image-1-mini), read 2026-01.
 * gpt-image-* models are billed by tokens; these per-image figures are OpenAI's own per-image
 * equivalents for the image output (the few text-input tokens of the prompt are not counted).
 * gpt-image-1.5 figures are less sure (taken from its per-image table; check the pricing page).
 * Override with `providerOptions.priceUsd` (USD per image).
 */
export const OPENAI_IMAGE_PRICES_USD: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  "gpt-image-1": {
    "low/1024x1024": 0.011, "low/1024x1536": 0.016, "low/1536x1024": 0.016,
    "medium/1024x1024": 0.042, "medium/1024x1536": 0.063, "medium/1536x1024": 0.063,
    "high/1024x1024": 0.167, "high/1024x1536": 0.25, "high/1536x1024": 0.25,
  },
  "gpt-image-1-mini": {
    "low/1024x1024": 0.005, "low/1024x1536": 0.006, "low/1536x1024": 0.006,
    "medium/1024x1024": 0.011, "medium/1024x1536": 0.015, "medium/1536x1024": 0.015,
    "high/1024x1024": 0.036, "high/1024x1536": 0.052, "high/1536x1024": 0.052,
  },
  "gpt-image-1.5": {
    "low/1024x1024": 0.009, "low/1024x1536": 0.013, "low/1536x1024": 0.013,
    "medium/1024x1024": 0.034, "medium/1024x1536": 0.05, "medium/1536x1024": 0.05,
    "high/1024x1024": 0.133, "high/1024x1536": 0.2, "high/1536x1024": 0.2,
  },
  "dall-e-3": {
    "standard/1024x1024": 0.04, "standard/1024x1792": 0.08, "standard/1792x1024": 0.08,
    "hd/1024x1024": 0.08, "hd/1024x1792": 0.12, "hd/1792x1024": 0.12,
  },
  "dall-e-2": { "standard/256x256": 0.016, "standard/512x512": 0.018, "standard/1024x1024": 0.02 },
};

/**
 * The list price of one image; `auto` (the model chooses) takes the dearest match, an upper bound.
 * Dated snapshots (`gpt-image-1-2025-04-15`) use their model's price. Undefined when unknown.
 */
export function openaiImagePrice(model: string, quality: string, size: string): { usd: number; upperBound: boolean } | undefined {
  const table = OPENAI_IMAGE_PRICES_USD[model] ?? OPENAI_IMAGE_PRICES_USD[model.replace(/-\d{4}-\d{2}-\d{2}$/, "")];
  if (!table) return undefined;
  const matches = Object.entries(table)
    .filter(([k]) => {
      const [q, s] = k.split("/");
      return (quality === "auto" || q === quality) && (size === "auto" || s === size);
    })
    .map(([, v]) => v);
  if (matches.length === 0) return undefined;
  return { usd: Math.max(...matches), upperBound: quality === "auto" || size === "auto" };
}
