import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.js";
import { builtinTaxonomy } from "../../src/core/taxonomy.js";
import { ProviderError } from "../../src/http/index.js";
import type { ProviderContext } from "../../src/providers/index.js";
import type { HttpOverrides } from "../../src/http/index.js";
import { createStabilityProvider, readStabilityError, stabilityProvider, StabilityProvider } from "../../src/providers/stability.js";
import { stabilityPriceUsd } from "../../src/providers/stability-prices.js";
import { destroy, hang, json, startFakeServer, tinyPng, type Answer, type FakeServer, type RecordedRequest } from "./fake-server.js";

const KEY = "sk-testDISTINCTIVE0123456789abcdef";
const PNG_BYTES = tinyPng();
const tax = builtinTaxonomy();

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function expectNoKey(...things: unknown[]): void {
  for (const t of things) {
    const text = t instanceof Error ? `${t.name} ${t.message} ${t.stack ?? ""}` : JSON.stringify(t);
    expect(text).not.toContain(KEY);
    expect(text).not.toContain("DISTINCTIVE");
  }
}

function ctxFor(options: Record<string, unknown>, env: NodeJS.ProcessEnv = { STABILITY_API_KEY: KEY }): ProviderContext {
  return { taxonomy: tax, sim: {} as ProviderContext["sim"], options, env };
}

function fastHttp(waits: number[]): HttpOverrides {
  return { retry: { baseDelayMs: 100, maxDelayMs: 10_000 }, sleep: async (ms) => void waits.push(ms), random: () => 0.5 };
}

const caught = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );

/** The multipart fields of a recorded request, parsed as a server would. */
async function formFields(req: RecordedRequest): Promise<Record<string, string>> {
  const ct = req.headers["content-type"];
  expect(ct).toMatch(/^multipart\/form-data; boundary=/);
  const form = await new Request("http://fake/", { method: "POST", headers: { "content-type": ct! }, body: req.body }).formData();
  const out: Record<string, string> = {};
  for (const [k, v] of form.entries()) {
    expect(typeof v).toBe("string");
    expect(k in out).toBe(false);
    out[k] = v as string;
  }
  return out;
}

/** Stability's success: the image bytes with finish-reason and seed headers. */
const image =
  (seed: number, finish = "SUCCESS", bytes: Buffer = PNG_BYTES, type = "image/png"): Answer =>
  (res) =>
    void res.writeHead(200, { "content-type": type, "finish-reason": finish, seed: String(seed), "x-request-id": "req-abc" }).end(bytes);
/** Stability's error body. */
const apiError = (status: number, name: string, errors: string[], headers: Record<string, string> = {}): Answer => json(status, { id: "6f1d8ef1c8a2c4e3b7a9d0e2f3a4b5c6", name, errors }, headers);

async function make(model: string | undefined, answers: Answer | Answer[], options: Record<string, unknown> = {}, waits: number[] = []) {
  server = await startFakeServer(answers);
  const provider = createStabilityProvider(model, ctxFor({ baseUrl: server.url, ...options }), fastHttp(waits));
  return { provider, server };
}

describe("stability provider: requests and answers", () => {
  it("core: the exact multipart request; image, seed, cost", async () => {
    const { provider, server } = await make("core", image(7));
    expect(provider.id).toBe("stability:core");
    const r = await provider.generate({ prompt: "a photo of a doctor", seed: 7 });

    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/v2beta/stable-image/generate/core");
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.headers.accept).toBe("image/*");
    expect(await formFields(req)).toEqual({ prompt: "a photo of a doctor", seed: "7", output_format: "png", aspect_ratio: "1:1" });

    expect(Buffer.from(r.image!)).toEqual(PNG_BYTES);
    expect(r.mime).toBe("image/png");
    expect(r.costUsd).toBe(0.03);
    expect(r.refusal).toBeUndefined();
    expect(r.warnings).toEqual([]);
    expect(r.meta).toEqual({ service: "core", requestId: "req-abc", finishReason: "SUCCESS", seedUsed: 7 });
    expectNoKey(r);
  });

  it("sd3 sends the model (default sd3.5-large) and the other options", async () => {
    const { provider, server } = await make("sd3", image(42), { aspect_ratio: "16:9", negative_prompt: "blurry", output_format: "jpeg" });
    expect(provider.id).toBe("stability:sd3.5-large");
    const r = await provider.generate({ prompt: "p", seed: 42 });
    expect(server.requests[0]!.url).toBe("/v2beta/stable-image/generate/sd3");
    expect(await formFields(server.requests[0]!)).toEqual({ prompt: "p", seed: "42", output_format: "jpeg", aspect_ratio: "16:9", negative_prompt: "blurry", model: "sd3.5-large" });
    expect(r.costUsd).toBe(0.065);
    expect(r.meta).toMatchObject({ service: "sd3", model: "sd3.5-large" });
  });

  it("stability:sd3.5-medium is the sd3 endpoint with that model; ultra with style_preset warns", async () => {
    const { provider, server } = await make("sd3.5-medium", image(1));
    await provider.generate({ prompt: "p", seed: 1 });
    expect(server.requests[0]!.url).toBe("/v2beta/stable-image/generate/sd3");
    expect((await formFields(server.requests[0]!)).model).toBe("sd3.5-medium");
    expect(provider.priceUsd).toBe(0.035);
    await server.close();

    const ultra = await make("ultra", image(1), { style_preset: "photographic" });
    const r = await ultra.provider.generate({ prompt: "p", seed: 1 });
    expect(ultra.server.requests[0]!.url).toBe("/v2beta/stable-image/generate/ultra");
    expect(await formFields(ultra.server.requests[0]!)).toEqual({ prompt: "p", seed: "1", output_format: "png", aspect_ratio: "1:1", style_preset: "photographic" });
    expect(r.costUsd).toBe(0.08);
    expect(r.warnings).toEqual(["stability:ultra: Stable Image Ultra takes no style_preset; it is sent anyway and may be ignored"]);
  });

  it("priceUsd overrides the credit table; a seed other than asked is a warning", async () => {
    const { provider } = await make("core", image(99), { priceUsd: 0.5 });
    const r = await provider.generate({ prompt: "p", seed: 5 });
    expect(r.costUsd).toBe(0.5);
    expect(r.meta.seedUsed).toBe(99);
    expect(r.warnings).toEqual(["stability:core: asked for seed 5, Stability used 99"]);
  });

  it("the largest 32-bit seed wraps into Stability's range", async () => {
    const { provider, server } = await make("core", image(0));
    await provider.generate({ prompt: "p", seed: 4_294_967_295 });
    expect((await formFields(server.requests[0]!)).seed).toBe("0");
    expect(StabilityProvider.seedFor(4_294_967_294)).toBe(4_294_967_294);
  });

  it("check() asks GET /v1/user/balance", async () => {
    server = await startFakeServer(json(200, { credits: 123.5 }));
    const msg = await stabilityProvider.check!("core", ctxFor({ baseUrl: server.url }));
    expect(server.requests[0]).toMatchObject({ method: "GET", url: "/v1/user/balance" });
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(msg).toMatch(/123.5 credits left/);
  });

  it("the price table (credits x $0.01)", () => {
    expect(stabilityPriceUsd("core")).toBe(0.03);
    expect(stabilityPriceUsd("ultra")).toBe(0.08);
    expect(stabilityPriceUsd("sd3")).toBe(0.065);
    expect(stabilityPriceUsd("sd3", "sd3.5-large-turbo")).toBe(0.04);
    expect(stabilityPriceUsd("sd3", "sd3.9-future")).toBeUndefined();
  });
});

describe("stability provider: refusals, retries and failures", () => {
  it("finish-reason CONTENT_FILTERED is a refusal (the blurred image is dropped)", async () => {
    const { provider } = await make("core", image(3, "CONTENT_FILTERED"));
    const r = await provider.generate({ prompt: "p", seed: 3 });
    expect(r.refusal).toBe("content filtered");
    expect(r.image).toBeUndefined();
    expect(r.costUsd).toBe(0.03);
    expect(r.meta).toMatchObject({ finishReason: "CONTENT_FILTERED", seedUsed: 3 });
  });

  it("403 content_moderation is a refusal, not charged, not retried", async () => {
    const message = "Your request was flagged by our content moderation system, as a result your request was denied and you were not charged.";
    const { provider, server } = await make("ultra", apiError(403, "content_moderation", [message]));
    const r = await provider.generate({ prompt: "p", seed: 1 });
    expect(r.refusal).toBe(message);
    expect(r.costUsd).toBe(0);
    expect(r.image).toBeUndefined();
    expect(r.meta).toMatchObject({ service: "ultra", moderation: "content_moderation" });
    expect(server.hits()).toBe(1);
  });

  it("other 4xx throw the errors, not retried", async () => {
    const { provider, server } = await make("sd3", apiError(400, "bad_request", ["prompt: cannot be empty", "aspect_ratio: must be one of 16:9, 1:1"]));
    const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).status).toBe(400);
    expect((err as Error).message).toBe("stability:sd3.5-large: HTTP 400 bad_request: prompt: cannot be empty; aspect_ratio: must be one of 16:9, 1:1");
    expect(server.hits()).toBe(1);
    await server.close();

    const { provider: p2 } = await make("core", apiError(402, "payment_required", ["You lack sufficient credits to make this request."]));
    await expect(p2.generate({ prompt: "p", seed: 1 })).rejects.toThrow(/HTTP 402 payment_required: You lack sufficient credits.*buy more/);
    await server.close();
    const { provider: p3 } = await make("core", apiError(401, "unauthorized", ["missing authorization header"]));
    await expect(p3.generate({ prompt: "p", seed: 1 })).rejects.toThrow(/HTTP 401 unauthorized: .*check STABILITY_API_KEY/);
  });

  it("429 with Retry-After: waits as told, then succeeds (the same form again)", async () => {
    const waits: number[] = [];
    const { provider, server } = await make(
      "core",
      [apiError(429, "rate_limit_exceeded", ["You have exceeded the rate limit of 150 requests within a 10 second period."], { "retry-after": "10" }), image(1)],
      {},
      waits,
    );
    expect((await provider.generate({ prompt: "p", seed: 1 })).image).toBeDefined();
    expect(server.hits()).toBe(2);
    expect(waits).toEqual([10_000]);
    expect(await formFields(server.requests[1]!)).toEqual(await formFields(server.requests[0]!));
  });

  it("500 then success", async () => {
    const waits: number[] = [];
    const { provider, server } = await make("core", [apiError(500, "internal_error", ["An unexpected server error has occurred."]), image(1)], {}, waits);
    expect((await provider.generate({ prompt: "p", seed: 1 })).image).toBeDefined();
    expect(server.hits()).toBe(2);
    expect(waits).toEqual([50]);
  });

  it("malformed answers are ProviderErrors", async () => {
    const cases: Answer[] = [
      json(200, { image: PNG_BYTES.toString("base64"), finish_reason: "SUCCESS", seed: 1 }),
      (res: ServerResponse) => void res.writeHead(200, { "content-type": "text/html" }).end("<html>cdn</html>"),
      image(1, "SUCCESS", Buffer.from("hello, not an image")),
      (res: ServerResponse) => void res.writeHead(400, { "content-type": "application/json" }).end("{not json"),
    ];
    for (const answer of cases) {
      const { provider } = await make("core", answer);
      const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as Error).message).toMatch(/^stability:core: /);
      expectNoKey(err);
      await server!.close();
      server = undefined;
    }
  });

  it("a server that never answers times out", async () => {
    const { provider, server } = await make("core", hang, { timeoutMs: 100, retries: 1 });
    const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/no answer within 100 ms \(gave up after 2 tries\)/);
    expect(server.hits()).toBe(2);
  });

  it("a server that drops the connection fails after the retries", async () => {
    const { provider, server } = await make("core", destroy, { retries: 2 });
    const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/connection failed .*gave up after 3 tries/);
    expect(server.hits()).toBe(3);
  });

  it("readStabilityError", () => {
    expect(readStabilityError('{"name":"x","errors":["a","b"]}')).toEqual({ name: "x", message: "a; b" });
    expect(readStabilityError("oops")).toEqual({ message: "oops" });
  });
});

describe("stability provider: configuration", () => {
  it("a missing key is an InputError at create() naming STABILITY_API_KEY", () => {
    expect(() => stabilityProvider.create("core", ctxFor({}, {}))).toThrow(InputError);
    expect(() => stabilityProvider.create("core", ctxFor({}, {}))).toThrow(/STABILITY_API_KEY/);
  });

  it("bad models, options and URLs are InputErrors", () => {
    expect(stabilityProvider.create(undefined, ctxFor({})).id).toBe("stability:core");
    expect(() => stabilityProvider.create("sdxl", ctxFor({}))).toThrow(/unknown model "sdxl"; accepted: core, ultra, sd3 or an sd3 model name/);
    expect(() => stabilityProvider.create("core", ctxFor({ steps: 30 }))).toThrow(/unknown providerOptions "steps"; accepted: model, aspect_ratio, .*priceUsd/);
    expect(() => stabilityProvider.create("core", ctxFor({ model: "sd3.5-medium" }))).toThrow(/model applies to sd3 only/);
    expect(() => stabilityProvider.create("sd3", ctxFor({ output_format: "webp" }))).toThrow(/webp/);
    expect(() => stabilityProvider.create("sd3", ctxFor({ aspect_ratio: "7:3" }))).toThrow(/providerOptions.aspect_ratio/);
    expect(() => stabilityProvider.create("sd3.5-medium", ctxFor({ model: "sd3.5-large" }))).toThrow(/contradicts/);
    expect(() => stabilityProvider.create("core", ctxFor({ baseUrl: "ftp://x" }))).toThrow(InputError);
  });

  it("an sd3 model without a known price warns once", async () => {
    const { provider } = await make("sd3", [image(1)], { model: "sd3.9-future" });
    const r = await provider.generate({ prompt: "p", seed: 1 });
    expect(r.costUsd).toBeUndefined();
    expect(r.warnings).toEqual(["stability:sd3.9-future: no price known for sd3.9-future; costUsd is not set (give providerOptions.priceUsd)"]);
    expect((await provider.generate({ prompt: "p", seed: 1 })).warnings).toEqual([]);
  });

  it("the key is in no result, warning or error of any kind", async () => {
    const seen: unknown[] = [];
    const answers: Answer[] = [
      image(1),
      image(1, "CONTENT_FILTERED"),
      apiError(403, "content_moderation", [`flagged (${KEY})`]),
      apiError(401, "unauthorized", [`bad key ${KEY}`]),
      apiError(500, "internal_error", [`boom ${KEY}`]),
      (res: ServerResponse) => void res.writeHead(200, { "content-type": "application/json" }).end(`{"key":"${KEY}"}`),
    ];
    for (const answer of answers) {
      const { provider } = await make("core", answer, { retries: 0 });
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
