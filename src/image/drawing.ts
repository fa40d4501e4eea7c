/**
 * Images drawn on demand. A simulated portrait is a pure function of a few fields (see portrait.ts), so a generation
 * returns the portrait's name (core/generation.ts DRAWING_NAME) and nothing is drawn, encoded or written until an
 * observer or a person looks at it: observers get its pixels straight from the rasteriser, and the store draws the
 * PNG when a reader asks for the file (store/images.ts). The name is the recipe: the same name gives the same bytes
 * (test/image/drawing.test.ts pins them), so nothing is lost by not writing the file.
 */
import { DRAWING_NAME, type GenerateResult } from "../core/generation.js";
import { decodeImage, type DecodedImage } from "./decode.js";
import { portraitKey, renderPortrait, renderPortraitRGBA, type AgeBand, type PortraitSpec } from "./portrait.js";

/** The type of every drawn image. */
export const DRAWN_MIME = "image/png";

const AGE_OF_BAND: Readonly<Record<AgeBand, string>> = { young: "18-29", adult: "30-44", middle: "45-64", old: "65+" };

/** The name a portrait is drawn from: what the renderer tells apart in `spec`, nothing more. */
export function drawingName(spec: PortraitSpec): string {
  const k = portraitKey(spec);
  return `portrait-v1_${k.gender}_${k.age}_${k.body}_monk${k.skinTone}_${k.seed}.png`;
}

/** The portrait a drawing name stands for, or undefined when `file` (a bare file name) is not one. */
export function drawingSpec(file: string): PortraitSpec | undefined {
  const m = DRAWING_NAME.exec(file);
  if (!m) return undefined;
  const seed = Number(m[5]);
  if (seed > 0xffffffff) return undefined;
  return { gender: m[1]!, age: AGE_OF_BAND[m[2] as AgeBand], bodyType: m[3]!, skinTone: Number(m[4]), seed };
}

/** A bare name, or a run-relative `images/NAME`, without the folder. */
const bare = (file: string): string => (file.startsWith("images/") ? file.slice("images/".length) : file);

/** True when `file` (a bare name, or a run-relative `images/NAME`) is drawn on demand. */
export const isDrawing = (file: string): boolean => drawingSpec(bare(file)) !== undefined;

/** The PNG bytes of a drawing (a bare name, or `images/NAME`), or undefined when `file` is not one. */
export function drawPng(file: string): Uint8Array | undefined {
  const spec = drawingSpec(bare(file));
  return spec ? renderPortrait(spec) : undefined;
}

/** The encoded image of a generation: its bytes, or its drawing drawn now; undefined when it has neither. */
export function resultImage(result: Pick<GenerateResult, "image" | "mime" | "drawing">): { bytes: Uint8Array; mime: string } | undefined {
  if (result.image && result.image.length > 0) return { bytes: result.image, mime: result.mime ?? "application/octet-stream" };
  const drawn = result.drawing ? drawPng(result.drawing) : undefined;
  return drawn ? { bytes: drawn, mime: DRAWN_MIME } : undefined;
}

/** True when the generation has an image to look at (bytes, or a drawing). */
export const hasImage = (result: Pick<GenerateResult, "image" | "drawing">): boolean =>
  (result.image !== undefined && result.image.length > 0) || (result.drawing !== undefined && drawingSpec(result.drawing) !== undefined);

/**
 * The generation's image as upright RGBA, at most `maxSide` on the long side: a drawing straight from the rasteriser
 * (no PNG encoded or decoded; the pixels are the same, test/image/drawing.test.ts), otherwise its bytes decoded
 * (throws image/decode's ImageDecodeError when they cannot be). Undefined when it has no image.
 */
export async function resultPixels(result: Pick<GenerateResult, "image" | "mime" | "drawing">, maxSide?: number): Promise<DecodedImage | undefined> {
  const spec = !(result.image && result.image.length > 0) && result.drawing ? drawingSpec(result.drawing) : undefined;
  if (spec) {
    const px = renderPortraitRGBA(spec);
    if (maxSide === undefined || (px.width <= maxSide && px.height <= maxSide)) return { ...px, source: { format: "png", width: px.width, height: px.height } };
  }
  const image = resultImage(result);
  if (!image) return undefined;
  return decodeImage(image.bytes, { ...(maxSide !== undefined ? { maxSide } : {}), mime: image.mime });
}
