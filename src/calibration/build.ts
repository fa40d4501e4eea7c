/** Assembles a calibration from labelled images and what an observer saw in each (no I/O). */
import type { Observation } from "../core/request.js";
import type { Taxonomy } from "../core/taxonomy.js";
import { getAttribute } from "../core/taxonomy.js";
import { calibrateAttribute, type ObservedImage } from "./confusion.js";
import type { LabelSet } from "./labels.js";
import { CALIBRATION_FORMAT, taxonomyCategories, taxonomyFingerprint, type Calibration } from "./schema.js";

/** The main subject of an observation as the calibration reads it: null labels when no person was seen; whether it is the observer's fallback. */
export function observedImage(obs: Observation | undefined): ObservedImage {
  const p = obs?.persons[0];
  return p ? { labels: { ...p.labels }, ...(obs?.fallback !== undefined ? { fallback: true } : {}) } : { labels: null };
}

export interface BuildInput {
  labels: LabelSet;
  /** One observation per labelled image, in the same order. */
  observations: readonly Observation[];
  /** Attributes the observer can label (its `sees`); others of the labels file are skipped. */
  sees?: readonly string[];
  taxonomy: Taxonomy;
  observer: { id: string; options: Record<string, unknown>; library?: string; models: Calibration["observer"]["models"] };
  source: string;
  folder: string;
  rows: number;
  domain?: string;
  createdAt: string;
  version: string;
}

/** Group of the image by what the observer measured of another attribute ("measured skin_tone": monk_6). */
const MEASURED = ["skin_tone"];

export function buildCalibration(input: BuildInput): Calibration {
  const observed = input.observations.map(observedImage);
  const groups = input.labels.images.map((img, k) => {
    const g: Record<string, string> = { ...img.groups };
    for (const a of MEASURED) {
      const v = observed[k]!.labels?.[a];
      if (v) g[`measured ${a}`] = v;
    }
    return g;
  });
  const attributes: Calibration["attributes"] = {};
  for (const id of input.labels.attributes) {
    if (input.sees && !input.sees.includes(id)) continue;
    const attr = getAttribute(input.taxonomy, id);
    attributes[id] = calibrateAttribute(attr, input.labels.images, observed, groups);
  }
  return {
    format: CALIBRATION_FORMAT,
    createdAt: input.createdAt,
    debiaspi: input.version,
    observer: { id: input.observer.id, options: input.observer.options, ...(input.observer.library ? { library: input.observer.library } : {}), models: input.observer.models },
    taxonomy: { fingerprint: taxonomyFingerprint(input.taxonomy), attributes: taxonomyCategories(input.taxonomy) },
    labels: {
      source: input.source,
      rows: input.rows,
      images: input.labels.images.length,
      leftOut: input.labels.leftOut,
      folder: input.folder,
      ...(input.domain ? { domain: input.domain } : {}),
    },
    attributes,
  };
}
