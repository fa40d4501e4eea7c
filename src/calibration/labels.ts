/**
 * Labels of calibration images: parsing a CSV or JSON labels file (its text, no I/O here) and mapping
 * its values onto the taxonomy. A column named like a taxonomy attribute is a label of that attribute;
 * the `file` or `filename` column names the image; other columns with few distinct values are groups
 * for the per-group breakdowns (an `id` column unique per row is ignored).
 */
import { parseCsv as parseCsvText } from "../core/csv.js";
import { InputError, listAccepted } from "../core/errors.js";
import { findAttribute, findCategory, type Attribute, type Taxonomy } from "../core/taxonomy.js";
import { jsonErrorPlace } from "../core/json-error.js";

/** One row of a labels file, every value as text. */
export type LabelRow = Record<string, string>;

/** A labelled image, mapped to the taxonomy. */
export interface LabelledImage {
  file: string;
  /** Category id per labelled attribute; attributes whose label lies in no single bin are absent. */
  truth: Record<string, string>;
  /** Group columns: the raw value of every attribute column and of every extra column. */
  groups: Record<string, string>;
}

export interface LabelSet {
  images: LabelledImage[];
  /** Attributes with a column in the file. */
  attributes: string[];
  /** Columns used as groups (attribute columns included: `age` 50-59). */
  groupColumns: string[];
  /** Per attribute: labels left out because they lie in no single taxonomy bin, by raw value. */
  leftOut: Record<string, Record<string, number>>;
}

/** A group column with more distinct values than this is not a grouping (ids, free text). */
const MAX_GROUP_VALUES = 24;

/** Splits a CSV labels file into rows keyed by its header (see core/csv.ts). */
export function parseCsv(text: string, source: string): LabelRow[] {
  return parseCsvText(text, source, "give a header row (file,gender,age,...) and one row per image");
}

/** Rows of a JSON labels file: an array of objects whose values are strings or numbers. */
export function parseJsonLabels(text: string, source: string): LabelRow[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${source}: not valid JSON (${jsonErrorPlace(text, e as Error)})`);
  }
  if (!Array.isArray(data)) throw new InputError(`${source}: a JSON labels file is an array of objects such as {"file": "a.jpg", "gender": "female"}`);
  return data.map((item, k) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) throw new InputError(`${source}: item ${k} is not an object`);
    const row: LabelRow = {};
    for (const [key, v] of Object.entries(item as Record<string, unknown>)) {
      if (v === null || v === undefined) continue;
      if (typeof v !== "string" && typeof v !== "number") throw new InputError(`${source}: item ${k}, "${key}" is not a string or a number`);
      row[key.trim()] = String(v).trim();
    }
    return row;
  });
}

/** Parses a labels file by its name: .csv, or .json; anything else is refused. */
export function parseLabels(text: string, source: string): LabelRow[] {
  const lower = source.toLowerCase();
  if (lower.endsWith(".csv")) return parseCsv(text, source);
  if (lower.endsWith(".json")) return parseJsonLabels(text, source);
  throw new InputError(`${source}: labels must be a .csv or .json file`);
}

/** [low, high] years of an age text: "34", "30-39", "65+", "more than 70", "70 or older", "under 18". */
export function ageRange(text: string): [number, number] | undefined {
  const t = text.trim().toLowerCase();
  let m = /^(\d+(?:\.\d+)?)$/.exec(t);
  if (m) return [Number(m[1]), Number(m[1])];
  m = /^(\d+)\s*(?:-|–|to)\s*(\d+)$/.exec(t);
  if (m) return [Number(m[1]), Number(m[2])];
  m = /^(?:(\d+)\s*\+|(?:more than|over|above|older than|>=?)\s*(\d+)|(\d+)\s*(?:or|and) (?:older|over|above))$/.exec(t);
  if (m) return [Number(m[1] ?? m[2] ?? m[3]), Number.POSITIVE_INFINITY];
  m = /^(?:under|below|younger than|less than|<=?)\s*(\d+)$/.exec(t);
  if (m) return [0, Number(m[1]) - 1e-9];
  return undefined;
}

/** The age categories' year ranges, read from their ids and labels ("18-29", "65+"). */
function binRanges(attr: Attribute): { id: string; range: [number, number] }[] {
  return attr.categories.flatMap((c) => {
    const r = ageRange(c.id) ?? ageRange(c.label);
    return r ? [{ id: c.id, range: r }] : [];
  });
}

type Mapped = { id: string } | { leftOut: true } | { unknown: true };

/** Maps one label value of `attr` to a category: id, label or alias; for age also a number or range inside one bin. */
export function mapLabel(attr: Attribute, value: string): Mapped {
  const c = findCategory(attr, value);
  if (c) return { id: c.id };
  if (attr.id === "age") {
    const r = ageRange(value);
    if (r) {
      // A bin holds the label when the label's whole range lies inside it; whole years, so "20-29" lies in 18-29
      // and "more than 70" in 65+ (open ranges end at infinity on both sides).
      const inside = binRanges(attr).filter((b) => r[0] >= b.range[0] && (r[1] <= b.range[1] + 0.999 || b.range[1] === Number.POSITIVE_INFINITY));
      return inside.length === 1 ? { id: inside[0]!.id } : { leftOut: true };
    }
  }
  return { unknown: true };
}

/** Maps parsed rows onto the taxonomy; every problem is an InputError naming the file, the row and what is accepted. */
export function mapLabelRows(rows: readonly LabelRow[], taxonomy: Taxonomy, source: string): LabelSet {
  if (rows.length === 0) throw new InputError(`${source}: no labelled images`);
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const fileCol = columns.find((c) => c.toLowerCase() === "file") ?? columns.find((c) => c.toLowerCase() === "filename");
  if (!fileCol) throw new InputError(`${source}: no "file" or "filename" column; columns: ${columns.join(", ")}`);
  const attrCols = columns.filter((c) => c !== fileCol && findAttribute(taxonomy, c) && findAttribute(taxonomy, c)!.categories.length > 0);
  if (attrCols.length === 0) {
    throw new InputError(
      `${source}: no column names an attribute; accepted: ${listAccepted(taxonomy.attributes.filter((a) => a.categories.length > 0).map((a) => a.id))}`,
    );
  }
  const extra = columns.filter((c) => c !== fileCol && !attrCols.includes(c)).filter((c) => {
    const values = new Set(rows.map((r) => r[c] ?? ""));
    return values.size <= MAX_GROUP_VALUES && values.size < rows.length;
  });
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const leftOut: Record<string, Record<string, number>> = {};
  const images: LabelledImage[] = [];
  rows.forEach((row, k) => {
    const where = `row ${k + 1}`;
    const file = row[fileCol]?.trim() ?? "";
    if (!file) return void problems.push(`${where} has no ${fileCol}`);
    const key = file.toLowerCase();
    if (seen.has(key)) return void problems.push(`${file} is listed twice (rows ${seen.get(key)} and ${k + 1})`);
    seen.set(key, k + 1);
    const truth: Record<string, string> = {};
    const groups: Record<string, string> = {};
    for (const col of attrCols) {
      const value = row[col]?.trim() ?? "";
      if (value === "") continue;
      const attr = findAttribute(taxonomy, col)!;
      groups[attr.id] = value;
      const m = mapLabel(attr, value);
      if ("id" in m) truth[attr.id] = m.id;
      else if ("leftOut" in m) (leftOut[attr.id] ??= {})[value] = (leftOut[attr.id]?.[value] ?? 0) + 1;
      else {
        const accepted = attr.id === "age" ? `${listAccepted(attr.categories.map((c) => c.id))}, a number of years or a range such as 30-39` : listAccepted(attr.categories.map((c) => c.id));
        problems.push(`${where} (${file}): unknown ${attr.id} "${value}"; accepted: ${accepted}`);
      }
    }
    for (const col of extra) if (row[col] !== undefined && row[col] !== "") groups[col] = row[col]!;
    images.push({ file, truth, groups });
  });
  if (problems.length > 0) {
    const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : "";
    throw new InputError(`${source}: ${problems.slice(0, 3).join("; ")}${more}`);
  }
  return {
    images,
    attributes: attrCols.map((c) => findAttribute(taxonomy, c)!.id),
    groupColumns: [...attrCols.map((c) => findAttribute(taxonomy, c)!.id), ...extra],
    leftOut,
  };
}
