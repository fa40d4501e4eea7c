import { listPrice } from "../../prices.js";
import { allProfiles, DEFAULT_PROFILE } from "./index.js";
import type { Provenance } from "./types.js";

export interface ProfileListing {
  id: string;
  model: string;
  default: boolean;
  calibratedOn: string;
  sources: string[];
  genderCategories: string;
  /** The real model's list price per image (null = unknown), from src/providers/prices.ts. */
  listPriceUsd: number | null;
  measured: number;
  assumed: number;
  parameters: Provenance[];
}

/** The profiles for `providers --json`: what each imitates, is calibrated on, and every parameter's provenance. */
export function profileListing(): ProfileListing[] {
  return allProfiles().map((p) => ({
    id: p.id,
    model: p.model,
    default: p.id === DEFAULT_PROFILE,
    calibratedOn: p.calibratedOn,
    sources: p.sources,
    genderCategories: p.genderCategories,
    listPriceUsd: listPrice(p.priceKey)?.usd ?? null,
    measured: p.provenance.filter((e) => e.kind === "measured").length,
    assumed: p.provenance.filter((e) => e.kind === "assumed").length,
    parameters: p.provenance,
  }));
}
