/**
 * The calibration file (`debiaspi calibrate --out cal.json`): versioned, validated with zod when read.
 * It records what was measured (confusion counts per attribute), with what (observer id, options, model
 * names, versions and hashes when the observer exposes them), against which taxonomy (a fingerprint of
 * its attribute and category ids) and on which labels (source file, counts, labels left out).
 */
import { z } from "zod";
import { InputError } from "../core/errors.js";
import { hashString } from "../core/rng.js";
import type { Taxonomy } from "../core/taxonomy.js";
import { jsonErrorPlace } from "../core/json-error.js";

export const CALIBRATION_FORMAT = "debiaspi-calibration/1";

const RateSchema = z.object({ value: z.number().nullable(), n: z.number().int().min(0), interval: z.tuple([z.number(), z.number()]) });

const GroupSchema = z.object({
  group: z.string(),
  value: z.string(),
  n: z.number().int().min(0),
  accuracy: RateSchema,
  unknown: z.number(),
  missed: z.number(),
});

export const AttributeCalibrationSchema = z.object({
  attribute: z.string().min(1),
  categories: z.array(z.string().min(1)).min(1),
  /** counts[i][j]: images of true category i observed as column j (categories, then unknown, then none). */
  counts: z.array(z.array(z.number().min(0))),
  n: z.number().int().min(0),
  accuracy: RateSchema,
  accuracyWhenRead: RateSchema,
  recall: z.record(z.string(), RateSchema),
  unknownRate: z.number().nullable(),
  detectionRate: z.number().nullable(),
  /** Found by the observer itself, and its fallback (absent in calibrations made before they were counted apart). */
  foundRate: z.number().nullable().optional(),
  fallbackRate: z.number().nullable().optional(),
  groups: z.array(GroupSchema),
});

export const ModelInfoSchema = z.object({ role: z.string(), name: z.string(), version: z.string().optional(), sha256: z.string().optional() });

export const CalibrationSchema = z
  .object({
    format: z.literal(CALIBRATION_FORMAT),
    createdAt: z.string(),
    debiaspi: z.string(),
    observer: z.object({
      id: z.string().min(1),
      options: z.record(z.string(), z.unknown()),
      /** Library and version, when the observer says (faces: human and tfjs). */
      library: z.string().optional(),
      models: z.array(ModelInfoSchema),
    }),
    taxonomy: z.object({ fingerprint: z.string(), attributes: z.record(z.string(), z.array(z.string())) }),
    labels: z.object({
      source: z.string(),
      /** Images listed in the labels file, and those found and observed. */
      rows: z.number().int().min(0),
      images: z.number().int().min(0),
      /** Per attribute: labels left out because they lie in no single taxonomy bin, by raw value. */
      leftOut: z.record(z.string(), z.record(z.string(), z.number().int())),
      /** Images source folder (as given), for the record. */
      folder: z.string(),
      /** Where the images come from: photographs or generated images; calibrate in the domain you measure. */
      domain: z.string().optional(),
    }),
    attributes: z.record(z.string(), AttributeCalibrationSchema),
  })
  .strict();

export type Calibration = z.infer<typeof CalibrationSchema>;

/** A short, stable fingerprint of the taxonomy's attribute and category ids (their order included). */
export function taxonomyFingerprint(tax: Taxonomy): string {
  const canon = tax.attributes.map((a) => `${a.id}:${a.categories.map((c) => c.id).join(",")}`).join(";");
  return hashString(canon).toString(16).padStart(8, "0");
}

/** The attribute -> category ids map recorded in a calibration. */
export function taxonomyCategories(tax: Taxonomy): Record<string, string[]> {
  return Object.fromEntries(tax.attributes.filter((a) => a.categories.length > 0).map((a) => [a.id, a.categories.map((c) => c.id)]));
}

/** Parses and validates a calibration file's JSON text; every problem in one InputError line. */
export function parseCalibration(text: string, source: string): Calibration {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${source}: not valid JSON (${jsonErrorPlace(text, e as Error)})`);
  }
  if (data && typeof data === "object" && "format" in data && (data as { format: unknown }).format !== CALIBRATION_FORMAT) {
    throw new InputError(`${source}: calibration format ${JSON.stringify((data as { format: unknown }).format)} is not ${CALIBRATION_FORMAT}; make it again with debiaspi calibrate`);
  }
  const r = CalibrationSchema.safeParse(data);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`);
    throw new InputError(`${source}: not a debiaspi calibration file (${issues.slice(0, 4).join("; ")}${issues.length > 4 ? `; and ${issues.length - 4} more` : ""})`);
  }
  const cal = r.data;
  for (const [id, a] of Object.entries(cal.attributes)) {
    const cols = a.categories.length + 2;
    if (a.counts.length !== a.categories.length || a.counts.some((row) => row.length !== cols)) {
      throw new InputError(`${source}: attributes.${id}.counts must have ${a.categories.length} rows of ${cols} columns (categories, unknown, none)`);
    }
  }
  return cal;
}

/**
 * Refuses a calibration that does not fit: another observer, or categories the taxonomy does not have.
 * Returns warnings for softer mismatches (other options, another taxonomy fingerprint with the same categories).
 */
export function checkCalibrationFits(cal: Calibration, observerId: string, tax: Taxonomy, source: string, options?: Record<string, unknown>): string[] {
  if (cal.observer.id !== observerId) {
    throw new InputError(`${source} calibrates observer "${cal.observer.id}", not "${observerId}"; calibrate ${observerId} with debiaspi calibrate, or use --observer ${cal.observer.id}`);
  }
  const cats = taxonomyCategories(tax);
  for (const [id, a] of Object.entries(cal.attributes)) {
    const have = cats[id];
    if (!have || have.join(",") !== a.categories.join(",")) {
      throw new InputError(`${source}: the calibration's ${id} categories (${a.categories.join(", ")}) differ from this taxonomy's (${have?.join(", ") ?? "none"}); calibrate again with this taxonomy`);
    }
  }
  const warnings: string[] = [];
  if (cal.taxonomy.fingerprint !== taxonomyFingerprint(tax)) warnings.push(`the calibration was made with another taxonomy (fingerprint ${cal.taxonomy.fingerprint}, this one ${taxonomyFingerprint(tax)})`);
  if (options && JSON.stringify(sortKeys(options)) !== JSON.stringify(sortKeys(cal.observer.options))) {
    warnings.push(`the calibration's ${observerId} options ${JSON.stringify(cal.observer.options)} differ from these ${JSON.stringify(options)}`);
  }
  return warnings;
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}
