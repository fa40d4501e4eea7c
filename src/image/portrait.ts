/**
 * Renderer of the simulated text-to-image model: draws a small, stylised PNG "portrait" of one person.
 *
 * Contract that later pixel-based observers rely on:
 * - every skin pixel (face, neck, ears, neckline) is EXACTLY the Monk Skin Tone reference colour of the
 *   person's level: flat fill, no shading, no anti-aliasing, no blending anywhere in the image;
 * - every other pixel (background, hair, clothes, eyes, mouth, nose and wrinkle lines) has a colour at
 *   CIELAB distance (CIE76) of at least {@link NON_SKIN_MARGIN} from all ten Monk colours, so skin
 *   segmentation by "nearest Monk colour within a small distance" is clean.
 *
 * Everything is deterministic: the same spec gives the same bytes. Small variations (background and clothes
 * hue, hair shade, face shape, hair parting, number of forehead lines for 45-64) come from `seed`.
 */
import { MONK_HEX, MONK_RGB, deltaE, hexToRgb, monkDistance, rgbDeltaE, srgbToLab, type Rgb } from "../core/colour.js";
import { Rng } from "../core/rng.js";
import { encodeIndexedPng } from "./png.js";

export interface PortraitSpec {
  /** Monk level 1..10 (integer). */
  skinTone: number;
  /** "female" | "male" | other/undefined (drawn neutral). */
  gender?: string;
  /** "18-29" | "30-44" | "45-64" | "65+" | undefined. */
  age?: string;
  /** "slim" | "average" | "athletic" | "plus_size" | undefined. */
  bodyType?: string;
  /** 32-bit unsigned int; drives small deterministic variations. */
  seed: number;
}

type RGB = Rgb;

export { MONK_HEX, MONK_RGB, deltaE, srgbToLab };

export const PORTRAIT_WIDTH = 128;
export const PORTRAIT_HEIGHT = 160;

/** Every non-skin colour the renderer uses is at least this far (CIE76) from every Monk colour. */
const NON_SKIN_MARGIN = 16;

function hsvToRgb(h: number, s: number, v: number): RGB {
  const hh = (((h % 360) + 360) % 360) / 60;
  const c = v * s;
  const x = c * (1 - Math.abs((hh % 2) - 1));
  const m = v - c;
  let r = 0;
  let g = 0;
  let b = 0;
  if (hh < 1) [r, g, b] = [c, x, 0];
  else if (hh < 2) [r, g, b] = [x, c, 0];
  else if (hh < 3) [r, g, b] = [0, c, x];
  else if (hh < 4) [r, g, b] = [0, x, c];
  else if (hh < 5) [r, g, b] = [x, 0, c];
  else [r, g, b] = [c, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

// Fixed palette (all verified in the tests to be >= NON_SKIN_MARGIN from the Monk colours).
const EYE: RGB = hexToRgb("#101838"); // dark navy
const LIPS: RGB = hexToRgb("#a8323e"); // muted red
const LINE_DARK: RGB = hexToRgb("#7a2f45"); // dark rose: nose / wrinkle lines on light skin
const LINE_LIGHT: RGB = hexToRgb("#d07080"); // light rose: nose / wrinkle lines on dark skin
const GREY_STREAK: RGB = hexToRgb("#9a9aa4"); // grey streaks (45-64)
const SILVER: RGB = hexToRgb("#b4bac8"); // 65+ hair base
const SILVER_LIGHT: RGB = hexToRgb("#c8d0e4"); // 65+ hair highlights
const GREY_BROW: RGB = hexToRgb("#7c7c88"); // 65+ eyebrows (darker than the hair so they read)
/** Young hair shades with weights: blue-black, violet-black, deep auburn, copper, golden blonde. */
const HAIR_SHADES: readonly { c: RGB; w: number }[] = [
  { c: hexToRgb("#15152c"), w: 4 },
  { c: hexToRgb("#1c1230"), w: 2 },
  { c: hexToRgb("#5a1e10"), w: 2 },
  { c: hexToRgb("#8b2a1a"), w: 1 },
  { c: hexToRgb("#d8b040"), w: 1 },
];
const FALLBACK_BG: RGB = hexToRgb("#6f8fd0");
const FALLBACK_CLOTHES: RGB = hexToRgb("#2e7d4f");


// ---------------------------------------------------------------------------------------------------------
// Raster canvas: hard-edged fills of palette indices only (no anti-aliasing, no blending)
// ---------------------------------------------------------------------------------------------------------

/**
 * A canvas of palette indices laid out as PNG scanlines (a filter byte 0 before each row), so the PNG
 * encoder deflates it as it is. Every distinct colour has one index (equal colours share it), so "only
 * over colour X" means the same as on RGBA pixels. Fills work on row spans (typed-array `fill`).
 */
class Canvas {
  readonly stride: number;
  readonly raw: Uint8Array;
  /** The palette: distinct sRGB colours in the order they were first used. */
  private readonly colours: RGB[] = [];
  private readonly keys: number[] = [];

  constructor(
    readonly w: number,
    readonly h: number,
    raw: Uint8Array,
  ) {
    this.stride = w + 1;
    if (raw.length !== this.stride * h) throw new RangeError(`Canvas: ${raw.length} bytes for ${w}x${h} scanlines`);
    this.raw = raw;
  }

  /** The palette index of a colour (a new entry the first time it is used). */
  colour(c: RGB): number {
    const key = (c[0] << 16) | (c[1] << 8) | c[2];
    const at = this.keys.indexOf(key);
    if (at >= 0) return at;
    if (this.keys.length >= 256) throw new RangeError("Canvas: more than 256 colours");
    this.keys.push(key);
    this.colours.push(c);
    return this.keys.length - 1;
  }

  /** The palette as PNG PLTE bytes (r, g, b per entry). */
  palette(): Uint8Array {
    const out = new Uint8Array(this.colours.length * 3);
    for (let i = 0; i < this.colours.length; i++) {
      const c = this.colours[i]!;
      out[3 * i] = c[0];
      out[3 * i + 1] = c[1];
      out[3 * i + 2] = c[2];
    }
    return out;
  }

  /** The pixels as opaque RGBA (row-major, 4 bytes per pixel). */
  rgba(): Uint8Array {
    const out = new Uint8Array(this.w * this.h * 4);
    const table = this.palette();
    let o = 0;
    for (let y = 0; y < this.h; y++) {
      const row = y * this.stride + 1;
      for (let x = 0; x < this.w; x++) {
        const k = this.raw[row + x]! * 3;
        out[o] = table[k]!;
        out[o + 1] = table[k + 1]!;
        out[o + 2] = table[k + 2]!;
        out[o + 3] = 255;
        o += 4;
      }
    }
    return out;
  }

  /** Every pixel to colour c (filter bytes 0). */
  fill(c: number): void {
    this.raw.fill(c);
    for (let y = 0; y < this.h; y++) this.raw[y * this.stride] = 0;
  }

  /** Fill row y from x0 to x1 (real coordinates; pixel centres at integers), optionally only over `only`. */
  span(y: number, x0: number, x1: number, c: number, only?: number): void {
    if (y < 0 || y >= this.h) return;
    const a = Math.max(0, Math.ceil(x0));
    const b = Math.min(this.w - 1, Math.floor(x1));
    if (a > b) return;
    const row = y * this.stride + 1;
    if (only === undefined) {
      if (b - a < 24) {
        // A short span: a plain loop costs less than a call of the typed array's fill.
        const px = this.raw;
        for (let i = row + a; i <= row + b; i++) px[i] = c;
      } else this.raw.fill(c, row + a, row + b + 1);
    } else {
      const px = this.raw;
      for (let i = row + a; i <= row + b; i++) if (px[i] === only) px[i] = c;
    }
  }

  /** Fill rows y0..y1; `hw(y)` gives the half-width around `cx` (negative = skip the row). */
  rows(y0: number, y1: number, cx: number, hw: (y: number) => number, c: number, only?: number): void {
    const a = Math.max(0, Math.ceil(y0));
    const b = Math.min(this.h - 1, Math.floor(y1));
    for (let y = a; y <= b; y++) {
      const w = hw(y);
      if (w >= 0) this.span(y, cx - w, cx + w, c, only);
    }
  }

  /** Filled axis-aligned ellipse, optionally clipped to rows [yMin, yMax]. */
  ellipse(cx: number, cy: number, rx: number, ry: number, c: number, yMin = -Infinity, yMax = Infinity): void {
    const a = Math.max(Math.ceil(cy - ry), Math.ceil(yMin), 0);
    const b = Math.min(Math.floor(cy + ry), Math.floor(yMax), this.h - 1);
    for (let y = a; y <= b; y++) {
      const d = (y - cy) / ry;
      const t = 1 - d * d;
      if (t < 0) continue;
      const hw = rx * Math.sqrt(t);
      this.span(y, cx - hw, cx + hw, c);
    }
  }

  rect(x0: number, y0: number, x1: number, y1: number, c: number): void {
    for (let y = Math.max(0, Math.ceil(y0)); y <= Math.min(this.h - 1, Math.floor(y1)); y++) this.span(y, x0, x1, c);
  }

  /** Thick line segment: every pixel centre within `r` of the segment. */
  line(x0: number, y0: number, x1: number, y1: number, r: number, c: number, only?: number): void {
    const minX = Math.max(0, Math.floor(Math.min(x0, x1) - r));
    const maxX = Math.min(this.w - 1, Math.ceil(Math.max(x0, x1) + r));
    const minY = Math.max(0, Math.floor(Math.min(y0, y1) - r));
    const maxY = Math.min(this.h - 1, Math.ceil(Math.max(y0, y1) + r));
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len2 = dx * dx + dy * dy;
    const r2 = r * r;
    const px = this.raw;
    for (let y = minY; y <= maxY; y++) {
      const row = y * this.stride + 1;
      for (let x = minX; x <= maxX; x++) {
        let t = len2 > 0 ? ((x - x0) * dx + (y - y0) * dy) / len2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const ex = x0 + t * dx - x;
        const ey = y0 + t * dy - y;
        if (ex * ex + ey * ey <= r2) {
          const i = row + x;
          if (only === undefined || px[i] === only) px[i] = c;
        }
      }
    }
  }

  /** Thick quadratic Bezier curve from p0 to p2 with control point p1. */
  curve(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    x2: number,
    y2: number,
    r: number,
    c: number,
    only?: number,
  ): void {
    const steps = 8;
    let px = x0;
    let py = y0;
    for (let i = 1; i <= steps; i++) {
      const t = i / steps;
      const u = 1 - t;
      const nx = u * u * x0 + 2 * u * t * x1 + t * t * x2;
      const ny = u * u * y0 + 2 * u * t * y1 + t * t * y2;
      this.line(px, py, nx, ny, r, c, only);
      px = nx;
      py = ny;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Spec normalisation and colour choice
// ---------------------------------------------------------------------------------------------------------

export type Gender = "female" | "male" | "neutral";
export type AgeBand = "young" | "adult" | "middle" | "old";
export type Body = "slim" | "average" | "athletic" | "plus_size";

/** What the renderer tells apart in a spec: two specs with the same key draw the same pixels. */
export interface PortraitKey {
  gender: Gender;
  age: AgeBand;
  body: Body;
  skinTone: number;
  seed: number;
}

/** The spec as the renderer reads it (throws RangeError for a skin tone outside 1..10, as rendering would). */
export function portraitKey(spec: PortraitSpec): PortraitKey {
  validate(spec);
  return { gender: normGender(spec.gender), age: normAge(spec.age), body: normBody(spec.bodyType), skinTone: spec.skinTone, seed: spec.seed >>> 0 };
}

function normGender(g: string | undefined): Gender {
  const s = (g ?? "").trim().toLowerCase();
  if (s === "female" || s === "woman" || s === "f") return "female";
  if (s === "male" || s === "man" || s === "m") return "male";
  return "neutral";
}

function normAge(a: string | undefined): AgeBand {
  switch ((a ?? "").trim()) {
    case "18-29":
      return "young";
    case "45-64":
      return "middle";
    case "65+":
      return "old";
    default:
      return "adult"; // "30-44" and unknown
  }
}

function normBody(b: string | undefined): Body {
  const s = (b ?? "").trim().toLowerCase().replace(/[-\s]/g, "_");
  if (s === "slim" || s === "athletic" || s === "plus_size") return s;
  return "average";
}

/** A colour from random HSV draws that is far from the Monk colours and from the `avoid` colours. */
function pickHsv(
  rnd: () => number,
  hue: (r: number) => number,
  s0: number,
  s1: number,
  v0: number,
  v1: number,
  avoid: readonly RGB[],
  fallback: RGB,
): RGB {
  for (let attempt = 0; attempt < 12; attempt++) {
    const c = hsvToRgb(hue(rnd()), s0 + (s1 - s0) * rnd(), v0 + (v1 - v0) * rnd());
    if (monkDistance(c) < NON_SKIN_MARGIN + 4) continue;
    if (avoid.some((a) => rgbDeltaE(a, c) < 25)) continue;
    return c;
  }
  return fallback;
}

function pickHair(rnd: () => number): RGB {
  const total = HAIR_SHADES.reduce((s, h) => s + h.w, 0);
  let r = rnd() * total;
  let base = HAIR_SHADES[0]!.c;
  for (const h of HAIR_SHADES) {
    if (r < h.w) {
      base = h.c;
      break;
    }
    r -= h.w;
  }
  const j = (): number => Math.round((rnd() - 0.5) * 12);
  const c: RGB = [clamp255(base[0] + j()), clamp255(base[1] + j()), clamp255(base[2] + j())];
  return monkDistance(c) >= NON_SKIN_MARGIN + 2 ? c : base;
}

function validate(spec: PortraitSpec): void {
  const t = spec.skinTone;
  if (typeof t !== "number" || !Number.isInteger(t) || t < 1 || t > 10) {
    throw new RangeError(`renderPortrait: skinTone must be an integer Monk level 1..10, got ${String(t)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Portrait
// ---------------------------------------------------------------------------------------------------------

/** Scanline buffer reused by every portrait of this thread (each is encoded or expanded before the next is drawn). */
let scratch: Uint8Array | undefined;

/** Draws the portrait of `spec` into the thread's scanline buffer; valid until the next call. */
function draw(spec: PortraitSpec): Canvas {
  validate(spec);
  const W = PORTRAIT_WIDTH;
  const H = PORTRAIT_HEIGHT;
  const gender = normGender(spec.gender);
  const age = normAge(spec.age);
  const body = normBody(spec.bodyType);
  const rng = new Rng(spec.seed >>> 0);
  const rnd = (): number => rng.next();

  // --- colours (fixed draw order keeps the PRNG stream stable) ---
  const skinRgb = MONK_RGB[spec.skinTone - 1]!;
  const youngHair = pickHair(rnd);
  const hairRgb: RGB =
    age === "old"
      ? (() => {
          const d = Math.round((rnd() - 0.5) * 10);
          const c: RGB = [SILVER[0] + d, SILVER[1] + d, SILVER[2] + d];
          return monkDistance(c) >= NON_SKIN_MARGIN + 2 ? c : SILVER;
        })()
      : youngHair;
  const bgRgb = pickHsv(rnd, (r) => 80 + r * 260, 0.3, 0.5, 0.72, 0.92, [hairRgb], FALLBACK_BG);
  const bgHue = hueOf(bgRgb);
  // Clothes hue: anywhere except orange/brown (15..60 deg), at least 60 deg away from the background hue.
  const clothesRgb = pickHsv(
    rnd,
    (r) => {
      let h = 60 + r * 310; // 60..370 == 60..360 + 0..10
      if (Math.abs(((h - bgHue + 540) % 360) - 180) < 60) h = (h + 150) % 360;
      return h >= 12 && h < 60 ? h - 40 : h; // keep clear of orange/brown, which is close to skin
    },
    0.5,
    0.75,
    0.42,
    0.75,
    [hairRgb, bgRgb],
    FALLBACK_CLOTHES,
  );
  const clothesShade: RGB = [
    Math.round(clothesRgb[0] * 0.72),
    Math.round(clothesRgb[1] * 0.72),
    Math.round(clothesRgb[2] * 0.72),
  ];
  const skinLab = srgbToLab(skinRgb[0], skinRgb[1], skinRgb[2]);
  const lineRgb =
    deltaE(skinLab, srgbToLab(...LINE_DARK)) >= deltaE(skinLab, srgbToLab(...LINE_LIGHT)) ? LINE_DARK : LINE_LIGHT;

  scratch ??= new Uint8Array((W + 1) * H);
  const cv = new Canvas(W, H, scratch);
  const pack = (c: RGB): number => cv.colour(c);
  const SKIN = pack(skinRgb);
  const HAIR = pack(hairRgb);
  const BG = pack(bgRgb);
  const CLOTHES = pack(clothesRgb);
  const SHADE = pack(monkDistance(clothesShade) >= NON_SKIN_MARGIN + 2 ? clothesShade : clothesRgb);
  const LINE = pack(lineRgb);
  const EYEC = pack(EYE);
  const LIPC = pack(LIPS);
  const BROW = pack(age === "old" ? GREY_BROW : hairRgb);

  // --- geometry ---
  const cx = 64;
  const cy = 66;
  const rx = (gender === "female" ? 24.5 : gender === "male" ? 25.5 : 25) + (rnd() - 0.5) * 3;
  const ry = 31.5 + (rnd() - 0.5) * 2.4;
  const chinTaper = (gender === "female" ? 0.3 : gender === "male" ? 0.12 : 0.22) + (rnd() - 0.5) * 0.08;
  const partLeft = rnd() < 0.5;
  const faceHw = (y: number): number => {
    const d = (y - cy) / ry;
    if (d < -1 || d > 1) return -1;
    const base = rx * Math.sqrt(1 - d * d);
    return d > 0 ? base * (1 - chinTaper * d) : base;
  };

  const neckHw = (gender === "female" ? 8 : gender === "male" ? 9.5 : 8.5) + (body === "plus_size" ? 2 : 0);
  const T = Math.round(cy + ry + 16); // shoulder line
  const shoulderHw = { slim: 35, average: 43, athletic: 51, plus_size: 57 }[body];
  const shoulderR = body === "plus_size" ? 20 : body === "athletic" ? 10 : 14;
  const slope = { slim: 0, average: 0.06, athletic: -0.32, plus_size: 0.3 }[body];
  const torsoHw = (y: number): number => {
    const trapTop = T - 8;
    const inner = shoulderHw - shoulderR;
    if (y < trapTop) return -1;
    if (y < T) return neckHw + 1 + ((y - trapTop) / 8) * (inner - neckHw - 1);
    const t = y - T;
    if (t < shoulderR) return inner + Math.sqrt(shoulderR * shoulderR - (shoulderR - t) * (shoulderR - t));
    return Math.min(W, shoulderHw + slope * (t - shoulderR));
  };

  // Hair geometry.
  const capCy = cy - 3;
  const capRx = rx + 4;
  const capRy = ry + 5;
  const hairBottom = gender === "female" ? T + 14 : gender === "neutral" ? cy + ry * 0.55 : cy - 4;
  const hairlineBase =
    age === "old" ? cy - ry * (gender === "male" ? 0.78 : 0.74) : cy - ry * (gender === "female" ? 0.66 : 0.64);
  const recess = age === "old" && gender !== "female" ? (gender === "male" ? 12 : 6) : 0;
  const hairline = (x: number): number => {
    const u = (x - cx) / rx; // -1..1 across the face
    let y = hairlineBase + 4 * u * u; // arches down toward the temples
    if (gender === "female") y += (partLeft ? u + 1 : 1 - u) * 2.5; // side-swept fringe
    else if (gender === "neutral") y += 2;
    if (recess > 0) {
      const k = (Math.abs(u) - 0.5) / 0.28;
      y -= recess * Math.exp(-k * k);
    }
    return y;
  };

  cv.fill(BG);

  // 1. Hair behind the head (female: to the shoulders, neutral: bob to the jaw, male: cap with sideburns).
  if (gender === "male") {
    cv.ellipse(cx, capCy, capRx - 1, capRy - 1, HAIR, -Infinity, hairBottom);
  } else {
    const extra = gender === "female" ? 9 : 7;
    cv.rows(capCy - capRy, hairBottom, cx, (y) => {
      if (y <= capCy) {
        const d = (y - capCy) / capRy;
        return d < -1 ? -1 : capRx * Math.sqrt(1 - d * d);
      }
      const toBottom = hairBottom - y;
      const hw = rx + extra + (y - capCy) * 0.06;
      return toBottom < 6 ? hw - (6 - toBottom) * 1.5 : hw;
    }, HAIR);
  }

  // 2. Torso / shoulders in clothes colour.
  cv.rows(T - 8, H - 1, cx, torsoHw, CLOTHES);
  // Arm seams for the broader bodies so the shoulders read.
  if (body !== "slim") {
    const seam = shoulderHw - 12;
    const seamBottomHw = Math.min(W, shoulderHw + slope * (H - T - shoulderR)) - 12;
    cv.line(cx - seam, T + shoulderR, cx - seamBottomHw, H, 0.7, SHADE);
    cv.line(cx + seam, T + shoulderR, cx + seamBottomHw, H, 0.7, SHADE);
  }

  // 3. Neck and neckline (skin).
  cv.rect(cx - neckHw, cy + ry * 0.4, cx + neckHw, T - 2, SKIN);
  if (gender === "female") {
    cv.rows(T - 8, T + 12, cx, (y) => (neckHw + 3) * (1 - (y - (T - 8)) / 20), SKIN); // V-neck
  } else {
    cv.ellipse(cx, T - 6, neckHw + 3, gender === "male" ? 9 : 11, SKIN, T - 6);
  }

  // 4. Ears (visible for short hair), then the face.
  if (gender === "male") {
    cv.ellipse(cx - rx - 0.5, cy + 1, 4.5, 7.5, SKIN);
    cv.ellipse(cx + rx + 0.5, cy + 1, 4.5, 7.5, SKIN);
    cv.curve(cx - rx - 2, cy - 3, cx - rx - 4, cy + 1, cx - rx - 2, cy + 5, 0.55, LINE, SKIN);
    cv.curve(cx + rx + 2, cy - 3, cx + rx + 4, cy + 1, cx + rx + 2, cy + 5, 0.55, LINE, SKIN);
  }
  cv.rows(cy - ry, cy + ry, cx, faceHw, SKIN);

  // 5. Front hair: locks beside the face (female, neutral) and the cap above the hairline.
  if (gender !== "male") {
    const lockW = gender === "female" ? 9 : 7;
    const lockTop = cy - ry * 0.6;
    const jawY = cy + ry * 0.3;
    for (const side of [-1, 1] as const) {
      const innerAt = (y: number): number => Math.max(0, faceHw(Math.min(y, jawY)) - 1.5);
      for (let y = Math.ceil(lockTop); y <= Math.floor(hairBottom); y++) {
        const inner = innerAt(y);
        let outer = inner + lockW + (y - lockTop) * 0.05;
        const toBottom = hairBottom - y;
        if (toBottom < 5) outer -= (5 - toBottom) * 1.2;
        if (outer <= inner) continue;
        if (side < 0) cv.span(y, cx - outer, cx - inner, HAIR);
        else cv.span(y, cx + inner, cx + outer, HAIR);
      }
    }
  }
  {
    // hairline(x) depends on x alone: computed once per column of the cap, not once per pixel.
    const x0 = Math.ceil(cx - capRx);
    const hairlineAt = new Float64Array(Math.floor(cx + capRx) + 2 - x0 + 1);
    for (let k = 0; k < hairlineAt.length; k++) hairlineAt[k] = hairline(x0 + k);
    const top = Math.max(0, Math.ceil(capCy - capRy));
    for (let y = top; y <= Math.floor(cy); y++) {
      const d = (y - capCy) / capRy;
      if (d < -1) continue;
      const hw = capRx * Math.sqrt(1 - d * d);
      let run = -1;
      for (let x = Math.ceil(cx - hw); x <= Math.floor(cx + hw) + 1; x++) {
        const inside = x <= cx + hw && y < hairlineAt[x - x0]!;
        if (inside && run < 0) run = x;
        if (!inside && run >= 0) {
          cv.span(y, run, x - 1, HAIR);
          run = -1;
        }
      }
    }
  }

  // 6. Grey in the hair: streaks for 45-64, highlights for 65+ (only recolour hair pixels).
  if (age === "middle" || age === "old") {
    const streak = pack(age === "old" ? SILVER_LIGHT : GREY_STREAK);
    const n = age === "old" ? 6 : 4;
    for (let i = 0; i < n; i++) {
      const x0 = cx - capRx + 6 + ((i + rnd() * 0.8) / n) * (2 * capRx - 12);
      const y0 = capCy - capRy + 2;
      const x1 = x0 + (x0 - cx) * 0.35;
      const y1 = gender === "female" ? T + 10 : cy - ry * 0.35;
      cv.line(x0, y0, x1, y1, 0.8, streak, HAIR);
    }
  }

  // 7. Face features.
  const eyeY = cy - 3;
  const eyeDx = 11 + (rnd() - 0.5) * 1.2;
  const browY = eyeY - 6;
  for (const s of [-1, 1] as const) {
    cv.ellipse(cx + s * eyeDx, eyeY, 3.1, 2.6, EYEC);
    if (gender === "female") cv.line(cx + s * (eyeDx + 2.5), eyeY - 1.5, cx + s * (eyeDx + 4.5), eyeY - 3, 0.6, EYEC);
    const browThick = gender === "male" ? 1.2 : 0.8;
    cv.curve(
      cx + s * (eyeDx - 4.5),
      browY + 0.5,
      cx + s * eyeDx,
      browY - 2,
      cx + s * (eyeDx + 5),
      browY + 1,
      browThick,
      BROW,
      SKIN,
    );
  }
  // Nose: small curved line.
  cv.curve(cx - 3, cy + 10, cx, cy + 13, cx + 3, cy + 10, 0.6, LINE);
  // Mouth.
  const mouthY = cy + 19;
  if (gender === "female") {
    cv.ellipse(cx, mouthY, 6.5, 2.3, LIPC);
  } else {
    cv.curve(cx - 7, mouthY - 1, cx, mouthY + 2, cx + 7, mouthY - 1, 1.0, LIPC);
  }

  // 8. Age lines (non-skin colour, only drawn over skin so they never touch hair).
  if (age === "middle" || age === "old") {
    const n = age === "old" ? 3 : 1 + Math.floor(rnd() * 2);
    for (let i = 0; i < n; i++) {
      const y = browY - 4 - i * 3.5;
      const half = 8 - i * 1.5;
      cv.curve(cx - half, y + 0.5, cx, y - 1.5, cx + half, y + 0.5, 0.55, LINE, SKIN);
    }
  }
  if (age === "old") {
    for (const s of [-1, 1] as const) {
      const ex = cx + s * (eyeDx + 4.5);
      cv.line(ex, eyeY - 0.5, ex + s * 3.5, eyeY - 2.5, 0.5, LINE, SKIN); // crow's feet
      cv.line(ex, eyeY + 1.5, ex + s * 3.5, eyeY + 3.5, 0.5, LINE, SKIN);
      cv.curve(cx + s * 6.5, cy + 10, cx + s * 11.5, cy + 13, cx + s * 10.5, cy + 21, 0.5, LINE, SKIN); // nasolabial
    }
  }

  return cv;
}

/** Draw the portrait into a raw RGBA buffer (opaque). */
export function renderPortraitRGBA(spec: PortraitSpec): { width: number; height: number; data: Uint8Array } {
  const cv = draw(spec);
  return { width: cv.w, height: cv.h, data: cv.rgba() };
}

function hueOf(c: RGB): number {
  const r = c[0] / 255;
  const g = c[1] / 255;
  const b = c[2] / 255;
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  if (d === 0) return 0;
  let h: number;
  if (max === r) h = ((g - b) / d) % 6;
  else if (max === g) h = (b - r) / d + 2;
  else h = (r - g) / d + 4;
  return (h * 60 + 360) % 360;
}

/** The portrait as PNG scanlines of palette indices (filter byte 0 per row) and its palette (r, g, b per entry). */
export interface PortraitScanlines {
  width: number;
  height: number;
  /** Valid until the next portrait is drawn in this thread (the buffer is reused). */
  scanlines: Uint8Array;
  palette: Uint8Array;
}

/** Draws the portrait without encoding it (what {@link renderPortrait} encodes; bench/render.ts times the two apart). */
export function drawPortrait(spec: PortraitSpec): PortraitScanlines {
  const cv = draw(spec);
  return { width: cv.w, height: cv.h, scanlines: cv.raw, palette: cv.palette() };
}

/** Render the portrait and encode it as an opaque palette PNG (see png.ts): decoded, it is exactly {@link renderPortraitRGBA}. */
export function renderPortrait(spec: PortraitSpec): Uint8Array {
  const p = drawPortrait(spec);
  return encodeIndexedPng(p.width, p.height, p.scanlines, p.palette);
}
