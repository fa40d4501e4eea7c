/**
 * `skin-tone`: measures the skin colour of the person in an image and maps it to the Monk Skin Tone scale,
 * with the Individual Typology Angle (ITA) and the Fitzpatrick band derived from it.
 *
 * Pipeline (the whole-image path; the `faces` observer uses the same measure per face, inside the face
 * mesh with eyes, brows and lips excluded): decode the image -> segment skin pixels over the whole image with a published colour rule
 * (see {@link isSkinPixel}) -> per-channel median CIELAB over the skin pixels -> nearest Monk reference
 * colour (CIE76), ITA, Fitzpatrick band, ITA skin category.
 *
 * Limits worth knowing:
 * - Images are decoded by src/image/decode.ts (sharp: EXIF orientation applied; JPEG, PNG, WebP, AVIF, TIFF,
 *   GIF) and downscaled to {@link SKIN_MAX_SIDE} px before any pixel is classified.
 * - Whole-image colour segmentation cannot tell skin from skin-coloured backgrounds, wood, sand or beige
 *   clothes, and it measures every person in the image as one. The `faces` observer passes a face `region`
 *   and an `excludeMask` to {@link measureSkin} instead.
 * - No white balance or illumination correction: the measured colour is the rendered colour, as published
 *   ITA audits of generated images do.
 */
import { decodeImage } from "../image/decode.js";
import { hasImage, resultPixels } from "../image/drawing.js";
import type { Observation } from "../core/request.js";
import { MONK_LAB, deltaE, srgbToLab } from "../core/colour.js";
import type { Observer, ObserverEntry } from "./types.js";

export type Lab = [number, number, number];

export interface RgbaImage {
  width: number;
  height: number;
  /** Row-major RGBA, 4 bytes per pixel (what the decoder and the sim's renderer produce). */
  data: Uint8Array | Uint8ClampedArray;
}

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Fitzpatrick skin type 1..6 (I..VI) as estimated from ITA. */
export type Fitzpatrick = 1 | 2 | 3 | 4 | 5 | 6;

/** ITA skin categories of Chardon et al. 1991 / Del Bino et al. 2006. */
export type ItaCategory = "very_light" | "light" | "intermediate" | "tan" | "brown" | "dark";

export interface SkinMeasurement {
  /** Number of pixels classified as skin. */
  pixels: number;
  /** `pixels` as a share of the pixels considered (the region minus the excluded pixels), 0..1. */
  share: number;
  /** Per-channel median CIELAB (D65) over the skin pixels. */
  medianLab: Lab;
  /** Individual Typology Angle of `medianLab`, degrees. */
  ita: number;
  /** Nearest Monk Skin Tone level 1..10 (CIE76 in CIELAB). */
  monk: number;
  /** CIE76 distance from `medianLab` to the chosen Monk reference colour. */
  monkDeltaE: number;
  /** Distance-based confidence in `monk`, 0..1 (see {@link monkConfidence}). */
  monkConfidence: number;
  /** Fitzpatrick type 1..6 from ITA (Kinyanjui et al. 2019 bands). */
  fitzpatrick: Fitzpatrick;
  /** ITA skin category (Chardon / Del Bino). */
  itaCategory: ItaCategory;
}

// ---------------------------------------------------------------------------------------------------------
// Colour measures
// ---------------------------------------------------------------------------------------------------------

const RAD_TO_DEG = 180 / Math.PI;

/**
 * Individual Typology Angle in degrees: ITA = arctan((L* - 50) / b*) · 180/π (Chardon et al. 1991).
 *
 * Computed as atan2(L* - 50, b*), which is identical to the arctan formula for b* > 0 (all real skin has a
 * positive, yellowish b*) and stays finite where the textbook formula divides by zero: b* = 0 gives +90°
 * for L* > 50, -90° for L* < 50 and 0° at L* = 50. For b* < 0 (bluish, not skin) atan2 returns an angle
 * beyond ±90°, which still falls in the extreme bands ("very light" above +90°, "dark" below -90°)
 * instead of the sign flip the plain arctan would produce.
 */
export function ita(L: number, b: number): number {
  return Math.atan2(L - 50, b) * RAD_TO_DEG;
}

/** CIELAB of the ten Monk Skin Tone reference colours (index 0 = level 1), from core/colour.ts. */
export { MONK_LAB };

/** Distances from `lab` to the nearest and the second-nearest Monk reference colour, with the nearest level. */
function nearestMonk(lab: Lab): { level: number; d1: number; d2: number } {
  let level = 1;
  let d1 = Infinity;
  let d2 = Infinity;
  for (let i = 0; i < MONK_LAB.length; i++) {
    const d = deltaE(lab, MONK_LAB[i]!);
    if (d < d1) {
      d2 = d1;
      d1 = d;
      level = i + 1;
    } else if (d < d2) {
      d2 = d;
    }
  }
  return { level, d1, d2 };
}

/** Monk level 1..10 of a CIELAB colour: the nearest of the ten reference colours by CIE76 ΔE. */
export function monkLevel(lab: Lab): number {
  return nearestMonk(lab).level;
}

/**
 * Confidence of the nearest-Monk assignment, from the distances to the nearest (d1) and second-nearest
 * (d2) reference colours: (d2 - d1) / (d2 + d1). 1 when the colour is exactly a reference colour, 0 when it
 * lies midway between two of them.
 */
export function monkConfidence(lab: Lab): number {
  const { d1, d2 } = nearestMonk(lab);
  return d1 + d2 > 0 ? (d2 - d1) / (d2 + d1) : 1;
}

/**
 * Fitzpatrick type from ITA, bands of Kinyanjui et al. 2019 ("Estimating skin tone and effects on
 * classification performance in dermatology datasets"): I > 55°, II 41..55°, III 28..41°, IV 19..28°,
 * V 10..19°, VI <= 10°. A boundary value belongs to the darker type (55 -> II, 10 -> VI).
 */
export function fitzpatrick(itaDeg: number): Fitzpatrick {
  if (itaDeg > 55) return 1;
  if (itaDeg > 41) return 2;
  if (itaDeg > 28) return 3;
  if (itaDeg > 19) return 4;
  if (itaDeg > 10) return 5;
  return 6;
}

/** Roman numeral of a Fitzpatrick type, for notes and tables. */
export function fitzpatrickRoman(type: Fitzpatrick): string {
  return ["I", "II", "III", "IV", "V", "VI"][type - 1]!;
}

/**
 * ITA skin category (Chardon et al. 1991; Del Bino et al. 2006): very light > 55°, light 41..55°,
 * intermediate 28..41°, tan 10..28°, brown -30..10°, dark < -30°. As for {@link fitzpatrick}, a boundary
 * value belongs to the darker category (10 -> brown, -30 -> dark).
 */
export function itaCategory(itaDeg: number): ItaCategory {
  if (itaDeg > 55) return "very_light";
  if (itaDeg > 41) return "light";
  if (itaDeg > 28) return "intermediate";
  if (itaDeg > 10) return "tan";
  if (itaDeg > -30) return "brown";
  return "dark";
}

// ---------------------------------------------------------------------------------------------------------
// Skin segmentation
// ---------------------------------------------------------------------------------------------------------

/** Chai & Ngan 1999 chrominance box (full-range ITU-R BT.601 YCbCr, as in JPEG). */
const CB_MIN = 77;
const CB_MAX = 127;
const CR_MIN = 133;
const CR_MAX = 173;
/** Brightness floor (luma Y): excludes deep shadows, black hair and dark fabric, whose chroma is unreliable. */
const Y_MIN = 40;
/**
 * Skin-locus gate: a pixel that passes the chrominance box must also lie within this CIE76 distance of the
 * Monk skin-tone locus (the polyline through the ten reference colours in CIELAB). The YCbCr box alone
 * accepts saturated reds and browns (auburn hair, red clothes, lips), which would drag the median.
 */
const LOCUS_MAX_DELTA_E = 12;
/**
 * Monk-proximity extension: a pixel within this distance of any Monk reference colour is skin even if it
 * fails the box. Needed because the palest Monk colours (levels 1-3, Cr ≈ 133-137) sit on the Cr floor and
 * the darkest (level 10, Y ≈ 37, Cr ≈ 131) falls below the box and the brightness floor — published rules
 * were fitted to mid tones. The distance is CIE76 with the lightness difference halved (lightness weight
 * k_L = 2, as in CMC l:c 2:1 and CIE94 for textiles), so a shaded or lit Monk colour (a change mostly in L*)
 * still counts: Monk 1 at 90 % or 110 % brightness is accepted, pure white (255,255,255) is not.
 */
const MONK_EXTENSION_DELTA_E = 6;
const MONK_EXTENSION_KL = 2;

/** Smallest lightness-weighted (k_L = 2) CIELAB distance from `lab` to a Monk reference colour. */
export function monkExtensionDistance(lab: Lab): number {
  let best = Infinity;
  for (const m of MONK_LAB) {
    const d = Math.hypot((lab[0] - m[0]) / MONK_EXTENSION_KL, lab[1] - m[1], lab[2] - m[2]);
    if (d < best) best = d;
  }
  return best;
}
/** Pixels with alpha below this are background, never skin. */
const ALPHA_MIN = 128;
/** Minimum skin area for a measurement: absolute pixel count and share of the considered pixels. */
export const MIN_SKIN_PIXELS = 50;
export const MIN_SKIN_SHARE = 0.005;

/** Full-range BT.601 YCbCr of an sRGB pixel. */
export function rgbToYCbCr(r: number, g: number, b: number): [number, number, number] {
  return [
    0.299 * r + 0.587 * g + 0.114 * b,
    128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
    128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
  ];
}

/** Precomputed segments of the Monk polyline in CIELAB: start point, direction, squared length. */
const LOCUS: readonly { p: Lab; d: Lab; len2: number }[] = MONK_LAB.slice(0, -1).map((p, i) => {
  const q = MONK_LAB[i + 1]!;
  const d: Lab = [q[0] - p[0], q[1] - p[1], q[2] - p[2]];
  return { p, d, len2: d[0] * d[0] + d[1] * d[1] + d[2] * d[2] };
});

/** CIE76 distance from a CIELAB colour to the Monk skin-tone locus (polyline through the ten colours). */
export function distanceToMonkLocus(lab: Lab): number {
  let best = Infinity;
  for (const { p, d, len2 } of LOCUS) {
    let t = len2 > 0 ? ((lab[0] - p[0]) * d[0] + (lab[1] - p[1]) * d[1] + (lab[2] - p[2]) * d[2]) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const dist = Math.hypot(lab[0] - p[0] - t * d[0], lab[1] - p[1] - t * d[1], lab[2] - p[2] - t * d[2]);
    if (dist < best) best = dist;
  }
  return best;
}

/**
 * The skin rule for one opaque sRGB pixel (its CIELAB given), combining:
 * 1. Chai & Ngan 1999 ("Face segmentation using skin-color map in videophone applications", IEEE TCSVT 9(4)):
 *    77 <= Cb <= 127 and 133 <= Cr <= 173, with a brightness floor Y >= 40, AND the pixel within ΔE 12 of the
 *    Monk locus (rejects the reds the box admits); OR
 * 2. the documented extension: within 6 of any of the ten Monk reference colours, by CIE76 with the
 *    lightness difference halved (catches Monk 1-3 and 9-10 and their shaded versions, which sit on or
 *    outside the box's edges).
 */
export function isSkinPixel(r: number, g: number, b: number, lab: Lab = srgbToLab(r, g, b)): boolean {
  if (monkExtensionDistance(lab) <= MONK_EXTENSION_DELTA_E) return true;
  const [y, cb, cr] = rgbToYCbCr(r, g, b);
  if (y < Y_MIN || cb < CB_MIN || cb > CB_MAX || cr < CR_MIN || cr > CR_MAX) return false;
  return distanceToMonkLocus(lab) <= LOCUS_MAX_DELTA_E;
}

/**
 * The looser rule used inside a detected face (the face mesh already says where the skin is): the Chai &
 * Ngan box with the brightness floor, without the Monk-locus gate, OR the Monk extension. Real photographs
 * under coloured light sit off the Monk locus (pinkish webcam light, low b*); the gate would keep only the
 * shadows and bias the median dark.
 */
export function isFaceSkinPixel(r: number, g: number, b: number, lab: Lab = srgbToLab(r, g, b)): boolean {
  if (monkExtensionDistance(lab) <= MONK_EXTENSION_DELTA_E) return true;
  const [y, cb, cr] = rgbToYCbCr(r, g, b);
  return y >= Y_MIN && cb >= CB_MIN && cb <= CB_MAX && cr >= CR_MIN && cr <= CR_MAX;
}

/** A per-pixel skin rule. */
export type SkinRule = (r: number, g: number, b: number) => boolean;

/** k-th smallest (0-based) of a multiset given as distinct values with counts. */
function kthOfCounted(values: Float64Array, counts: Uint32Array, order: Uint32Array, k: number): number {
  let seen = 0;
  for (const idx of order) {
    seen += counts[idx]!;
    if (seen > k) return values[idx]!;
  }
  return values[order[order.length - 1]!]!;
}

function countedMedian(values: Float64Array, counts: Uint32Array, total: number): number {
  const order = Uint32Array.from(values.keys()).sort((a, b) => values[a]! - values[b]!);
  const lo = kthOfCounted(values, counts, order, Math.floor((total - 1) / 2));
  const hi = kthOfCounted(values, counts, order, Math.ceil((total - 1) / 2));
  return (lo + hi) / 2;
}

/**
 * Skin measurement of an RGBA image: segments skin pixels with `rule` (default {@link isSkinPixel}) inside `region`
 * (default: the whole image; clipped to the image), skipping pixels where `excludeMask` (one entry per image
 * pixel, row-major, non-zero = exclude) is set and transparent pixels, then takes the per-channel median
 * CIELAB of the skin pixels.
 *
 * Returns undefined when fewer than {@link MIN_SKIN_PIXELS} pixels or less than {@link MIN_SKIN_SHARE} of
 * the considered pixels are skin.
 */
export function measureSkin(
  rgba: RgbaImage,
  region?: Region,
  excludeMask?: ArrayLike<number>,
  rule: SkinRule = isSkinPixel,
): SkinMeasurement | undefined {
  const { width, height, data } = rgba;
  if (data.length < width * height * 4) {
    throw new RangeError(`measureSkin: data has ${data.length} bytes, expected ${width * height * 4} for ${width}x${height} RGBA`);
  }
  if (excludeMask && excludeMask.length !== width * height) {
    throw new RangeError(`measureSkin: excludeMask has ${excludeMask.length} entries, expected ${width * height}`);
  }
  const x0 = Math.max(0, Math.round(region?.x ?? 0));
  const y0 = Math.max(0, Math.round(region?.y ?? 0));
  const x1 = Math.min(width, region ? Math.round(region.x + region.width) : width);
  const y1 = Math.min(height, region ? Math.round(region.y + region.height) : height);
  if (x1 <= x0 || y1 <= y0) return undefined;

  // Colours repeat a lot (flat fills, quantised photos): classify each distinct colour once and count it.
  const skinCounts = new Map<number, number>(); // packed RGB -> skin pixel count
  const verdict = new Map<number, boolean>(); // packed RGB -> is skin
  let considered = 0;
  let pixels = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const p = y * width + x;
      if (excludeMask && excludeMask[p]) continue;
      considered++;
      const i = p * 4;
      if (data[i + 3]! < ALPHA_MIN) continue;
      const key = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
      let skin = verdict.get(key);
      if (skin === undefined) {
        skin = rule(data[i]!, data[i + 1]!, data[i + 2]!);
        verdict.set(key, skin);
      }
      if (skin) {
        skinCounts.set(key, (skinCounts.get(key) ?? 0) + 1);
        pixels++;
      }
    }
  }
  if (considered === 0 || pixels < MIN_SKIN_PIXELS || pixels / considered < MIN_SKIN_SHARE) return undefined;

  const n = skinCounts.size;
  const L = new Float64Array(n);
  const A = new Float64Array(n);
  const B = new Float64Array(n);
  const counts = new Uint32Array(n);
  let j = 0;
  for (const [key, count] of skinCounts) {
    const lab = srgbToLab((key >> 16) & 255, (key >> 8) & 255, key & 255);
    L[j] = lab[0];
    A[j] = lab[1];
    B[j] = lab[2];
    counts[j] = count;
    j++;
  }
  const medianLab: Lab = [countedMedian(L, counts, pixels), countedMedian(A, counts, pixels), countedMedian(B, counts, pixels)];
  const angle = ita(medianLab[0], medianLab[2]);
  const near = nearestMonk(medianLab);
  return {
    pixels,
    share: pixels / considered,
    medianLab,
    ita: angle,
    monk: near.level,
    monkDeltaE: near.d1,
    monkConfidence: near.d1 + near.d2 > 0 ? (near.d2 - near.d1) / (near.d2 + near.d1) : 1,
    fitzpatrick: fitzpatrick(angle),
    itaCategory: itaCategory(angle),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Decoding and the observer
// ---------------------------------------------------------------------------------------------------------

/**
 * Long side, in pixels, to which the whole-image measure downscales a photo before classifying pixels. The
 * measure is a median colour over many thousands of skin pixels: 512 px keeps enough of them for any portrait
 * and makes a 12 MP photo cost what a 0.26 MP one does.
 */
export const SKIN_MAX_SIDE = 512;

/**
 * Full skin measurement of encoded image bytes over the whole image (fallback segmentation), decoded upright
 * and downscaled to {@link SKIN_MAX_SIDE}; undefined when too little skin is found. Throws
 * {@link ImageDecodeError} when the bytes cannot be decoded.
 */
export async function skinMeasurement(bytes: Uint8Array, mime?: string): Promise<SkinMeasurement | undefined> {
  return measureSkin(await decodeImage(bytes, { maxSide: SKIN_MAX_SIDE, ...(mime ? { mime } : {}) }));
}

/** Compact one-line summary of a measurement, used as the observation's note. */
export function describeMeasurement(m: SkinMeasurement, where = "of image, whole-image segmentation"): string {
  const [L, a, b] = m.medianLab;
  return (
    `monk ${m.monk} (ΔE ${m.monkDeltaE.toFixed(1)}); ITA ${m.ita.toFixed(1)}° (${m.itaCategory.replace("_", " ")}); ` +
    `Fitzpatrick ${fitzpatrickRoman(m.fitzpatrick)}; L*a*b* ${L.toFixed(1)}/${a.toFixed(1)}/${b.toFixed(1)}; ` +
    `skin ${m.pixels} px (${(m.share * 100).toFixed(1)}% ${where})`
  );
}

const ID = "skin-tone";

/** What the skin-tone observer can label. */
export const SKIN_TONE_SEES: readonly string[] = ["skin_tone"];

/**
 * `skin-tone`: one person per image, labelled with the Monk level of the image's skin pixels
 * (`skin_tone: "monk_N"`), confidence from {@link monkConfidence}, and ITA / Fitzpatrick in the note.
 * Never throws: a missing image or too little skin gives no person and a note saying why; an image that cannot
 * be decoded is a failed observation (`error` set), never an empty one.
 * If the taxonomy's `skin_tone` attribute lacks the `monk_N` category the label is null (unknown); without a
 * `skin_tone` attribute the person gets no labels (the numbers are still in the note).
 */
export const skinToneObserver: Observer = {
  id: ID,
  sees: SKIN_TONE_SEES,
  async observe({ result }, taxonomy): Promise<Observation> {
    if (!hasImage(result)) {
      return { observer: ID, persons: [], note: result.refusal ? `no image (refused: ${result.refusal})` : "no image to measure" };
    }
    let m: SkinMeasurement | undefined;
    try {
      const pixels = await resultPixels(result, SKIN_MAX_SIDE);
      m = pixels ? measureSkin(pixels) : undefined;
    } catch (e) {
      const why = `could not read the image: ${e instanceof Error ? e.message : String(e)}`;
      return { observer: ID, persons: [], note: why, error: why };
    }
    if (!m) {
      return {
        observer: ID,
        persons: [],
        note: `too little skin found (needs >= ${MIN_SKIN_PIXELS} px and >= ${MIN_SKIN_SHARE * 100}% of the image): no person measured`,
      };
    }
    const id = `monk_${m.monk}`;
    const attr = taxonomy.attributes.find((a) => a.id === "skin_tone");
    if (!attr) {
      return { observer: ID, persons: [{ labels: {} }], note: `${describeMeasurement(m)}; the taxonomy has no skin_tone attribute` };
    }
    const label = attr.categories.some((c) => c.id === id) ? id : null;
    const note = describeMeasurement(m) + (label === null ? `; the taxonomy's skin_tone has no category "${id}"` : "");
    return {
      observer: ID,
      persons: [{ labels: { skin_tone: label }, confidence: { skin_tone: m.monkConfidence } }],
      note,
    };
  },
};

export const skinToneEntry: ObserverEntry = {
  description: "skin tone from pixels: median CIELAB over skin pixels -> Monk level (nearest colour), ITA and Fitzpatrick",
  sees: SKIN_TONE_SEES,
  create: () => skinToneObserver,
};
