/**
 * Confusion matrices of an observer against labelled images: true category x observed label, the
 * observed labels being the categories plus `unknown` (a person seen, this attribute not read) and
 * `none` (no person seen). Accuracy, recall per category with Wilson intervals, unknown and detection
 * rates, and the same per group (gender accuracy by age label, by measured skin tone, by any extra column).
 */
import { wilsonInterval } from "../core/metrics.js";
import type { Attribute } from "../core/taxonomy.js";
import type { LabelledImage } from "./labels.js";

export const UNKNOWN = "unknown";
export const NO_PERSON = "none";

/** What the observer said of one image's main subject: a category id per attribute or null, or no person. */
export interface ObservedImage {
  /** null when no person was seen. */
  labels: Record<string, string | null> | null;
  /** The person is the observer's fallback for an image where it found nobody (faces: whole-image skin tone). */
  fallback?: boolean;
}

/** The observed columns of an attribute: its categories, then unknown, then none. */
export const observedColumns = (categories: readonly string[]): string[] => [...categories, UNKNOWN, NO_PERSON];

/** Index of the observed column of one image for an attribute with these categories. */
export function observedIndex(categories: readonly string[], obs: ObservedImage, attr: string): number {
  if (obs.labels === null) return categories.length + 1;
  const v = obs.labels[attr];
  if (v === null || v === undefined) return categories.length;
  const k = categories.indexOf(v);
  return k >= 0 ? k : categories.length;
}

export interface Rate {
  /** Share; null when there is nothing to divide by. */
  value: number | null;
  n: number;
  interval: [number, number];
}

export function rate(successes: number, n: number): Rate {
  const w = wilsonInterval(successes, n);
  return { value: n > 0 ? successes / n : null, n, interval: [w.low, w.high] };
}

export interface GroupRow {
  group: string;
  value: string;
  n: number;
  accuracy: Rate;
  /** Share of the group's images with a person seen but this attribute unknown. */
  unknown: number;
  /** Share of the group's images with no person seen. */
  missed: number;
}

export interface AttributeCalibration {
  attribute: string;
  categories: string[];
  /** counts[i][j]: images of true category i observed as column j (categories, unknown, none). */
  counts: number[][];
  /** Labelled images of this attribute. */
  n: number;
  /** Right labels over all labelled images (unknown and none count as wrong). */
  accuracy: Rate;
  /** Right labels over the images where a person was seen and the attribute read. */
  accuracyWhenRead: Rate;
  recall: Record<string, Rate>;
  unknownRate: number | null;
  /** Share of the labelled images where a person was returned, the observer's fallback included. */
  detectionRate: number | null;
  /** Share where the observer found a person itself (faces: a face), not its fallback. */
  foundRate: number | null;
  /** Share where the person returned is the observer's fallback (faces: no face, whole-image skin tone). */
  fallbackRate: number | null;
  groups: GroupRow[];
}

/** Builds one attribute's confusion matrix and rates from labelled images and what the observer saw in each. */
export function calibrateAttribute(
  attr: Attribute,
  images: readonly LabelledImage[],
  observed: readonly ObservedImage[],
  groupValues: readonly Record<string, string>[],
): AttributeCalibration {
  const categories = attr.categories.map((c) => c.id);
  const cols = observedColumns(categories).length;
  const counts = categories.map(() => new Array<number>(cols).fill(0));
  const rows: { truth: number; col: number; fallback: boolean; groups: Record<string, string> }[] = [];
  images.forEach((img, k) => {
    const t = img.truth[attr.id];
    if (t === undefined) return;
    const i = categories.indexOf(t);
    const col = observedIndex(categories, observed[k]!, attr.id);
    counts[i]![col]! += 1;
    rows.push({ truth: i, col, fallback: observed[k]!.labels !== null && observed[k]!.fallback === true, groups: groupValues[k]! });
  });
  const n = rows.length;
  const right = rows.filter((r) => r.col === r.truth).length;
  const read = rows.filter((r) => r.col < categories.length).length;
  const unknown = rows.filter((r) => r.col === categories.length).length;
  const none = rows.filter((r) => r.col === categories.length + 1).length;
  const fellBack = rows.filter((r) => r.fallback).length;
  const recall: Record<string, Rate> = {};
  categories.forEach((c, i) => {
    const row = counts[i]!;
    recall[c] = rate(row[i]!, row.reduce((a, b) => a + b, 0));
  });
  const groups: GroupRow[] = [];
  const groupNames = [...new Set(rows.flatMap((r) => Object.keys(r.groups)))].filter((g) => g !== attr.id);
  for (const g of groupNames) {
    const values = [...new Set(rows.map((r) => r.groups[g]).filter((v): v is string => v !== undefined))].sort(naturalCompare);
    for (const v of values) {
      const sub = rows.filter((r) => r.groups[g] === v);
      groups.push({
        group: g,
        value: v,
        n: sub.length,
        accuracy: rate(sub.filter((r) => r.col === r.truth).length, sub.length),
        unknown: sub.filter((r) => r.col === categories.length).length / sub.length,
        missed: sub.filter((r) => r.col === categories.length + 1).length / sub.length,
      });
    }
  }
  return {
    attribute: attr.id,
    categories,
    counts,
    n,
    accuracy: rate(right, n),
    accuracyWhenRead: rate(right, read),
    recall,
    unknownRate: n > 0 ? unknown / n : null,
    detectionRate: n > 0 ? (n - none) / n : null,
    foundRate: n > 0 ? (n - none - fellBack) / n : null,
    fallbackRate: n > 0 ? fellBack / n : null,
    groups,
  };
}

/** "3-9" before "10-19", "monk_2" before "monk_10". */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

/** Row-normalised matrix P(observed j | true i), each row smoothed with `alpha` pseudo-images spread evenly over its columns. */
export function likelihoods(counts: readonly (readonly number[])[], alpha = 0.5): number[][] {
  return counts.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((c) => (c + alpha / row.length) / (total + alpha));
  });
}
