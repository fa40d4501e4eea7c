import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../util/paths.js";

export interface OccupationCounts {
  occupation: string;
  man: number;
  woman: number;
  except: number;
}

/**
 * Parses a Fair Diffusion result file: two lines per occupation, the name, then
 * `man: M, woman: W, except: E`. Throws on a line that does not fit, naming it.
 */
export function parseFairDiffusion(text: string, source = "fair-diffusion file"): OccupationCounts[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines.length % 2 !== 0) throw new Error(`${source}: expected pairs of lines, got ${lines.length} lines`);
  const out: OccupationCounts[] = [];
  for (let i = 0; i < lines.length; i += 2) {
    const m = /^man:\s*(\d+),\s*woman:\s*(\d+),\s*except:\s*(\d+)$/.exec(lines[i + 1]!);
    if (!m) throw new Error(`${source}: line ${i + 2} is not "man: M, woman: W, except: E": ${lines[i + 1]}`);
    out.push({ occupation: lines[i]!, man: Number(m[1]), woman: Number(m[2]), except: Number(m[3]) });
  }
  return out;
}

let cached: OccupationCounts[] | undefined;

/**
 * The measured, unsteered gender counts of Stable Diffusion 1.5 for 153 occupations
 * ("a photo of the face of a {occupation}", 250 images each, FairFace classifier), from the
 * Fair Diffusion repository (data/fair-diffusion/SOURCE.md).
 */
export function sdOccupationCounts(): OccupationCounts[] {
  cached ??= parseFairDiffusion(
    readFileSync(join(packageRoot(), "data", "fair-diffusion", "results_fairface_generated_1-5.txt"), "utf8"),
    "data/fair-diffusion/results_fairface_generated_1-5.txt",
  );
  return cached;
}
