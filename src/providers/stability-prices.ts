/** Stability AI's credit prices: the `stability` provider's prices hook, read by it and by prices.ts. */

export type StabilityService = "core" | "ultra" | "sd3";
export const SD3_DEFAULT_MODEL = "sd3.5-large";

/**
 * Credits per successful generation. Source: Stability AI developer platform pricing,
 * https://platform.stability.ai/pricing (read 2026-06; 1 credit = $0.01, 1,000 credits = $10):
 * Stable Image Ultra 8, Stable Image Core 3, SD 3.5 Large 6.5, SD 3.5 Large Turbo 4,
 * SD 3.5 Medium 3.5. The SD3 (not 3.5) names are billed like their 3.5 counterparts (less sure:
 * they are legacy names). A model not listed has no price (give providerOptions.priceUsd).
 */
export const STABILITY_CREDITS: Readonly<Record<string, number>> = {
  core: 3,
  ultra: 8,
  "sd3.5-large": 6.5,
  "sd3.5-large-turbo": 4,
  "sd3.5-medium": 3.5,
  "sd3-large": 6.5,
  "sd3-large-turbo": 4,
  "sd3-medium": 3.5,
};
export const STABILITY_USD_PER_CREDIT = 0.01;

/** USD per image for a service (and, for sd3, its model); undefined when unknown. */
export function stabilityPriceUsd(service: StabilityService, model?: string): number | undefined {
  const credits = STABILITY_CREDITS[service === "sd3" ? (model ?? SD3_DEFAULT_MODEL) : service];
  return credits === undefined ? undefined : Math.round(credits * STABILITY_USD_PER_CREDIT * 10_000) / 10_000;
}
