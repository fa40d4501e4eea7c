import { describe, expect, it } from "vitest";
import { buildCalibration } from "../../src/calibration/build.js";
import { calibrateAttribute, likelihoods } from "../../src/calibration/confusion.js";
import { cellPosterior, correctDistributions, drawObservation } from "../../src/calibration/correct.js";
import { correctedEstimate, emEstimate } from "../../src/calibration/estimate.js";
import { ageRange, mapLabelRows, parseCsv, parseJsonLabels } from "../../src/calibration/labels.js";
import { checkCalibrationFits, parseCalibration, taxonomyFingerprint, type Calibration } from "../../src/calibration/schema.js";
import { InputError } from "../../src/core/errors.js";
import type { Observation } from "../../src/core/request.js";
import { Rng } from "../../src/core/rng.js";
import { builtinTaxonomy, getAttribute } from "../../src/core/taxonomy.js";

const tax = builtinTaxonomy();

/** A gender calibration of an observer that reads men right 90 %, women 50 % (40 % called men, 10 % unknown). */
function genderCal(): Calibration {
  const rows = [
    ...Array.from({ length: 100 }, (_, i) => ({ file: `f${i}.jpg`, gender: "Female" })),
    ...Array.from({ length: 100 }, (_, i) => ({ file: `m${i}.jpg`, gender: "male" })),
  ];
  const set = mapLabelRows(rows, tax, "labels.json");
  const obs = (g: string | null): Observation => ({ observer: "sim", persons: [{ labels: { gender: g } }] });
  const observations = set.images.map((img, k) => {
    const i = k % 100;
    if (img.truth.gender === "female") return i < 50 ? obs("female") : i < 90 ? obs("male") : obs(null);
    return i < 90 ? obs("male") : i < 95 ? obs("female") : { observer: "sim", persons: [] };
  });
  return buildCalibration({
    labels: set,
    observations,
    taxonomy: tax,
    observer: { id: "faces", options: {}, models: [] },
    source: "labels.json",
    folder: "imgs",
    rows: rows.length,
    createdAt: "2026-12-01T00:00:00Z",
    version: "test",
  });
}

describe("labels", () => {
  it("parses CSV with quotes and maps ids, labels and aliases case-insensitively", () => {
    const rows = parseCsv('filename,gender,race,note\r\na.jpg,Woman,"African American",x\nb.jpg,MALE,east_asian,x\n', "l.csv");
    const set = mapLabelRows(rows, tax, "l.csv");
    expect(set.images.map((i) => i.truth)).toEqual([
      { gender: "female", race: "black" },
      { gender: "male", race: "east_asian" },
    ]);
    expect(set.attributes).toEqual(["gender", "race"]);
  });

  it("maps ages inside one bin and leaves the others out, counted", () => {
    expect(ageRange("more than 70")).toEqual([70, Number.POSITIVE_INFINITY]);
    expect(ageRange("30-39")).toEqual([30, 39]);
    const rows = ["20-29", "30-39", "40-49", "more than 70", "3-9", "52", "65+"].map((age, i) => ({ file: `${i}.jpg`, age }));
    const set = mapLabelRows(rows, tax, "l.json");
    expect(set.images.map((i) => i.truth.age)).toEqual(["18-29", "30-44", undefined, "65+", undefined, "45-64", "65+"]);
    expect(set.leftOut.age).toEqual({ "40-49": 1, "3-9": 1 });
  });

  it("refuses unknown categories, duplicate files, no file column and non-array JSON, saying where", () => {
    expect(() => mapLabelRows([{ file: "a.jpg", gender: "robot" }], tax, "l.json")).toThrow(/row 1 \(a\.jpg\): unknown gender "robot"; accepted: female or male/);
    expect(() => mapLabelRows([{ file: "a.jpg", gender: "f" }, { file: "A.jpg", gender: "male" }], tax, "l.json")).toThrow(InputError);
    expect(() => mapLabelRows([{ file: "a.jpg", gender: "female" }, { file: "A.JPG", gender: "male" }], tax, "l.json")).toThrow(/listed twice/);
    expect(() => mapLabelRows([{ name: "a.jpg", gender: "female" }], tax, "l.json")).toThrow(/no "file" or "filename" column/);
    expect(() => parseJsonLabels('{"file":"a"}', "l.json")).toThrow(/array of objects/);
    expect(() => parseCsv("file,gender\na.jpg\n", "l.csv")).toThrow(/row 2 has 1 fields/);
  });
});

describe("confusion matrix", () => {
  it("counts true x observed with unknown and none columns, and per-group accuracy", () => {
    const cal = genderCal();
    const g = cal.attributes.gender!;
    expect(g.counts).toEqual([
      [50, 40, 10, 0],
      [5, 90, 0, 5],
    ]);
    expect(g.accuracy.value).toBeCloseTo(140 / 200);
    expect(g.recall.female!.value).toBeCloseTo(0.5);
    expect(g.recall.female!.interval[0]).toBeLessThan(0.5);
    expect(g.recall.female!.interval[1]).toBeGreaterThan(0.5);
    expect(g.unknownRate).toBeCloseTo(10 / 200);
    expect(g.detectionRate).toBeCloseTo(195 / 200);
  });

  it("breaks accuracy down by a label column", () => {
    const set = mapLabelRows(
      [
        { file: "a", gender: "female", site: "x" },
        { file: "b", gender: "female", site: "y" },
        { file: "c", gender: "male", site: "x" },
      ],
      tax,
      "l.json",
    );
    const obs = [{ labels: { gender: "female" } }, { labels: { gender: "male" } }, { labels: { gender: "male" } }];
    const a = calibrateAttribute(getAttribute(tax, "gender"), set.images, obs, set.images.map((i) => i.groups));
    expect(a.groups.map((r) => [r.group, r.value, r.n, r.accuracy.value])).toEqual([
      ["site", "x", 2, 1],
      ["site", "y", 1, 0],
    ]);
  });
});

describe("estimator", () => {
  it("EM recovers the true shares from expected observed counts", () => {
    const m = likelihoods(genderCal().attributes.gender!.counts, 0);
    for (const pf of [0.25, 0.5, 0.75]) {
      const observed = m[0]!.map((_, j) => 1000 * (pf * m[0]![j]! + (1 - pf) * m[1]![j]!));
      const est = emEstimate(observed, m);
      expect(est[0]).toBeCloseTo(pf, 4);
    }
  });

  it("corrects a biased raw share, with seeded bootstrap intervals that contain the truth", () => {
    const cal = genderCal();
    const rng = new Rng(7);
    // 400 images, 75 % women, observed through the calibration's own confusion.
    const images = Array.from({ length: 400 }, (_, i) => drawObservation(cal, { gender: i < 300 ? "female" : "male" }, rng));
    const read = images.filter((x) => x.labels?.gender);
    const raw = read.filter((x) => x.labels!.gender === "female").length / read.length;
    const c = correctDistributions(cal, ["gender"], images, 3).gender!;
    expect(Math.abs(c.shares.female! - 0.75)).toBeLessThan(Math.abs(raw - 0.75));
    expect(Math.abs(c.shares.female! - 0.75)).toBeLessThan(0.06);
    const [lo, hi] = c.intervals.female!;
    expect(lo).toBeLessThan(0.75);
    expect(hi).toBeGreaterThan(0.75);
    expect(correctDistributions(cal, ["gender"], images, 3).gender).toEqual(c);
  });

  it("widens the interval when the calibration is small", () => {
    const counts = [
      [50, 40, 10, 0],
      [5, 90, 0, 5],
    ];
    const small = counts.map((r) => r.map((x) => x / 10));
    const observed = [100, 260, 20, 5];
    const big = correctedEstimate(observed, counts, { seed: 1, replicates: 200 });
    const tiny = correctedEstimate(observed, small, { seed: 1, replicates: 200 });
    const width = (e: typeof big): number => e.intervals[0]![1] - e.intervals[0]![0];
    expect(width(tiny)).toBeGreaterThan(width(big));
  });
});

describe("posterior and simulated draws", () => {
  it("an observed male is partly a woman when women are often read as men", () => {
    const cal = genderCal();
    const cells = [["female"], ["male"]];
    const male = cellPosterior(cal, ["gender"], cells, [0.5, 0.5], { labels: { gender: "male" } });
    const female = cellPosterior(cal, ["gender"], cells, [0.5, 0.5], { labels: { gender: "female" } });
    const unknown = cellPosterior(cal, ["gender"], cells, [0.5, 0.5], { labels: { gender: null } });
    expect(male[0]).toBeGreaterThan(0.25);
    expect(male[0]).toBeLessThan(0.4);
    expect(female[0]).toBeGreaterThan(0.85);
    expect(unknown[0]).toBeGreaterThan(0.8);
    expect(male[0]! + male[1]!).toBeCloseTo(1);
  });

  it("draws observations with the calibration's confusion rates", () => {
    const cal = genderCal();
    const rng = new Rng(11);
    const draws = Array.from({ length: 4000 }, () => drawObservation(cal, { gender: "female" }, rng));
    const share = (g: string | null): number => draws.filter((d) => d.labels !== null && d.labels.gender === g).length / draws.length;
    expect(share("female")).toBeCloseTo(0.5, 1);
    expect(share("male")).toBeCloseTo(0.4, 1);
    expect(share(null)).toBeCloseTo(0.1, 1);
  });
});

describe("calibration file", () => {
  it("round-trips through JSON and refuses another observer or taxonomy", () => {
    const cal = genderCal();
    const back = parseCalibration(JSON.stringify(cal), "cal.json");
    expect(back).toEqual(cal);
    expect(cal.taxonomy.fingerprint).toBe(taxonomyFingerprint(tax));
    expect(checkCalibrationFits(back, "faces", tax, "cal.json")).toEqual([]);
    expect(() => checkCalibrationFits(back, "vlm", tax, "cal.json")).toThrow(/calibrates observer "faces", not "vlm"/);
    const other = builtinTaxonomy();
    getAttribute(other, "gender").categories.push({ id: "nonbinary", label: "Non-binary", phrase: "person", aliases: [] });
    expect(() => checkCalibrationFits(back, "faces", other, "cal.json")).toThrow(/categories/);
    expect(checkCalibrationFits(back, "faces", tax, "cal.json", { minConfidence: 0.5 })[0]).toMatch(/options/);
  });

  it("names what is wrong with a file that is not a calibration", () => {
    expect(() => parseCalibration("{", "cal.json")).toThrow(/not valid JSON/);
    expect(() => parseCalibration('{"format":"other/1"}', "cal.json")).toThrow(/format "other\/1"/);
    const bad = { ...genderCal(), attributes: { gender: { ...genderCal().attributes.gender!, counts: [[1, 2]] } } };
    expect(() => parseCalibration(JSON.stringify(bad), "cal.json")).toThrow(/2 rows of 4 columns/);
  });
});

describe("errors about a file a user named never quote the file (it may be any file on the machine)", () => {
  const secret = "root:x:0:0:TOPSECRET-1234:/root:/bin/bash\n";
  it("a calibration that is not JSON names where it broke, not what it holds", () => {
    const err = (() => {
      try {
        parseCalibration(secret, "/etc/passwd");
      } catch (e) {
        return e as Error;
      }
      throw new Error("parseCalibration accepted a non-JSON file");
    })();
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/^\/etc\/passwd: not valid JSON \((at line \d+, column \d+|unexpected end or character)\)$/);
    expect(err.message).not.toContain("TOPSECRET");
  });
  it("a JSON labels file that is not JSON does not quote it either", () => {
    expect(() => parseJsonLabels(secret, "labels.json")).toThrow(/^labels\.json: not valid JSON \((at line \d+, column \d+|unexpected end or character)\)$/);
    expect(() => parseJsonLabels(secret, "labels.json")).not.toThrow(/TOPSECRET/);
  });
});
