/**
 * Colour science shared by the sim's renderer and the pixel observers: the Monk Skin Tone reference colours,
 * sRGB -> CIELAB (D65) and the CIE76 colour difference. Pure functions and constants, no I/O.
 */

/** An sRGB colour, 0..255 per channel. */
export type Rgb = readonly [number, number, number];
/** A CIELAB colour (L*, a*, b*). */
export type Lab = [number, number, number];

/** Monk Skin Tone scale reference colours; index 0 = level 1. */
export const MONK_HEX: readonly string[] = Object.freeze([
  "#f6ede4",
  "#f3e7db",
  "#f7ead0",
  "#eadaba",
  "#d7bd96",
  "#a07e56",
  "#825c43",
  "#604134",
  "#3a312a",
  "#292420",
]);

/** `#rrggbb` (or `rrggbb`) -> [r, g, b]. */
export function hexToRgb(hex: string): Rgb {
  const n = Number.parseInt(hex.replace("#", ""), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** The Monk colours as sRGB; index 0 = level 1. */
export const MONK_RGB: readonly Rgb[] = Object.freeze(MONK_HEX.map((h) => Object.freeze(hexToRgb(h))));

function companding(c: number): number {
  const v = c / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/** The linear value of every 8-bit channel value, computed once (the same numbers as {@link companding}). */
const LINEAR = Float64Array.from({ length: 256 }, (_, c) => companding(c));

function srgbToLinear(c: number): number {
  return Number.isInteger(c) && c >= 0 && c <= 255 ? LINEAR[c]! : companding(c);
}

const LAB_EPS = 216 / 24389;
const LAB_KAPPA = 24389 / 27;
function labF(t: number): number {
  return t > LAB_EPS ? Math.cbrt(t) : (LAB_KAPPA * t + 16) / 116;
}

/** sRGB (0..255 per channel) -> CIELAB, D65 white, standard sRGB companding. */
export function srgbToLab(r: number, g: number, b: number): Lab {
  const R = srgbToLinear(r);
  const G = srgbToLinear(g);
  const B = srgbToLinear(b);
  // sRGB -> XYZ (D65), normalised by the D65 white point.
  const x = (0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047;
  const y = 0.2126729 * R + 0.7151522 * G + 0.072175 * B;
  const z = (0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883;
  const fx = labF(x);
  const fy = labF(y);
  const fz = labF(z);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** CIE76 colour difference: Euclidean distance in CIELAB. */
export function deltaE(a: Lab, b: Lab): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** CIELAB of the ten Monk colours (index 0 = level 1). */
export const MONK_LAB: readonly Lab[] = Object.freeze(MONK_RGB.map((c) => srgbToLab(c[0], c[1], c[2])));

/** Smallest CIE76 distance from an sRGB colour to any of the ten Monk colours. */
export function monkDistance(c: Rgb): number {
  const lab = srgbToLab(c[0], c[1], c[2]);
  let min = Infinity;
  for (const m of MONK_LAB) min = Math.min(min, deltaE(lab, m));
  return min;
}

/** CIE76 distance between two sRGB colours. */
export function rgbDeltaE(a: Rgb, b: Rgb): number {
  return deltaE(srgbToLab(a[0], a[1], a[2]), srgbToLab(b[0], b[1], b[2]));
}
