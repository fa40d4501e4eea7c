import { openaiImagePrice } from "./openai-prices.js";
import { stabilityPriceUsd } from "./stability-prices.js";

/**
 * The dated list-price table: what one image costs per provider and model, where the price was read and when.
 * A price we could not read from a source is `null` (unknown), never guessed: `plan` and `--max-cost` say so.
 * OpenAI and Stability prices are those of their providers' own tables (src/providers/openai-prices.ts, stability-prices.ts),
 * not copies. Override per run with `-P priceUsd=...` (providers that take it) or `plan --price-usd`.
 */
export interface ListPrice {
  /** `provider:model` as on the command line, or a key for a model no provider here calls (`xai:grok-2-image`). */
  key: string;
  /** The variant the price is for (size, quality). */
  variant: string;
  /** US dollars per image; null = unknown. */
  usd: number | null;
  /** When the source was read (YYYY-MM), or when the price was published. */
  date: string;
  source: string;
  note?: string;
}

const openai = (model: string, quality: string, size: string): number | null => openaiImagePrice(model, quality, size)?.usd ?? null;

export const LIST_PRICES: readonly ListPrice[] = [
  { key: "openai:dall-e-3", variant: "standard 1024x1024", usd: openai("dall-e-3", "standard", "1024x1024"), date: "2026-01", source: "https://platform.openai.com/docs/pricing (table in src/providers/openai-prices.ts)" },
  { key: "openai:gpt-image-1", variant: "medium 1024x1024", usd: openai("gpt-image-1", "medium", "1024x1024"), date: "2026-01", source: "https://platform.openai.com/docs/pricing (table in src/providers/openai-prices.ts)", note: "the provider's default quality is auto, counted at the dearest price" },
  { key: "openai:gpt-image-1-mini", variant: "medium 1024x1024", usd: openai("gpt-image-1-mini", "medium", "1024x1024"), date: "2026-01", source: "https://platform.openai.com/docs/pricing (table in src/providers/openai-prices.ts)" },
  { key: "stability:core", variant: "per image", usd: stabilityPriceUsd("core") ?? null, date: "2026-06", source: "https://platform.stability.ai/pricing (credits in src/providers/stability-prices.ts)" },
  { key: "stability:ultra", variant: "per image", usd: stabilityPriceUsd("ultra") ?? null, date: "2026-06", source: "https://platform.stability.ai/pricing (credits in src/providers/stability-prices.ts)" },
  { key: "stability:sd3.5-large", variant: "per image", usd: stabilityPriceUsd("sd3", "sd3.5-large") ?? null, date: "2026-06", source: "https://platform.stability.ai/pricing (credits in src/providers/stability-prices.ts)" },
  { key: "stability:sd3.5-large-turbo", variant: "per image", usd: stabilityPriceUsd("sd3", "sd3.5-large-turbo") ?? null, date: "2026-06", source: "https://platform.stability.ai/pricing (credits in src/providers/stability-prices.ts)" },
  {
    key: "google:imagen-4.0-generate-001",
    variant: "Imagen 4 Standard, per image",
    usd: 0.04,
    date: "2025-08",
    source: "https://ai.google.dev/gemini-api/docs/pricing (Imagen 4 Standard $0.04 per image as published in 2025; not re-read from here, resellers list it 'from $0.04' in 2026-10)",
    note: "no provider here calls Google; a third-party reading of that page (2026-08) reports Imagen 4 marked for shutdown on 2026-08-17",
  },
  {
    key: "replicate:black-forest-labs/flux-dev",
    variant: "per image (about 1 megapixel)",
    usd: 0.025,
    date: "2026-12",
    source: "https://replicate.com/black-forest-labs/flux-dev ($0.025 per image, as listed there and by aggregators read 2026-12)",
    note: "the replicate provider does not know prices: pass -P priceUsd=0.025",
  },
  {
    key: "xai:grok-2-image",
    variant: "per image",
    usd: null,
    date: "2026-12",
    source: "https://docs.x.ai (not readable from here)",
    note: "unknown: grok-2-image has been succeeded by grok-imagine-image (resellers list $0.02); no provider here calls xAI",
  },
  { key: "self-hosted:stable-diffusion-1.5", variant: "your own GPU", usd: null, date: "2026-12", source: "open weights: no list price", note: "unknown: the cost is your hardware's time" },
  { key: "self-hosted:sdxl-turbo", variant: "your own GPU", usd: null, date: "2026-12", source: "open weights: no list price", note: "unknown: the cost is your hardware's time" },
  { key: "midjourney", variant: "subscription", usd: null, date: "2026-12", source: "https://docs.midjourney.com (plans, no per-image API price)", note: "unknown: Midjourney sells subscriptions, not images; no provider here calls it" },
  { key: "sim", variant: "simulated", usd: 0, date: "2026-12", source: "the built-in simulator costs nothing" },
];

/** The list price of a key (`openai:dall-e-3`), or undefined when the table has no row for it. */
export function listPrice(key: string): ListPrice | undefined {
  const k = key.trim().toLowerCase();
  return LIST_PRICES.find((p) => p.key === k);
}

/**
 * What one call to this provider spec is expected to cost, for `--max-cost`: `providerOptions.priceUsd` when given,
 * sim costs 0, else the table's price for the spec, else undefined (unknown). OpenAI's own size/quality options
 * are priced by its table.
 */
export function expectedCallCostUsd(spec: string, options: Record<string, unknown> = {}): { usd: number; source: string } | undefined {
  if (typeof options.priceUsd === "number") return { usd: options.priceUsd, source: "providerOptions.priceUsd" };
  const s = spec.trim().toLowerCase();
  if (s === "sim" || s.startsWith("sim:")) return { usd: 0, source: "sim costs nothing" };
  if (s.startsWith("openai:") || s === "openai") {
    const model = s === "openai" ? "gpt-image-1" : s.slice("openai:".length);
    const quality = typeof options.quality === "string" ? options.quality : model.startsWith("dall-e") ? "standard" : "auto";
    const size = typeof options.size === "string" ? options.size : "1024x1024";
    const p = openaiImagePrice(model, quality, size);
    return p ? { usd: p.usd, source: `OpenAI list price, ${quality} ${size}${p.upperBound ? " (upper bound)" : ""}` } : undefined;
  }
  if (s.startsWith("stability:")) {
    const service = s.slice("stability:".length);
    const model = typeof options.model === "string" ? options.model : undefined;
    if (service === "core" || service === "ultra" || service === "sd3") {
      const usd = stabilityPriceUsd(service, model);
      return usd !== undefined ? { usd, source: "Stability credit price" } : undefined;
    }
    return undefined;
  }
  const row = listPrice(s);
  return row && row.usd !== null ? { usd: row.usd, source: `${row.source}, read ${row.date}` } : undefined;
}
