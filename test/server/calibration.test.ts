import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCalibration } from "../../src/calibration/build.js";
import { mapLabelRows } from "../../src/calibration/labels.js";
import type { Observation } from "../../src/core/request.js";
import { builtinTaxonomy } from "../../src/core/taxonomy.js";
import type { ApiRunDetail } from "../../src/server/api-types.js";
import { dashboard, tempDir, type Client } from "./helpers.js";

/** A gender calibration of an observer that reads men right 90 %, women 50 % (40 % called men). */
function calibrationFile(): string {
  const tax = builtinTaxonomy();
  const rows = [...Array.from({ length: 50 }, (_, i) => ({ file: `f${i}`, gender: "female" })), ...Array.from({ length: 50 }, (_, i) => ({ file: `m${i}`, gender: "male" }))];
  const set = mapLabelRows(rows, tax, "labels.json");
  const read = (g: string | null): Observation => ({ observer: "faces", persons: [{ labels: { gender: g } }] });
  const observations = set.images.map((img, k) => {
    const i = k % 50;
    if (img.truth.gender === "female") return i < 25 ? read("female") : i < 45 ? read("male") : read(null);
    return i < 45 ? read("male") : read("female");
  });
  const cal = buildCalibration({ labels: set, observations, taxonomy: tax, observer: { id: "faces", options: {}, models: [] }, source: "labels.json", folder: "x", rows: 100, domain: "photographs", createdAt: "2026-12-01T00:00:00Z", version: "test" });
  const file = join(tempDir("debiaspi-cal-"), "cal.json");
  writeFileSync(file, JSON.stringify(cal));
  return file;
}

describe("the dashboard takes a calibration (issue 13: the form's calibration field)", () => {
  let c: Client;
  beforeAll(async () => {
    c = await dashboard();
  });
  afterAll(async () => {
    await c.d.close();
  });

  it("names a calibration file that is not there on its field, and starts nothing", async () => {
    const res = await c.post("/api/runs/validate", { prompt: "a nurse", n: 8, attributes: ["gender"], calibration: "/no/such/cal.json" });
    const body = (await res.json()) as { ok: boolean; errors: { field: string; message: string }[] };
    expect(body.ok).toBe(false);
    expect(body.errors).toContainEqual({ field: "calibration", message: expect.stringMatching(/no such file; make one with debiaspi calibrate/) });
  });

  it("runs with a calibration: the summary carries corrected shares beside the raw ones", async () => {
    const res = await c.post("/api/runs", { prompt: "a photo of the face of a nurse", n: 12, attributes: ["gender"], observer: "simulated", calibration: calibrationFile(), steer: "corrected", seed: 4, sim: { render: false } });
    expect(res.status, await res.clone().text()).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await c.d.manager.settled(id);
    const detail = (await (await c.get(`/api/runs/${encodeURIComponent(id)}`)).json()) as ApiRunDetail;
    expect(detail.summary.status).toBe("complete");
    const gender = detail.summary.attributes.gender as unknown as { corrected?: { shares: Record<string, number>; method: string } };
    expect(gender.corrected?.method).toMatch(/EM|maximum likelihood/i);
    const shares = gender.corrected!.shares;
    expect(shares.female! + shares.male!).toBeCloseTo(1, 6);
  });
});
