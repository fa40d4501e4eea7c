import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseCsv } from "../../../core/csv.js";
import { packageRoot } from "../../../util/paths.js";

const cache = new Map<string, Record<string, string>[]>();

/** A CSV file of data/real-models/ (see its SOURCE.md), parsed once. */
export function realModelCounts(file: string): Record<string, string>[] {
  let rows = cache.get(file);
  if (!rows) {
    rows = parseCsv(readFileSync(join(packageRoot(), "data", "real-models", file), "utf8"), `data/real-models/${file}`);
    cache.set(file, rows);
  }
  return rows;
}

/** A count cell: a whole number, empty = 0. */
export const count = (v: string | undefined): number => {
  const n = Number(v ?? "");
  return v === undefined || v.trim() === "" || !Number.isFinite(n) ? 0 : n;
};

/**
 * Shares fitted to counts: (count + 0.5) / (total + K / 2) over the K categories given (Jeffreys), so that a
 * 10-of-10 count is not turned into a certainty. Empty counts give undefined.
 */
export function fitShares(counts: Record<string, number>): Record<string, number> | undefined {
  const keys = Object.keys(counts);
  const total = keys.reduce((s, k) => s + counts[k]!, 0);
  if (total === 0) return undefined;
  return Object.fromEntries(keys.map((k) => [k, round4((counts[k]! + 0.5) / (total + keys.length / 2))]));
}

/** One share fitted from k of n (two outcomes). */
export const fitRate = (k: number, n: number): number => round4((k + 0.5) / (n + 1));

export const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

/** "7 of 10 images" */
export const of = (k: number, n: number, what = "images"): string => `${k} of ${n} ${what}`;
