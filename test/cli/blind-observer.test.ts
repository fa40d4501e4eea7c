import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { providerReports } from "../../src/providers/index.js";
import { validateRunRequest } from "../../src/server/validate.js";
import { startFakeServer, tinyPng, type Answer, type FakeServer } from "../providers/fake-server.js";
import { cli, tempDir } from "./helpers.js";

const KEY = "sk-test-BLIND-0123456789";
const B64 = tinyPng().toString("base64");
/** An Images API that returns an image and no revised prompt (as gpt-image-1 does). */
const noReport: Answer = (res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ data: [{ b64_json: B64 }] }));

describe("providers declare whether they report what they drew", () => {
  it("per provider and, for openai, per model", () => {
    expect(providerReports("sim").reports).toBe(true);
    expect(providerReports("chat:llama3.1").reports).toBe(true);
    expect(providerReports("openai").reports).toBe(false);
    expect(providerReports("openai:gpt-image-1-mini").reports).toBe(false);
    expect(providerReports("openai:dall-e-2").reports).toBe(false);
    expect(providerReports("openai:dall-e-3")).toEqual({ reports: true, reportingModel: "openai:dall-e-3" });
    // A model name the registry does not know (a compatible server's): not known, not refused.
    expect(providerReports("openai:my-local-model").reports).toBeUndefined();
    for (const p of ["a1111:http://127.0.0.1:7860", "comfyui:http://127.0.0.1:8188", "replicate:o/m", "huggingface:o/m", "stability:core"]) {
      expect(providerReports(p).reports, p).toBe(false);
    }
  });
});

describe("money is not spent blind", () => {
  let server: FakeServer;
  const saved = { key: process.env.OPENAI_API_KEY, base: process.env.OPENAI_BASE_URL };
  beforeAll(async () => {
    server = await startFakeServer(noReport);
    process.env.OPENAI_API_KEY = KEY;
    process.env.OPENAI_BASE_URL = `${server.url}/v1`;
  });
  afterEach(() => {
    server.requests.length = 0;
  });
  afterAll(async () => {
    for (const [k, v] of [["OPENAI_API_KEY", saved.key], ["OPENAI_BASE_URL", saved.base]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await server.close();
  });

  it("refuses the default openai (gpt-image-1) with the default self-report observer before the first call: exit 2, one line with the fix", async () => {
    const out = tempDir();
    const r = await cli("run", "a photo of the face of a CEO", "--provider", "openai", "--n", "12", "--out", out, "--no-progress");
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/observer self-report reads what the provider reports it drew, and openai reports nothing .*--observer vlm.*--provider openai:dall-e-3.*--provider chat -P image=openai/);
    expect(server.hits()).toBe(0);
    expect(readdirSync(out)).toEqual([]);
  });

  it("refuses it in the dashboard's form on the observer field, and not with an observer that looks at the image", () => {
    const v = validateRunRequest({ prompt: "a judge", n: 4, attributes: ["gender"], provider: "a1111:http://127.0.0.1:7860" }, tempDir());
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.errors.find((e) => e.field === "observer")?.message).toMatch(/a1111:http:\/\/127\.0\.0\.1:7860 reports nothing.*--observer vlm/);
    expect(validateRunRequest({ prompt: "a judge", n: 4, attributes: ["gender"], provider: "a1111:http://127.0.0.1:7860", observer: "requested" }, tempDir()).ok).toBe(true);
  });

  it("a provider whose reports are not known runs, and stops after 10 unlabelled images in a row (exit 1, resumable) instead of spending its budget", async () => {
    const out = tempDir();
    const r = await cli("run", "a photo of the face of a CEO", "--provider", "openai:my-local-model", "--attributes", "gender", "--n", "12", "--concurrency", "1", "--out", out, "--json", "--no-progress");
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout) as { status: string; attempts: number; kept: number };
    expect(summary.status).toBe("observer-errors");
    expect(summary.attempts).toBe(10);
    expect(summary.kept).toBe(0);
    expect(server.hits()).toBe(10);
    const [runDir] = readdirSync(out).filter((f) => !f.startsWith("."));
    const lastLine = readFileSync(join(out, runDir!, "events.jsonl"), "utf8").trim().split("\n").at(-1)!;
    expect(JSON.parse(lastLine)).toMatchObject({ type: "end", reason: "observer-errors" });
    expect(lastLine).toMatch(/labelled none of the last 10 images/);
  });
});
