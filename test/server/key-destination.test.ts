import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkKeyDestination } from "../../src/http/index.js";
import type { ApiError } from "../../src/server/api-types.js";
import { startDashboard } from "../../src/server/server.js";
import { startFakeServer, tinyPng, type Answer, type FakeServer } from "../providers/fake-server.js";
import { tempDir } from "./helpers.js";

const KEY = "sk-test-SERVERKEY-0123456789abcdef";
const B64 = tinyPng().toString("base64");

/** An OpenAI Images API whose dall-e-3 "revises" the prompt into itself (so self-report reads the request). */
const images: Answer = (res, req) => {
  const prompt = (JSON.parse(req.body) as { prompt: string }).prompt;
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ data: [{ b64_json: B64, revised_prompt: prompt }] }));
};

const settings = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  prompt: "a photo of the face of a nurse",
  n: 2,
  attributes: ["gender"],
  seed: 1,
  concurrency: 1,
  provider: "openai:dall-e-3",
  cache: false,
  ...extra,
});

const sawKey = (s: FakeServer): boolean => s.requests.some((r) => JSON.stringify(r.headers).includes(KEY));

describe("dashboard: the server's API key goes only to the base URL of its environment", () => {
  let trusted: FakeServer;
  let other: FakeServer;
  const saved = { key: process.env.OPENAI_API_KEY, base: process.env.OPENAI_BASE_URL, chat: process.env.CHAT_API_KEY };

  beforeAll(async () => {
    trusted = await startFakeServer(images);
    other = await startFakeServer(images);
    process.env.OPENAI_API_KEY = KEY;
    process.env.OPENAI_BASE_URL = `${trusted.url}/v1`;
    process.env.CHAT_API_KEY = KEY;
  });
  afterEach(() => {
    other.requests.length = 0;
    trusted.requests.length = 0;
  });
  afterAll(async () => {
    for (const [k, v] of [["OPENAI_API_KEY", saved.key], ["OPENAI_BASE_URL", saved.base], ["CHAT_API_KEY", saved.chat]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await trusted.close();
    await other.close();
  });

  it("refuses a run whose providerOptions.baseUrl (or vlm baseUrl) points elsewhere, on that field, and sends nothing there", async () => {
    const d = await startDashboard({ runsDir: tempDir(), experimentsDir: tempDir(), port: 0 });
    try {
      const post = (path: string, body: unknown): Promise<Response> =>
        fetch(`${d.origin}${path}`, { method: "POST", headers: { Authorization: `Bearer ${d.token}`, "Content-Type": "application/json" }, body: JSON.stringify(body) });
      for (const path of ["/api/runs/validate", "/api/runs"]) {
        const res = await post(path, settings({ providerOptions: { baseUrl: `${other.url}/v1` } }));
        const body = (await res.json()) as ApiError & { ok?: boolean };
        expect(res.status, path).toBe(path.endsWith("validate") ? 200 : 400);
        const err = body.errors!.find((e) => e.field === "providerOptions.baseUrl");
        expect(err?.message).toMatch(/would receive OPENAI_API_KEY from the server's environment; the dashboard sends it only to http:\/\/127\.0\.0\.1:\d+\/v1.*--allow-any-base-url/);
        expect(JSON.stringify(body)).not.toContain(KEY);
      }
      const vlm = await post("/api/runs/validate", settings({ provider: "sim", observer: "vlm", observerOptions: { vlm: { baseUrl: `${other.url}/v1` } } }));
      const vlmErr = ((await vlm.json()) as ApiError).errors!;
      expect(vlmErr.map((e) => e.field)).toContain("observerOptions.vlm.baseUrl");
      // An experiment from the dashboard is checked the same way.
      const exp = await post("/api/experiments/validate", { ...settings({ providerOptions: { baseUrl: `${other.url}/v1` } }), prompt: undefined, promptSet: "occupations", limit: 1 });
      expect(((await exp.json()) as ApiError).errors!.map((e) => e.field)).toContain("providerOptions.baseUrl");
      expect(other.hits()).toBe(0);

      // Without a baseUrl, or with the environment's own, the run goes to the trusted server with the key.
      const ok = await post("/api/runs", settings({ providerOptions: { baseUrl: `${trusted.url}/v1/` } }));
      expect(ok.status).toBe(201);
      await d.manager.settled(((await ok.json()) as { id: string }).id);
      expect(trusted.hits()).toBeGreaterThanOrEqual(2);
      expect(sawKey(trusted)).toBe(true);
      expect(other.hits()).toBe(0);
    } finally {
      await d.close();
    }
  });

  it("sends it elsewhere only when the server was started with the opt-in", async () => {
    const d = await startDashboard({ runsDir: tempDir(), experimentsDir: tempDir(), port: 0, allowAnyBaseUrl: true });
    try {
      const res = await fetch(`${d.origin}/api/runs`, {
        method: "POST",
        headers: { Authorization: `Bearer ${d.token}`, "Content-Type": "application/json" },
        body: JSON.stringify(settings({ providerOptions: { baseUrl: `${other.url}/v1` } })),
      });
      expect(res.status).toBe(201);
      await d.manager.settled(((await res.json()) as { id: string }).id);
      expect(other.hits()).toBeGreaterThanOrEqual(2);
      expect(sawKey(other)).toBe(true);
      expect(trusted.hits()).toBe(0);
    } finally {
      await d.close();
    }
  });

  it("checkKeyDestination: only the listed URLs (trailing slash and host case aside), nothing with an empty list, anything with scope any", () => {
    const u = (s: string): URL => new URL(s);
    expect(() => checkKeyDestination("env", "provider x", "K", u("https://API.example.com/v1/"), ["https://api.example.com/v1"], "f")).not.toThrow();
    expect(() => checkKeyDestination("env", "provider x", "K", u("https://api.example.com/v2"), ["https://api.example.com/v1"], "f")).toThrow(/f https:\/\/api\.example\.com would receive K/);
    expect(() => checkKeyDestination("env", "provider a1111", "A1111_AUTH", u("http://gpu:7860"), [], "provider")).toThrow(/none is/);
    expect(() => checkKeyDestination("any", "provider x", "K", u("http://anywhere"), [], "f")).not.toThrow();
    expect(() => checkKeyDestination(undefined, "provider x", "K", u("http://anywhere"), [], "f")).not.toThrow();
  });
});
