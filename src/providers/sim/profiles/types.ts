import type { DeepPartial, SimParams } from "../params.js";

/** Where one parameter's value comes from: measured (a source and the counts behind it) or assumed. */
export interface Provenance {
  /** The parameter, as a path into SimParams (`compliance.categories.gender.non_binary`, `occupations.nurse.male`). */
  parameter: string;
  /** The value used, in words or as a number. */
  value: string | number;
  kind: "measured" | "assumed";
  /** Measured: the data file and study; assumed: why this value. */
  source: string;
  /** Measured: the count behind the value ("272 of 640 images"). */
  count?: string;
}

/**
 * A count from the source that the profile must land on: the shares of an attribute for a prompt without a
 * request (`plain`), or how often a requested category was drawn (`compliance`). The tests draw the profile
 * on `prompt` and check it falls inside the Wilson 95 % interval of these counts.
 */
export type ProfileCheck =
  | { kind: "plain"; prompt: string; attribute: string; counts: Record<string, number>; what: string }
  | { kind: "compliance"; prompt: string; attribute: string; requested: string; honoured: number; of: number; what: string };

export interface SimProfile {
  /** `sim:ID` selects it. */
  id: string;
  /** The real model it imitates. */
  model: string;
  /** One line: what the profile is calibrated on. */
  calibratedOn: string;
  /** The data file(s) under data/ it is fitted to. */
  sources: string[];
  /** The key of its list price in src/providers/prices.ts (what the real model costs per image). */
  priceKey: string;
  /** Overrides of the default parameters (SIM_DEFAULTS), fitted to the source counts. */
  params: DeepPartial<SimParams>;
  /** Gender categories the source labelled ("binary" or with non-binary): the taxonomy its checks need. */
  genderCategories: "binary" | "non-binary";
  provenance: Provenance[];
  checks: ProfileCheck[];
}
