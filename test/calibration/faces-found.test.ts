/**
 * calibrate's "found" figure must count what the observer found: with `faces`, a face, not the whole-image skin
 * fallback it falls back to when it finds none (that fallback is one person with only a skin tone). The faces bench
 * (BENCHMARKS.md section 5) counts faces found the same way.
 */
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { buildCalibration } from "../../src/calibration/build.js";
import { mapLabelRows, parseLabels } from "../../src/calibration/labels.js";
import type { Observation } from "../../src/core/request.js";
import { builtinTaxonomy } from "../../src/core/taxonomy.js";
import { formatCalibration } from "../../src/report/calibration-table.js";
import { cli, tempDir } from "../cli/helpers.js";

const tax = builtinTaxonomy();
const FIX = join(import.meta.dirname, "..", "fixtures", "fairface", "heldout");

function calibrationOf(observations: Observation[]) {
  const csv = ["file,gender", ...observations.map((_, i) => `${i}.png,${i % 2 === 0 ? "female" : "male"}`)].join("\n");
  return buildCalibration({
    labels: mapLabelRows(parseLabels(csv, "labels.csv"), tax, "labels.csv"),
    observations,
    taxonomy: tax,
    observer: { id: "faces", options: {}, models: [] },
    source: "labels.csv",
    folder: "imgs",
    rows: observations.length,
    createdAt: "2026-01-01T00:00:00Z",
    version: "test",
  });
}

describe("calibrate counts faces found, not the fallback", () => {
  it("a fallback person is neither a detection nor nothing: found, fallback and nothing add up to 1", () => {
    const face: Observation = { observer: "faces", persons: [{ labels: { gender: "female", age: null, skin_tone: "monk_5" } }] };
    const fallback: Observation = { observer: "faces", persons: [{ labels: { gender: null, age: null, skin_tone: "monk_6" } }], fallback: "whole-image skin tone" };
    const nothing: Observation = { observer: "faces", persons: [] };
    const cal = calibrationOf([face, fallback, fallback, nothing]);
    const g = cal.attributes.gender!;
    expect(g.foundRate).toBe(0.25);
    expect(g.fallbackRate).toBe(0.5);
    expect(g.detectionRate).toBe(0.75); // unchanged meaning: some person (fallback included) was returned
    // The confusion matrix is what a run sees: a fallback person is an unknown gender, not a missed person.
    // Images: female face read female; male and female fallbacks (gender unknown); male with nothing seen.
    expect(g.counts).toEqual([
      [1, 0, 1, 0],
      [0, 0, 1, 1],
    ]);
    const text = formatCalibration(cal);
    expect(text).toMatch(/gender: .*; face found 25 %; whole-image fallback 50 % \(no face found\); nothing 25 %$/m);
    expect(text).not.toMatch(/person found 75 %/);
  });

  it("`debiaspi calibrate --observer faces` says how many faces it found and how many images fell back", async () => {
    const dir = tempDir("debiaspi-found-");
    copyFileSync(join(FIX, "fairface_0029.jpg"), join(dir, "face.jpg"));
    // Skin colour and no face: faces falls back to whole-image segmentation.
    await sharp({ create: { width: 128, height: 128, channels: 3, background: { r: 198, g: 160, b: 130 } } }).png().toFile(join(dir, "skin.png"));
    writeFileSync(join(dir, "labels.csv"), "file,gender\nface.jpg,male\nskin.png,female\n");
    const r = await cli("calibrate", dir, "--labels", join(dir, "labels.csv"), "--observer", "faces", "--no-progress");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/gender: .*; face found 50 %; whole-image fallback 50 % \(no face found\); nothing 0 %/);
    expect(r.stdout).not.toMatch(/person found 100 %/);
  }, 120_000);
});
