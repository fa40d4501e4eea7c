import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiAttempt } from "../../src/server/api-types.js";
import { dashboard, tempDir, type Client } from "./helpers.js";

describe("dashboard: only real images of the run's images folder are served as images", () => {
  let c: Client;
  let id: string;
  let image: string;
  let runDir: string;

  beforeAll(async () => {
    c = await dashboard(tempDir());
    const res = await c.post("/api/runs", { prompt: "a nurse", n: 2, attributes: ["gender"], seed: 5, concurrency: 1, sim: { imageFiles: true } });
    id = ((await res.json()) as { id: string }).id;
    await c.d.manager.settled(id);
    const attempts = ((await (await c.get(`/api/runs/${id}/attempts`)).json()) as { attempts: ApiAttempt[] }).attempts;
    image = attempts.find((a) => a.image)!.image!.replace(/^images\//, "");
    runDir = join(c.d.manager.runsDir, id);
    // Links inside the run folder: to run.json and events.jsonl (inside the run, outside images/), and to another image.
    symlinkSync(join(runDir, "run.json"), join(runDir, "images", "record.png"));
    symlinkSync("../events.jsonl", join(runDir, "images", "events.jpg"));
    symlinkSync(join(runDir, "images", image), join(runDir, "images", "alias.png"));
    // A file in images/ that is not an image whatever its name says, and a folder named like one.
    writeFileSync(join(runDir, "images", "notes.png"), JSON.stringify({ secret: "not an image" }));
    mkdirSync(join(runDir, "images", "dir.png"));
  });
  afterAll(async () => {
    await c.d.close();
  });

  it("refuses a link to run.json or events.jsonl, a non-image with an image's name and a folder, for images and thumbnails", async () => {
    for (const name of ["record.png", "events.jpg", "notes.png", "dir.png"]) {
      for (const route of ["images", "thumbs"]) {
        const res = await c.get(`/api/runs/${id}/${route}/${name}`);
        // A link out of images/ is no file of it (404); a file of images/ that is no image is 415.
        expect(res.status, `${route}/${name}`).toBe(name.startsWith("record") || name.startsWith("events") ? 404 : 415);
        const body = await res.text();
        expect(body).not.toMatch(/"config"|"taxonomy"|"type":"attempt"|not an image"/);
      }
    }
  });

  it("serves the run's images with the type their bytes say, also through a link to another image of the run", async () => {
    for (const name of [image, "alias.png"]) {
      const res = await c.get(`/api/runs/${id}/images/${name}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/png");
    }
    // A PNG saved under a .jpg name is answered as what it is.
    const { readFileSync } = await import("node:fs");
    writeFileSync(join(runDir, "images", "renamed.jpg"), readFileSync(join(runDir, "images", image)));
    const res = await c.get(`/api/runs/${id}/images/renamed.jpg`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
  });
});
