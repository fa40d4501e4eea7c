import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.js";
import { decodeImage } from "../../src/image/decode.js";
import { drawingName, drawingSpec, drawPng, isDrawing, resultImage, resultPixels } from "../../src/image/drawing.js";
import { renderPortrait, renderPortraitRGBA, type PortraitSpec } from "../../src/image/portrait.js";
import { hasRunImage, readRunImage, runImageFile } from "../../src/store/images.js";
import { cli, tempDir } from "../cli/helpers.js";
import { dashboard } from "../server/helpers.js";

const GENDERS = ["female", "male", "neutral"];
const AGES = ["18-29", "30-44", "45-64", "65+"];
const BODIES = ["slim", "average", "athletic", "plus_size"];

/** Seeded specs over every field, written the many ways a model's report can spell them. */
function specs(count: number): PortraitSpec[] {
  const rng = new Rng(2026);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)]!;
  return Array.from({ length: count }, () => ({
    skinTone: 1 + Math.floor(rng.next() * 10),
    seed: Math.floor(rng.next() * 0x100000000),
    ...(rng.next() < 0.9 ? { gender: pick(["female", "male", "woman", "Man", "non_binary", "cant_tell"]) } : {}),
    ...(rng.next() < 0.9 ? { age: pick([...AGES, "unknown"]) } : {}),
    ...(rng.next() < 0.9 ? { bodyType: pick([...BODIES, "plus-size", "Plus Size", "stocky"]) } : {}),
  }));
}

describe("drawings: a portrait named, drawn when looked at", () => {
  it("a name draws exactly the portrait of its spec, however the spec spelled its fields", () => {
    for (const spec of specs(400)) {
      const name = drawingName(spec);
      expect(isDrawing(name)).toBe(true);
      expect(isDrawing(`images/${name}`)).toBe(true);
      expect(Buffer.from(drawPng(name)!).equals(Buffer.from(renderPortrait(spec)))).toBe(true);
      expect(drawingName(drawingSpec(name)!)).toBe(name);
    }
  });

  it("the bytes of every name are pinned: a renderer change must not redraw old runs differently", () => {
    // If this fails, the renderer's pixels changed: old run folders name their portraits and would be drawn
    // differently. Keep the old drawing under its version (portrait-v1) and give the new one a new version.
    const h = createHash("sha256");
    let k = 0;
    for (const gender of GENDERS) for (const age of AGES) for (const bodyType of BODIES) for (let skinTone = 1; skinTone <= 10; skinTone++) {
      const name = drawingName({ gender, age, bodyType, skinTone, seed: (k++ * 2654435761) >>> 0 });
      h.update(name);
      h.update(drawPng(name)!);
    }
    expect(k).toBe(480);
    expect(h.digest("hex")).toBe("bdce0b9d87b008b2eae3e3b6dcfdeec1560ac18280836e9ea072c95a9a62c85b");
  });

  it("refuses what is not a drawing name: wrong fields, a seed past 32 bits, paths", () => {
    const good = drawingName({ gender: "female", age: "18-29", bodyType: "slim", skinTone: 4, seed: 7 });
    expect(good).toBe("portrait-v1_female_young_slim_monk4_7.png");
    for (const bad of [
      "portrait-v1_female_young_slim_monk11_7.png",
      "portrait-v1_female_young_slim_monk0_7.png",
      "portrait-v1_woman_young_slim_monk4_7.png",
      "portrait-v1_female_young_slim_monk4_4294967296.png",
      "portrait-v2_female_young_slim_monk4_7.png",
      "portrait-v1_female_young_slim_monk4_7.jpg",
      "../portrait-v1_female_young_slim_monk4_7.png",
      "Portrait-v1_female_young_slim_monk4_7.png",
    ]) {
      expect(drawingSpec(bad), bad).toBeUndefined();
      expect(drawPng(bad), bad).toBeUndefined();
    }
    expect(drawingSpec("portrait-v1_female_young_slim_monk4_4294967295.png")?.seed).toBe(4294967295);
    expect(() => drawingName({ skinTone: 11, seed: 1 })).toThrow(RangeError);
  });

  it("observers get the pixels straight from the rasteriser, equal to the PNG decoded", async () => {
    for (const spec of specs(30)) {
      const drawing = drawingName(spec);
      const direct = await resultPixels({ drawing });
      const decoded = await decodeImage(renderPortrait(spec));
      expect(direct!.width).toBe(decoded.width);
      expect(direct!.height).toBe(decoded.height);
      expect(Buffer.from(direct!.data).equals(Buffer.from(decoded.data))).toBe(true);
      expect(Buffer.from(direct!.data).equals(Buffer.from(renderPortraitRGBA(spec).data))).toBe(true);
    }
    // Bytes win over a drawing; nothing at all is no image.
    const bytes = renderPortrait({ skinTone: 2, seed: 1 });
    expect(resultImage({ image: bytes, mime: "image/png", drawing: drawingName({ skinTone: 9, seed: 2 }) })!.bytes).toBe(bytes);
    expect(resultImage({})).toBeUndefined();
    expect(await resultPixels({})).toBeUndefined();
  });

  it("a sim run writes no image file, and every image it names reads as the file --image-files writes", async () => {
    const args = ["a photo of the face of a CEO", "--joint", "race,gender", "--n", "14", "--seed", "8", "--concurrency", "2", "--json", "--no-progress"];
    const a = await cli("run", ...args, "--out", tempDir());
    const b = await cli("run", ...args, "--out", tempDir(), "--image-files");
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    const dirA = (JSON.parse(a.stdout) as { runDir: string }).runDir;
    const dirB = (JSON.parse(b.stdout) as { runDir: string }).runDir;
    expect(readdirSync(join(dirA, "images"))).toEqual([]);
    expect(readdirSync(join(dirB, "images")).length).toBeGreaterThan(0);
    const attempts = (dir: string): { i: number; image?: string; decision: string }[] =>
      readFileSync(join(dir, "events.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { type: string; i: number; image?: string; decision: string })
        .filter((e) => e.type === "attempt");
    const drawn = attempts(dirA);
    const files = new Map(attempts(dirB).map((e) => [e.i, e]));
    expect(drawn.length).toBe(files.size);
    for (const e of drawn) {
      const f = files.get(e.i)!;
      expect(e.decision).toBe(f.decision);
      expect(isDrawing(e.image!)).toBe(true);
      expect(isDrawing(f.image!)).toBe(false);
      expect(hasRunImage(dirA, e.image!)).toBe(true);
      expect(Buffer.from(readRunImage(dirA, e.image!)!.bytes).equals(readFileSync(join(dirB, f.image!)))).toBe(true);
    }
    // The file is drawn into images/ the first time a reader needs a file, and then read as any file.
    const first = drawn[0]!.image!;
    const path = runImageFile(dirA, first)!;
    expect(path).toBe(join(dirA, first));
    expect(readFileSync(path).equals(Buffer.from(drawPng(first)!))).toBe(true);
    expect(runImageFile(dirA, "images/nothing.png")).toBeUndefined();
    expect(readRunImage(dirA, "../run.json")).toBeUndefined();
    // show, check and audit see a whole set (a drawing is never missing).
    const shown = await cli("show", dirA);
    expect(shown.code).toBe(0);
    // The table says where a drawn run's images are (its images/ is empty); a run of image files has nothing to say.
    expect(shown.stdout).toContain("images: 14 kept portraits, drawn when looked at");
    expect((await cli("show", dirB)).stdout).not.toContain("drawn when looked at");
    expect((JSON.parse(a.stdout) as { keptDrawn?: number }).keptDrawn).toBe(14);
    expect((JSON.parse(b.stdout) as { keptDrawn?: number }).keptDrawn).toBeUndefined();
    const audit = await cli("audit", dirA, "--observer", "skin-tone", "--json");
    expect(audit.code, audit.stderr).toBe(0);
    const audited = JSON.parse(audit.stdout) as { unreadable: unknown[]; images: number; kept: number };
    expect(audited.unreadable).toEqual([]);
    expect(audited.kept).toBe(14); // every kept drawing measured, none unreadable
  });

  it("the dashboard serves a drawing without writing it; the HTML report draws the images it links, and only those", async () => {
    const out = tempDir();
    const r = await cli("run", "a photo of the face of a nurse", "--attributes", "gender", "--n", "70", "--seed", "3", "--concurrency", "4", "--out", out, "--json", "--no-progress");
    const dir = (JSON.parse(r.stdout) as { runDir: string }).runDir;
    const named = readFileSync(join(dir, "events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { image?: string }).image)
      .filter((x): x is string => x !== undefined);
    expect(named.length).toBeGreaterThanOrEqual(70); // more than the gallery shows of one run (60 kept)
    expect(named.every((rel) => !existsSync(join(dir, rel)))).toBe(true);

    const c = await dashboard(out);
    try {
      const id = dir.slice(out.length + 1);
      const rel = named[0]!;
      for (const route of ["images", "thumbs"]) {
        const res = await c.get(`/api/runs/${id}/${route}/${rel.slice("images/".length)}`);
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toBe("image/png");
        expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(drawPng(rel)!))).toBe(true);
      }
      expect(existsSync(join(dir, rel))).toBe(false);
      expect((await c.get(`/api/runs/${id}/images/portrait-v1_female_young_slim_monk11_7.png`)).status).toBe(404);
    } finally {
      await c.d.close();
    }

    const rep = await cli("report", dir);
    expect(rep.code, rep.stderr).toBe(0);
    const html = readFileSync(join(dir, "report.html"), "utf8");
    const linked = new Set([...html.matchAll(/href="(images\/portrait-v1_[^"]+\.png)"/g)].map((m) => m[1]!));
    expect(linked.size).toBeGreaterThan(0);
    expect(linked.size).toBeLessThan(named.length);
    for (const rel of named) expect(existsSync(join(dir, rel)), rel).toBe(linked.has(rel));
  });
});
