import { existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiAttempt, ApiError, ApiReport } from "../../src/server/api-types.js";
import { THUMB_SIZE } from "../../src/server/thumbs.js";
import { dashboard, rawGet, tempDir, type Client } from "./helpers.js";

/** A deterministic, photo-like (badly compressible) PNG of the given size. */
function bigPng(width: number, height: number, seed: number): Buffer {
  const png = new PNG({ width, height });
  let s = seed >>> 0;
  for (let k = 0; k < width * height; k++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const x = k % width;
    const y = Math.floor(k / width);
    png.data[k * 4] = (x * 255) / width + (s & 31);
    png.data[k * 4 + 1] = (y * 255) / height + ((s >>> 8) & 31);
    png.data[k * 4 + 2] = ((x + y) * 127) / width + ((s >>> 16) & 31);
    png.data[k * 4 + 3] = 255;
  }
  return PNG.sync.write(png);
}

const HASH_A = "a".repeat(32);
const HASH_B = "b".repeat(32);

describe("dashboard thumbnails", () => {
  let c: Client;
  let id: string;
  let runDir: string;
  let thumbsDir: string;
  let small: string;
  let outside: string;

  beforeAll(async () => {
    c = await dashboard(tempDir());
    const res = await c.post("/api/runs", { prompt: "a photo of the face of a CEO", n: 4, attributes: ["gender"], seed: 3, concurrency: 2, sim: { imageFiles: true } });
    expect(res.status).toBe(201);
    id = ((await res.json()) as { id: string }).id;
    await c.d.manager.settled(id);
    const attempts = ((await (await c.get(`/api/runs/${id}/attempts`)).json()) as { attempts: ApiAttempt[] }).attempts;
    small = attempts.find((a) => a.image)!.image!;
    runDir = join(c.d.manager.runsDir, id);
    thumbsDir = join(runDir, "report-assets", "thumbs");
    // A provider-sized image (1024 x 768) and a second one, put in the run's images folder.
    writeFileSync(join(runDir, "images", `${HASH_A}.png`), bigPng(1024, 768, 1));
    writeFileSync(join(runDir, "images", `${HASH_B}.png`), bigPng(1024, 1024, 2));
    writeFileSync(join(runDir, "images", "notes.txt"), "not an image");
    writeFileSync(join(runDir, "images", "broken.png"), "not a PNG at all");
    outside = tempDir("debiaspi-outside-");
    writeFileSync(join(outside, "secret.png"), bigPng(512, 512, 3));
    symlinkSync(join(outside, "secret.png"), join(runDir, "images", "link.png"));
  });
  afterAll(async () => {
    await c.d.close();
  });

  it("scales a large image to fit the box, keeping its aspect, far lighter than the image, with immutable caching", async () => {
    const full = readFileSync(join(runDir, "images", `${HASH_A}.png`));
    const res = await c.get(`/api/runs/${id}/thumbs/${HASH_A}.png`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(res.headers.get("cache-control")).toMatch(/private.*immutable/);
    const body = Buffer.from(await res.arrayBuffer());
    const meta = await sharp(body).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", THUMB_SIZE, 192]);
    expect(body.length).toBeLessThan(full.length / 20);
    // The full image is still served as it is.
    const original = await c.get(`/api/runs/${id}/images/${HASH_A}.png`);
    expect(Buffer.from(await original.arrayBuffer()).equals(full)).toBe(true);
  });

  it("makes each thumbnail once: cached in the run folder, the next request reads it; revalidation answers 304", async () => {
    const path = `/api/runs/${id}/thumbs/${HASH_B}.png`;
    const first = await c.get(path);
    expect(first.status).toBe(200);
    const cached = join(thumbsDir, `${HASH_B}-${THUMB_SIZE}.jpg`);
    expect(existsSync(cached)).toBe(true);
    const bytes = Buffer.from(await first.arrayBuffer());
    expect(bytes.equals(readFileSync(cached))).toBe(true);
    // Put a marker in the cached file: the second answer must be it, not a fresh thumbnail.
    writeFileSync(cached, Buffer.concat([bytes, Buffer.from("cached")]));
    const second = Buffer.from(await (await c.get(path)).arrayBuffer());
    expect(second.subarray(-6).toString()).toBe("cached");
    writeFileSync(cached, bytes);
    const etag = first.headers.get("etag")!;
    expect(etag).toBeTruthy();
    const revalidated = await c.get(path, { "If-None-Match": etag });
    expect(revalidated.status).toBe(304);
  });

  it("shares the work of requests that arrive together and leaves no temporary file", async () => {
    const png = bigPng(900, 600, 4);
    const name = `${"c".repeat(32)}.png`;
    writeFileSync(join(runDir, "images", name), png);
    const answers = await Promise.all(Array.from({ length: 6 }, () => c.get(`/api/runs/${id}/thumbs/${name}`)));
    const bodies = await Promise.all(answers.map(async (r) => Buffer.from(await r.arrayBuffer())));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    for (const b of bodies) expect(b.equals(bodies[0]!)).toBe(true);
    expect(readdirSync(thumbsDir).filter((f) => f.includes(".tmp"))).toEqual([]);
  });

  it("answers an image that already fits (the sim's portraits) as it is, without copying it", async () => {
    const res = await c.get(`/api/runs/${id}/${small.replace(/^images\//, "thumbs/")}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(runDir, small)))).toBe(true);
    const stem = small.slice("images/".length, -".png".length);
    expect(readdirSync(thumbsDir).some((f) => f.startsWith(stem))).toBe(false);
  });

  it("needs the access token", async () => {
    const res = await fetch(`${c.d.origin}/api/runs/${id}/thumbs/${HASH_A}.png`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as ApiError).error).toMatch(/access token/);
  });

  it("refuses paths that leave the images folder: encoded separators, dot segments, symbolic links", async () => {
    const refused = [
      `/api/runs/${id}/thumbs/..%2Frun.json`,
      `/api/runs/${id}/thumbs/..%2F..%2F..%2Fetc%2Fpasswd`,
      `/api/runs/${id}/thumbs/%2e%2e`,
      `/api/runs/${id}/thumbs/..%5Crun.json`,
      `/api/runs/${id}/thumbs/..%2Freport-assets%2Fthumbs%2F${HASH_A}-${THUMB_SIZE}.jpg`,
      `/api/runs/${id}/thumbs/link.png`,
      `/api/runs/%2e%2e/thumbs/x.png`,
      `/api/runs/..%2F..%2Fetc/thumbs/passwd.png`,
      `/api/runs/${id}/thumbs/run.json`,
    ];
    for (const path of refused) {
      const res = await c.get(path);
      expect([400, 404], path).toContain(res.status);
      expect(((await res.json()) as ApiError).error, path).toBeTruthy();
    }
    for (const path of [`/api/runs/${id}/thumbs/../run.json`, `/api/runs/${id}/thumbs/../../../../etc/passwd`]) {
      expect([400, 401, 404], path).toContain(await rawGet(c.d.origin, path, c.d.token));
    }
    // Nothing was made of the linked file outside the run.
    expect(readdirSync(thumbsDir).some((f) => f.includes("secret") || f.startsWith("link"))).toBe(false);
  });

  it("answers a clean JSON error for a file that is not an image or cannot be decoded, and keeps serving", async () => {
    const text = await c.get(`/api/runs/${id}/thumbs/notes.txt`);
    expect(text.status).toBe(404);
    expect(((await text.json()) as ApiError).error).toMatch(/no image "notes.txt"/);
    const broken = await c.get(`/api/runs/${id}/thumbs/broken.png`);
    expect(broken.status).toBe(415);
    expect(broken.headers.get("content-type")).toMatch(/application\/json/);
    expect(((await broken.json()) as ApiError).error).toMatch(/"broken.png" .* not an image that can be decoded/);
    expect((await c.get(`/api/runs/${id}/thumbs/${HASH_A}.png`)).status).toBe(200);
  });

  it("shows thumbnails in the embedded report's gallery, each linking its full image", async () => {
    const report = (await (await c.get(`/api/runs/${id}/report`)).json()) as ApiReport;
    const tiles = [...report.html.matchAll(/<a class="thumb" href="([^"]+)"><img src="([^"]+)"/g)].map((m) => ({ href: m[1]!, src: m[2]! }));
    expect(tiles.length).toBeGreaterThan(0);
    for (const t of tiles) {
      expect(t.src).toMatch(new RegExp(`^/api/runs/${id}/thumbs/[0-9a-f]+\\.png$`));
      expect(t.href).toBe(t.src.replace("/thumbs/", "/images/"));
    }
    expect((await c.get(tiles[0]!.src)).status).toBe(200);
  });

  it("keeps the thumbnail cache out of the run: its images are still those of its events", async () => {
    expect(statSync(thumbsDir).isDirectory()).toBe(true);
    const detail = (await (await c.get(`/api/runs/${id}`)).json()) as { summary: { kept: number; attempts: number } };
    expect(detail.summary.kept).toBe(4);
    const attempts = ((await (await c.get(`/api/runs/${id}/attempts`)).json()) as { attempts: ApiAttempt[] }).attempts;
    expect(attempts.every((a) => !a.image || a.image.startsWith("images/"))).toBe(true);
  });
});
