import { afterEach, describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.js";
import { builtinTaxonomy } from "../../src/core/taxonomy.js";
import { ProviderError } from "../../src/http/index.js";
import type { ProviderContext } from "../../src/providers/index.js";
import { createOpenAIProvider, openaiProvider } from "../../src/providers/openai.js";
import { openaiImagePrice } from "../../src/providers/openai-prices.js";
import type { HttpOverrides } from "../../src/http/index.js";
import { destroy, dropMidBody, hang, json, openaiError, startFakeServer, tinyPng, type FakeServer } from "./fake-server.js";

const KEY = "sk-test-DISTINCTIVE-9f8e7d6c5b4a";
const PNG_BYTES = tinyPng();
const B64 = PNG_BYTES.toString("base64");
const tax = builtinTaxonomy();

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Everything a test saw (results, errors, warnings): the key must appear in none of it. */
function expectNoKey(...things: unknown[]): void {
  for (const t of things) {
    const text = t instanceof Error ? `${t.name} ${t.message} ${t.stack ?? ""}` : JSON.stringify(t);
    expect(text).not.toContain(KEY);
    expect(text).not.toContain("DISTINCTIVE");
  }
}

function ctxFor(options: Record<string, unknown>, env: NodeJS.ProcessEnv = { OPENAI_API_KEY: KEY }): ProviderContext {
  return { taxonomy: tax, sim: {} as ProviderContext["sim"], options, env };
}

function fastHttp(waits: number[]): HttpOverrides {
  return { retry: { baseDelayMs: 100, maxDelayMs: 10_000 }, sleep: async (ms) => void waits.push(ms), random: () => 0.5 };
}

async function make(model: string | undefined, answers: Parameters<typeof startFakeServer>[0], options: Record<string, unknown> = {}, waits: number[] = []) {
  server = await startFakeServer(answers);
  const provider = createOpenAIProvider(model, ctxFor({ baseUrl: `${server.url}/v1`, ...options }), fastHttp(waits));
  return { provider, server };
}

const caught = (p: Promise<unknown>): Promise<unknown> => p.then(
  () => {
    throw new Error("expected a rejection");
  },
  (e: unknown) => e,
);

describe("openai provider: requests and answers", () => {
  it("gpt-image-1: sends the exact request and returns the image, cost and meta", async () => {
    const usage = { input_tokens: 12, output_tokens: 1056, total_tokens: 1068, input_tokens_details: { text_tokens: 12, image_tokens: 0 } };
    const { provider, server } = await make(undefined, json(200, { created: 1713833628, data: [{ b64_json: B64 }], size: "1024x1024", quality: "medium", output_format: "png", background: "opaque", usage }));
    expect(provider.id).toBe("openai:gpt-image-1");
    const r = await provider.generate({ prompt: "a photo of a doctor", seed: 7 });

    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/v1/images/generations");
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({ model: "gpt-image-1", prompt: "a photo of a doctor", n: 1, size: "1024x1024", quality: "medium" });

    expect(Buffer.from(r.image!)).toEqual(PNG_BYTES);
    expect(r.mime).toBe("image/png");
    expect(r.costUsd).toBe(0.042);
    expect(r.refusal).toBeUndefined();
    expect(r.revisedPrompt).toBeUndefined();
    expect(r.meta).toEqual({ model: "gpt-image-1", size: "1024x1024", quality: "medium", usage });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/takes no seed/);

    // The seed warning is said once, not on every image.
    const r2 = await provider.generate({ prompt: "a photo of a nurse", seed: 8 });
    expect(r2.warnings).toEqual([]);
    expectNoKey(r, r2);
  });

  it("gpt-image-1-mini with quality and size options; auto quality is priced from what the answer says", async () => {
    const { provider, server } = await make("gpt-image-1-mini", json(200, { data: [{ b64_json: B64 }], quality: "high", size: "1536x1024" }), { quality: "auto", size: "auto" });
    const r = await provider.generate({ prompt: "p", seed: 1 });
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ model: "gpt-image-1-mini", prompt: "p", n: 1, size: "auto", quality: "auto" });
    expect(r.costUsd).toBe(0.052);
    expect(r.meta).toMatchObject({ model: "gpt-image-1-mini", size: "1536x1024", quality: "high" });
    expect(r.warnings.some((w) => /dearest/.test(w))).toBe(true);
  });

  it("dall-e-3: asks for b64_json and keeps revised_prompt", async () => {
    const revised = "A photo of a Black woman in her 40s working as a doctor, in a bright hospital corridor.";
    const { provider, server } = await make("dall-e-3", json(200, { created: 1, data: [{ revised_prompt: revised, b64_json: B64 }] }), { size: "1792x1024", quality: "hd", style: "natural" });
    const r = await provider.generate({ prompt: "a photo of a doctor", seed: 1 });
    expect(JSON.parse(server.requests[0]!.body)).toEqual({
      model: "dall-e-3",
      prompt: "a photo of a doctor",
      n: 1,
      size: "1792x1024",
      quality: "hd",
      response_format: "b64_json",
      style: "natural",
    });
    expect(r.revisedPrompt).toBe(revised);
    expect(r.costUsd).toBe(0.12);
    expect(r.meta).toEqual({ model: "dall-e-3", size: "1792x1024", quality: "hd" });
    expect(Buffer.from(r.image!)).toEqual(PNG_BYTES);
  });

  it("dall-e-2: no quality in the body; a quality option is a warning", async () => {
    const { provider, server } = await make("dall-e-2", json(200, { created: 1, data: [{ b64_json: B64 }] }), { size: "512x512", quality: "hd" });
    const r = await provider.generate({ prompt: "p", seed: 1 });
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ model: "dall-e-2", prompt: "p", n: 1, size: "512x512", response_format: "b64_json" });
    expect(r.costUsd).toBe(0.018);
    expect(r.warnings.some((w) => /dall-e-2 has no quality setting/.test(w))).toBe(true);
    expect(r.warnings.some((w) => /takes no seed/.test(w))).toBe(true);
  });

  it("priceUsd overrides the table", async () => {
    const { provider } = await make("gpt-image-1", json(200, { data: [{ b64_json: B64 }] }), { priceUsd: 0.5 });
    expect((await provider.generate({ prompt: "p", seed: 1 })).costUsd).toBe(0.5);
  });

  it("an unknown model is sent like gpt-image-1, without a price (and says so)", async () => {
    const { provider, server } = await make("my-proxy-model", json(200, { data: [{ b64_json: B64 }] }));
    const r = await provider.generate({ prompt: "p", seed: 1 });
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ model: "my-proxy-model", prompt: "p", n: 1, size: "1024x1024", quality: "medium" });
    expect(r.costUsd).toBeUndefined();
    expect(r.warnings.some((w) => /no list price known/.test(w))).toBe(true);
  });

  it("check() asks GET /models/MODEL with the key", async () => {
    server = await startFakeServer(json(200, { id: "dall-e-3", object: "model", created: 1, owned_by: "system" }));
    const msg = await openaiProvider.check!("dall-e-3", ctxFor({ baseUrl: `${server.url}/v1` }));
    expect(server.requests[0]).toMatchObject({ method: "GET", url: "/v1/models/dall-e-3" });
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(msg).toMatch(/dall-e-3.*owned by system/);
  });
});

describe("openai provider: retries, refusals and failures", () => {
  it("429 with Retry-After: waits as told, then succeeds", async () => {
    const waits: number[] = [];
    const { provider, server } = await make(
      "gpt-image-1",
      [openaiError(429, "Rate limit reached for images per minute", "requests", "rate_limit_exceeded", { "retry-after": "2" }), json(200, { data: [{ b64_json: B64 }] })],
      {},
      waits,
    );
    const r = await provider.generate({ prompt: "p", seed: 1 });
    expect(r.image).toBeDefined();
    expect(server.hits()).toBe(2);
    expect(waits).toEqual([2000]);
    expect(server.requests[1]!.body).toBe(server.requests[0]!.body);
  });

  it("500 then success: backs off and retries", async () => {
    const waits: number[] = [];
    const { provider, server } = await make("gpt-image-1", [openaiError(500, "The server had an error while processing your request.", "server_error", null), json(200, { data: [{ b64_json: B64 }] })], {}, waits);
    const r = await provider.generate({ prompt: "p", seed: 1 });
    expect(r.image).toBeDefined();
    expect(server.hits()).toBe(2);
    expect(waits).toEqual([50]);
  });

  it("dall-e content_policy_violation is a refusal, not an error", async () => {
    const message = "Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.";
    const { provider, server } = await make("dall-e-3", openaiError(400, message, "invalid_request_error", "content_policy_violation"));
    const r = await provider.generate({ prompt: "p", seed: 1 });
    expect(r.refusal).toBe(message);
    expect(r.image).toBeUndefined();
    expect(server.hits()).toBe(1);
    expect(r.meta).toMatchObject({ model: "dall-e-3" });
    expect(r.warnings.some((w) => /takes no seed/.test(w))).toBe(true);
  });

  it("gpt-image moderation_blocked is a refusal", async () => {
    const message = "Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID req_123.";
    const { provider } = await make("gpt-image-1", openaiError(400, message, "image_generation_user_error", "moderation_blocked"));
    expect((await provider.generate({ prompt: "p", seed: 1 })).refusal).toBe(message);
  });

  it("another 4xx throws the API's message, redacted, without retrying", async () => {
    const { provider, server } = await make("gpt-image-1", openaiError(401, `Incorrect API key provided: ${KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`, "invalid_request_error", "invalid_api_key"));
    const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).status).toBe(401);
    expect((err as Error).message).toMatch(/^openai:gpt-image-1: HTTP 401: Incorrect API key provided: \*\*\*\. .*\(invalid_request_error, invalid_api_key\)$/);
    expect(server.hits()).toBe(1);
    expectNoKey(err);
  });

  it("a 400 that is not a refusal throws", async () => {
    const { provider } = await make("dall-e-3", openaiError(400, "Invalid size '999x999'.", "invalid_request_error", "invalid_value"));
    const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toContain("Invalid size '999x999'.");
  });

  it("malformed bodies are ProviderErrors", async () => {
    const cases = [
      (res: import("node:http").ServerResponse) => void res.writeHead(200, { "content-type": "application/json" }).end("{not json"),
      json(200, { data: [] }),
      json(200, { data: [{}] }),
      json(200, { data: [{ url: "https://example.com/img.png" }] }),
      json(200, { data: [{ b64_json: Buffer.from("hello, not an image").toString("base64") }] }),
      json(200, { result: "ok" }),
    ];
    for (const answer of cases) {
      const { provider } = await make("gpt-image-1", answer);
      const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as Error).message).toMatch(/^openai:gpt-image-1: /);
      expectNoKey(err);
      await server!.close();
      server = undefined;
    }
  });

  it("a server that never answers times out", async () => {
    const { provider, server } = await make("gpt-image-1", hang, { timeoutMs: 100, retries: 1 });
    const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/no answer within 100 ms \(gave up after 2 tries\)/);
    expect(server.hits()).toBe(2);
  });

  it("a server that drops the connection fails after the retries", async () => {
    const { provider, server } = await make("gpt-image-1", destroy, { retries: 2 });
    const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/connection failed .*gave up after 3 tries/);
    expect(server.hits()).toBe(3);
  });

  it("a dropped connection then success", async () => {
    const { provider, server } = await make("gpt-image-1", [destroy, json(200, { data: [{ b64_json: B64 }] })]);
    expect((await provider.generate({ prompt: "p", seed: 1 })).image).toBeDefined();
    expect(server.hits()).toBe(2);
  });

  it("a connection dropped in the middle of the image's body is retried, and the image of the next try is returned whole", async () => {
    const body = JSON.stringify({ data: [{ b64_json: B64 }] });
    const waits: number[] = [];
    const { provider, server } = await make("gpt-image-1", [dropMidBody(200, body, 20), json(200, { data: [{ b64_json: B64 }] })], {}, waits);
    const r = await provider.generate({ prompt: "p", seed: 1 });
    expect(Buffer.from(r.image!).equals(PNG_BYTES)).toBe(true);
    expect(server.hits()).toBe(2);
    expect(waits).toHaveLength(1);
  });

  it("waits as long as OpenAI's retry-after-ms says on a 429", async () => {
    const waits: number[] = [];
    const { provider } = await make("gpt-image-1", [openaiError(429, "Rate limit reached", "requests", "rate_limit_exceeded", { "retry-after-ms": "2500" }), json(200, { data: [{ b64_json: B64 }] })], {}, waits);
    expect((await provider.generate({ prompt: "p", seed: 1 })).image).toBeDefined();
    expect(waits).toEqual([2500]);
  });
});

describe("openai provider: configuration", () => {
  it("a missing key is an InputError at create() naming OPENAI_API_KEY", () => {
    expect(() => openaiProvider.create("gpt-image-1", ctxFor({}, {}))).toThrow(InputError);
    expect(() => openaiProvider.create("gpt-image-1", ctxFor({}, { OPENAI_API_KEY: "  " }))).toThrow(/OPENAI_API_KEY/);
  });

  it("an unknown option is an InputError naming it and the accepted ones", () => {
    expect(() => openaiProvider.create("dall-e-3", ctxFor({ steps: 30 }))).toThrow(InputError);
    expect(() => openaiProvider.create("dall-e-3", ctxFor({ steps: 30 }))).toThrow(/unknown providerOptions "steps"; accepted: size, quality, .*priceUsd/);
  });

  it("a size or quality the model does not take is an InputError", () => {
    expect(() => openaiProvider.create("dall-e-3", ctxFor({ size: "1536x1024" }))).toThrow(/size "1536x1024" is not accepted by dall-e-3; accepted: 1024x1024, 1792x1024 or 1024x1792/);
    expect(() => openaiProvider.create("gpt-image-1", ctxFor({ quality: "hd" }))).toThrow(/quality "hd" is not accepted/);
    expect(() => openaiProvider.create("gpt-image-1", ctxFor({ timeoutMs: "fast" }))).toThrow(/providerOptions.timeoutMs/);
    expect(() => openaiProvider.create("gpt-image-1", ctxFor({ baseUrl: "ftp://x" }))).toThrow(InputError);
  });

  it("the base URL: providerOptions.baseUrl, else OPENAI_BASE_URL, else api.openai.com", async () => {
    server = await startFakeServer(json(200, { data: [{ b64_json: B64 }] }));
    const viaEnv = openaiProvider.create("gpt-image-1", ctxFor({}, { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: `${server.url}/proxy/v1/` }));
    await viaEnv.generate({ prompt: "p", seed: 1 });
    expect(server.requests[0]!.url).toBe("/proxy/v1/images/generations");
    const viaOption = openaiProvider.create("gpt-image-1", ctxFor({ baseUrl: `${server.url}/opt` }, { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: "http://127.0.0.1:1/never" }));
    await viaOption.generate({ prompt: "p", seed: 1 });
    expect(server.requests[1]!.url).toBe("/opt/images/generations");
  });

  it("the price table", () => {
    expect(openaiImagePrice("dall-e-3", "standard", "1024x1024")).toEqual({ usd: 0.04, upperBound: false });
    expect(openaiImagePrice("gpt-image-1-2025-04-15", "high", "1024x1536")).toEqual({ usd: 0.25, upperBound: false });
    expect(openaiImagePrice("gpt-image-1", "auto", "1024x1024")).toEqual({ usd: 0.167, upperBound: true });
    expect(openaiImagePrice("nope", "low", "1024x1024")).toBeUndefined();
  });

  it("the key is in no result, warning or error of any kind", async () => {
    const seen: unknown[] = [];
    const answers = [
      json(200, { data: [{ b64_json: B64, revised_prompt: `echo ${KEY}` }] }),
      openaiError(400, `Your request was rejected as a result of our safety system (key ${KEY})`, "invalid_request_error", "content_policy_violation"),
      openaiError(403, `key ${KEY} has no access`, "invalid_request_error", null),
      (res: import("node:http").ServerResponse) => void res.writeHead(200).end(`garbage ${KEY}`),
      openaiError(503, `overloaded ${KEY}`, "server_error", null),
    ];
    for (const answer of answers) {
      const { provider } = await make("dall-e-3", answer, { retries: 0 });
      seen.push(provider);
      try {
        seen.push(await provider.generate({ prompt: "p", seed: 1 }));
      } catch (e) {
        seen.push(e);
      }
      await server!.close();
      server = undefined;
    }
    expect(seen.filter((x) => x instanceof ProviderError)).toHaveLength(3);
    for (const x of seen) expectNoKey(x);
  });
});
