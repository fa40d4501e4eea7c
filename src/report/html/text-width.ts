/**
 * Text widths for Vega without a canvas. Vega's own fallback guesses 0.8 em per character, about
 * half again too wide for a sans-serif: labels get cut ("Latino/Hispa…") and titles make charts wider
 * than their plots. This uses Helvetica's published advance widths (Adobe's AFM, 1/1000 em) for
 * printable ASCII, with a margin for the wider system fonts browsers substitute.
 */
import * as vega from "vega";

// prettier-ignore
const HELVETICA: readonly number[] = [
  // space ! " # $ % & ' ( ) * + , - . /
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
  // 0-9
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556,
  // : ; < = > ? @
  278, 278, 584, 584, 584, 556, 1015,
  // A-Z
  667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611,
  // [ \ ] ^ _ `
  278, 278, 278, 469, 556, 333,
  // a-z
  556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500,
  // { | } ~
  334, 260, 334, 584,
];

/** Browsers draw `system-ui` / DejaVu Sans / Segoe UI somewhat wider than Helvetica. */
const MARGIN = 1.15;
const BOLD = 1.1;
/** Other characters (×, −, accented letters): about the width of a digit. */
const OTHER = 580;

/** Width in pixels of `text` at `fontSize`, bold or not. */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let units = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    units += code >= 32 && code <= 126 ? HELVETICA[code - 32]! : OTHER;
  }
  return (units / 1000) * fontSize * MARGIN * (bold ? BOLD : 1);
}

interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
  limit?: number;
}

interface TextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

const isBold = (w: TextItem["fontWeight"]): boolean => w === "bold" || w === "bolder" || (typeof w === "number" && w >= 600) || (typeof w === "string" && Number(w) >= 600);

/** Vega item widths: text measured with the table above; a label with a limit is never wider than its limit (Vega truncates it). */
export function itemTextWidth(item: TextItem, text: unknown): number {
  const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
  const s = text == null ? "" : String(text).trim();
  const w = textWidth(s, size, isBold(item.fontWeight));
  return item.limit !== undefined && item.limit > 0 && w > item.limit ? item.limit : w;
}

let installed = false;

/** Makes Vega measure text with `itemTextWidth` (once per process; Vega supports a user-defined width function). */
export function installTextMetrics(): void {
  if (installed) return;
  const metrics = (vega as unknown as { textMetrics?: TextMetrics }).textMetrics;
  if (metrics) metrics.width = itemTextWidth;
  installed = true;
}
