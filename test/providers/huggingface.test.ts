import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.js";
import { builtinTaxonomy } from "../../src/core/taxonomy.js";
import { ProviderError } from "../../src/http/index.js";
import { createHuggingFaceProvider, describeHfError, huggingfaceProvider, isHfSafetyError } from "../../src/providers/huggingface.js";
import type { ProviderContext } from "../../src/providers/index.js";
import type { HttpOverrides } from "../../src/http/index.js";
import { destroy, hang, json, startFakeServer, tinyPng, type Answer, type FakeServer } from "./fake-server.js";

const KEY = "hf_testDISTINCTIVEaBcDeFgHiJkLmN";
const PNG_BYTES = tinyPng();
const tax = builtinTaxonomy();
const MODEL = "black-forest-labs/FLUX.1-schnell";

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

function ctxFor(options: Record<string, unknown>, env: NodeJS.ProcessEnv = { HF_TOKEN: KEY }): ProviderContext {
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

/** HF Inference's success: the image bytes. */
const image =
  (bytes: Buffer = PNG_BYTES, type = "image/png", headers: Record<string, string> = {}): Answer =>
  (res) =>
    void res.writeHead(200, { "content-type": type, ...headers }).end(bytes);
const loading = (estimated = 20.5): Answer => json(503, { error: `Model ${MODEL} is currently loading`, estimated_time: estimated });

async function make(answers: Answer | Answer[], options: Record<string, unknown> = {}, waits: number[] = [], model = MODEL) {
  server = await startFakeServer(answers);
  const provider = createHuggingFaceProvider(model, ctxFor({ baseUrl: `${server.url}/hf-inference/models`, ...options }), fastHttp(waits));
  return { provider, server };
}

describe("huggingface provider: requests and answers", () => {
  it("a model id: POST {base}/{model} with the exact body; returns the image bytes", async () => {
    const { provider, server } = await make(image(PNG_BYTES, "image/png", { "x-compute-time": "1.234", "x-compute-type": "gpu" }), {
      parameters: { num_inference_steps: 4, guidance_scale: 0, width: 512, height: 512 },
    });
    expect(provider.id).toBe(`huggingface:${MODEL}`);
    const r = await provider.generate({ prompt: "a photo of a doctor", seed: 7 });

    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/hf-inference/models/black-forest-labs/FLUX.1-schnell");
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers.accept).toBe("image/*");
    expect(req.headers["x-wait-for-model"]).toBeUndefined();
    expect(JSON.parse(req.body)).toEqual({ inputs: "a photo of a doctor", parameters: { seed: 7, num_inference_steps: 4, guidance_scale: 0, width: 512, height: 512 } });

    expect(Buffer.from(r.image!)).toEqual(PNG_BYTES);
    expect(r.mime).toBe("image/png");
    expect(r.costUsd).toBeUndefined();
    expect(r.refusal).toBeUndefined();
    expect(r.meta).toEqual({ model: MODEL, computeTime: 1.234, computeType: "gpu" });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/cost of a call is unknown.*priceUsd/);
    const r2 = await provider.generate({ prompt: "p", seed: 8 });
    expect(r2.warnings).toEqual([]);
    expect(JSON.parse(server.requests[1]!.body)).toEqual({ inputs: "p", parameters: { seed: 8, num_inference_steps: 4, guidance_scale: 0, width: 512, height: 512 } });
    expectNoKey(r, r2);
  });

  it("an endpoint URL is posted as given; waitForModel sends x-wait-for-model; priceUsd is the cost", async () => {
    server = await startFakeServer(image());
    const provider = createHuggingFaceProvider(`${server.url}/custom/path`, ctxFor({ waitForModel: true, priceUsd: 0.002 }), fastHttp([]));
    expect(provider.id).toBe(`huggingface:${server.url}/custom/path`);
    const r = await provider.generate({ prompt: "p", seed: 3 });
    const req = server.requests[0]!;
    expect(req).toMatchObject({ method: "POST", url: "/custom/path" });
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.headers["x-wait-for-model"]).toBe("true");
    expect(JSON.parse(req.body)).toEqual({ inputs: "p", parameters: { seed: 3 } });
    expect(r.costUsd).toBe(0.002);
    expect(r.warnings).toEqual([]);
    expect(r.meta).toEqual({ endpoint: `${server.url}/custom/path` });
  });

  it("a JPEG answer keeps its type", async () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1]);
    const { provider } = await make(image(jpeg, "image/jpeg"));
    expect((await provider.generate({ prompt: "p", seed: 1 })).mime).toBe("image/jpeg");
  });
});

describe("huggingface provider: retries, refusals and failures", () => {
  it("503 model loading, then the image (retried with backoff)", async () => {
    const waits: number[] = [];
    const { provider, server } = await make([loading(), loading(), image()], {}, waits);
    const r = await provider.generate({ prompt: "p", seed: 1 });
    expect(Buffer.from(r.image!)).toEqual(PNG_BYTES);
    expect(server.hits()).toBe(3);
    expect(waits).toEqual([50, 100]);
    expect(server.requests[2]!.body).toBe(server.requests[0]!.body);
  });

  it("a model that stays loading fails with a hint", async () => {
    const { provider } = await make(loading(), { retries: 1 });
    const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).status).toBe(503);
    expect((err as Error).message).toMatch(/currently loading.*gave up after 2 tries.*waitForModel: true/);
  });

  it("429 with Retry-After: waits as told, then succeeds", async () => {
    const waits: number[] = [];
    const { provider, server } = await make([json(429, { error: "Rate limit reached. You reached free usage limit (reset hourly)." }, { "retry-after": "3" }), image()], {}, waits);
    expect((await provider.generate({ prompt: "p", seed: 1 })).image).toBeDefined();
    expect(server.hits()).toBe(2);
    expect(waits).toEqual([3000]);
  });

  it("500 then success", async () => {
    const waits: number[] = [];
    const { provider, server } = await make([json(500, { error: "CUDA error: an illegal memory access was encountered" }), image()], {}, waits);
    expect((await provider.generate({ prompt: "p", seed: 1 })).image).toBeDefined();
    expect(server.hits()).toBe(2);
    expect(waits).toEqual([50]);
  });

  it("a 400 about NSFW / unsafe content is a refusal, not retried", async () => {
    for (const error of ["Potential NSFW content was detected in one or more images. A black image will be returned instead.", "The prompt was flagged as unsafe"]) {
      const { provider, server } = await make(json(400, { error }));
      const r = await provider.generate({ prompt: "p", seed: 1 });
      expect(r.refusal).toBe(error);
      expect(r.image).toBeUndefined();
      expect(r.meta).toEqual({ model: MODEL });
      expect(server.hits()).toBe(1);
      await server.close();
    }
  });

  it("another 4xx throws HF's message", async () => {
    const { provider, server } = await make(json(400, { error: ["Input validation error: `inputs` must be a non-empty string"], error_type: "validation" }));
    const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toBe(`huggingface:${MODEL}: HTTP 400: Input validation error: \`inputs\` must be a non-empty string (validation)`);
    expect(server.hits()).toBe(1);
  });

  it("401 and 404 say what to check", async () => {
    let { provider } = await make(json(401, { error: "Invalid credentials in Authorization header" }));
    await expect(provider.generate({ prompt: "p", seed: 1 })).rejects.toThrow(/HTTP 401: Invalid credentials.*check HF_TOKEN/);
    await server!.close();
    ({ provider } = await make(json(404, { error: "Model not found" })));
    await expect(provider.generate({ prompt: "p", seed: 1 })).rejects.toThrow(/HTTP 404: Model not found.*Inference Endpoint/);
  });

  it("malformed answers are ProviderErrors: JSON on 200, a non-image type, bytes that are no image", async () => {
    const cases: Answer[] = [
      json(200, [{ generated_text: "a photo of a doctor, smiling" }]),
      (res: ServerResponse) => void res.writeHead(200, { "content-type": "text/html" }).end("<html>gateway</html>"),
      (res: ServerResponse) => void res.writeHead(200).end(PNG_BYTES),
      image(Buffer.from("hello, not an image")),
      image(Buffer.alloc(0)),
    ];
    for (const answer of cases) {
      const { provider } = await make(answer);
      const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as Error).message).toMatch(new RegExp(`^huggingface:${MODEL.replace(".", "\\.")}: `));
      expectNoKey(err);
      await server!.close();
      server = undefined;
    }
  });

  it("a server that never answers times out", async () => {
    const { provider, server } = await make(hang, { timeoutMs: 100, retries: 1 });
    const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/no answer within 100 ms \(gave up after 2 tries\)/);
    expect(server.hits()).toBe(2);
  });

  it("a server that drops the connection fails after the retries", async () => {
    const { provider, server } = await make(destroy, { retries: 2 });
    const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/connection failed .*gave up after 3 tries/);
    expect(server.hits()).toBe(3);
  });

  it("error helpers", () => {
    expect(describeHfError('{"error":["a","b"]}')).toBe("a; b");
    expect(describeHfError("plain text")).toBe("plain text");
    expect(isHfSafetyError("NSFW content detected")).toBe(true);
    expect(isHfSafetyError("Model is overloaded")).toBe(false);
  });
});

describe("huggingface provider: configuration", () => {
  it("a missing key is an InputError at create() naming HF_TOKEN", () => {
    expect(() => huggingfaceProvider.create(MODEL, ctxFor({}, {}))).toThrow(InputError);
    expect(() => huggingfaceProvider.create(MODEL, ctxFor({}, { HF_TOKEN: "" }))).toThrow(/HF_TOKEN/);
  });

  it("bad models, options and URLs are InputErrors", () => {
    expect(() => huggingfaceProvider.create(undefined, ctxFor({}))).toThrow(/needs a model id or an endpoint URL/);
    expect(() => huggingfaceProvider.create("a b", ctxFor({}))).toThrow(InputError);
    expect(() => huggingfaceProvider.create("ftp://host/x", ctxFor({}))).toThrow(InputError);
    expect(() => huggingfaceProvider.create("https://user:pw@host/x", ctxFor({}))).toThrow(/no credentials/);
    expect(() => huggingfaceProvider.create("https://host/x", ctxFor({ baseUrl: "https://other" }))).toThrow(/baseUrl applies to a model id/);
    expect(() => huggingfaceProvider.create(MODEL, ctxFor({ steps: 4 }))).toThrow(/unknown providerOptions "steps"; accepted: parameters, waitForModel, .*priceUsd/);
    expect(() => huggingfaceProvider.create(MODEL, ctxFor({ baseUrl: "nope" }))).toThrow(InputError);
    expect(() => huggingfaceProvider.create(MODEL, ctxFor({ parameters: { seed: 1 } }))).toThrow(/parameters.seed is not allowed/);
    expect(() => huggingfaceProvider.create(MODEL, ctxFor({ waitForModel: "yes" }))).toThrow(/providerOptions.waitForModel/);
  });

  it("the default base is the HF router", () => {
    const p = createHuggingFaceProvider(MODEL, ctxFor({}));
    expect(p.id).toBe(`huggingface:${MODEL}`);
    expect((p as unknown as { url: URL }).url.href).toBe("https://router.huggingface.co/hf-inference/models/black-forest-labs/FLUX.1-schnell");
  });

  it("the key is in no result, warning or error of any kind", async () => {
    const seen: unknown[] = [];
    const answers: Answer[] = [
      image(),
      json(400, { error: `NSFW content detected for ${KEY}` }),
      json(401, { error: `Invalid token ${KEY}` }),
      json(200, { echo: KEY }),
      json(503, { error: `overloaded ${KEY} is currently loading`, estimated_time: 1 }),
      (res: ServerResponse) => void res.writeHead(200, { "content-type": "text/plain" }).end(`garbage ${KEY}`),
    ];
    for (const answer of answers) {
      const { provider } = await make(answer, { retries: 0 });
      seen.push(provider);
      try {
        seen.push(await provider.generate({ prompt: "p", seed: 1 }));
      } catch (e) {
        seen.push(e);
      }
      await server!.close();
      server = undefined;
    }
    expect(seen.filter((x) => x instanceof ProviderError)).toHaveLength(4);
    for (const x of seen) expectNoKey(x);
  });
});
