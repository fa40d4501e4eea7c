import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.js";
import { builtinTaxonomy } from "../../src/core/taxonomy.js";
import { ProviderError } from "../../src/http/index.js";
import type { ProviderContext } from "../../src/providers/index.js";
import type { HttpOverrides } from "../../src/http/index.js";
import { createReplicateProvider, isReplicateSafetyFailure, replicateProvider } from "../../src/providers/replicate.js";
import { destroy, hang, json, startFakeServer, tinyPng, type Answer, type FakeServer, type RecordedRequest } from "./fake-server.js";

const KEY = "r8_test_DISTINCTIVE_4b3a2f1e0d";
const PNG_BYTES = tinyPng();
const tax = builtinTaxonomy();
const MODEL = "black-forest-labs/flux-schnell";
const VERSION = "5599ed30703defd1d160a25a63321b4dec97101d98b4674bcc56e41f62f35637";

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(answers: Answer | Answer[]): Promise<FakeServer> {
  const s = await startFakeServer(answers);
  servers.push(s);
  return s;
}

function expectNoKey(...things: unknown[]): void {
  for (const t of things) {
    const text = t instanceof Error ? `${t.name} ${t.message} ${t.stack ?? ""}` : JSON.stringify(t);
    expect(text).not.toContain(KEY);
    expect(text).not.toContain("DISTINCTIVE");
  }
}

function ctxFor(options: Record<string, unknown>, env: NodeJS.ProcessEnv = { REPLICATE_API_TOKEN: KEY }): ProviderContext {
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

/** A prediction object as Replicate returns it; `urls` point at the server that answers. */
function prediction(req: RecordedRequest, status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const host = `http://${req.headers.host}`;
  return {
    id: "gm3qorzdhgbfurvjtvhg6dckhu",
    model: MODEL,
    version: "hidden",
    input: { prompt: "p", seed: 1 },
    logs: "",
    output: null,
    data_removed: false,
    error: null,
    status,
    created_at: "2024-11-20T10:00:00.000Z",
    urls: {
      cancel: `${host}/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu/cancel`,
      get: `${host}/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu`,
      stream: "https://stream.replicate.com/v1/files/abc",
      web: "https://replicate.com/p/gm3qorzdhgbfurvjtvhg6dckhu",
    },
    ...extra,
  };
}

const pred =
  (status: string, extra: (req: RecordedRequest) => Record<string, unknown> = () => ({}), code = 201): Answer =>
  (res, req) =>
    json(code, prediction(req, status, extra(req)))(res, req);

const outputHere = (req: RecordedRequest): string => `http://${req.headers.host}/files/out-0.png`;
const succeeded = (code = 201): Answer => pred("succeeded", (req) => ({ output: [outputHere(req)], logs: "Using seed: 7\nrunning", metrics: { predict_time: 0.61 } }), code);
const pngFile: Answer = (res) => void res.writeHead(200, { "content-type": "image/png" }).end(PNG_BYTES);
/** Replicate's problem-details error body. */
const problem = (status: number, title: string, detail: string, headers: Record<string, string> = {}): Answer => json(status, { title, detail, status }, headers);

async function make(answers: Answer | Answer[], options: Record<string, unknown> = {}, waits: number[] = [], model = MODEL) {
  const server = await serve(answers);
  const provider = createReplicateProvider(model, ctxFor({ baseUrl: `${server.url}/v1`, ...options }), fastHttp(waits));
  return { provider, server };
}

describe("replicate provider: requests and answers", () => {
  it("owner/model with Prefer: wait: one create, then the download with the key (same host)", async () => {
    const { provider, server } = await make([succeeded(), pngFile, succeeded(), pngFile], { input: { aspect_ratio: "1:1", num_outputs: 1 } });
    expect(provider.id).toBe(`replicate:${MODEL}`);
    const r = await provider.generate({ prompt: "a photo of a doctor", seed: 7 });

    expect(server.requests).toHaveLength(2);
    const [create, download] = server.requests as [RecordedRequest, RecordedRequest];
    expect(create.method).toBe("POST");
    expect(create.url).toBe("/v1/models/black-forest-labs/flux-schnell/predictions");
    expect(create.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(create.headers["content-type"]).toBe("application/json");
    expect(create.headers.prefer).toBe("wait=60");
    expect(JSON.parse(create.body)).toEqual({ input: { prompt: "a photo of a doctor", seed: 7, aspect_ratio: "1:1", num_outputs: 1 } });
    expect(download.method).toBe("GET");
    expect(download.url).toBe("/files/out-0.png");
    expect(download.headers.authorization).toBe(`Bearer ${KEY}`);

    expect(Buffer.from(r.image!)).toEqual(PNG_BYTES);
    expect(r.mime).toBe("image/png");
    expect(r.refusal).toBeUndefined();
    expect(r.costUsd).toBeUndefined();
    expect(r.meta).toEqual({ model: MODEL, predictionId: "gm3qorzdhgbfurvjtvhg6dckhu", status: "succeeded", version: "hidden", predictTime: 0.61, seedUsed: 7 });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/price of this model is unknown.*priceUsd/);

    // The unknown-cost warning is said once.
    const r2 = await provider.generate({ prompt: "a photo of a nurse", seed: 7 });
    expect(r2.warnings).toEqual([]);
    expectNoKey(r, r2);
  });

  it("owner/model:version posts /predictions with the version; a download on another host gets no key", async () => {
    const files = await serve(pngFile);
    const { provider, server } = await make(pred("succeeded", () => ({ output: `${files.url}/xezq/abc/out-0.png` }), 200), { priceUsd: 0.003 }, [], `stability-ai/sdxl:${VERSION}`);
    expect(provider.id).toBe(`replicate:stability-ai/sdxl:${VERSION}`);
    const r = await provider.generate({ prompt: "p", seed: 42 });
    const create = server.requests[0]!;
    expect(create.method).toBe("POST");
    expect(create.url).toBe("/v1/predictions");
    expect(JSON.parse(create.body)).toEqual({ version: VERSION, input: { prompt: "p", seed: 42 } });
    expect(server.hits()).toBe(1);
    expect(files.requests).toHaveLength(1);
    expect(files.requests[0]).toMatchObject({ method: "GET", url: "/xezq/abc/out-0.png" });
    expect(files.requests[0]!.headers.authorization).toBeUndefined();
    expect(r.costUsd).toBe(0.003);
    expect(r.warnings).toEqual([]);
    expect(Buffer.from(r.image!)).toEqual(PNG_BYTES);
  });

  it("polls starting -> processing -> succeeded at pollMs, without Prefer when wait is 0", async () => {
    const waits: number[] = [];
    const { provider, server } = await make(
      [pred("starting"), pred("processing", () => ({ logs: "Using seed: 9\n" })), pred("succeeded", (req) => ({ output: [outputHere(req), "http://x/second.png"], logs: "Using seed: 9\n" }), 200), pngFile],
      { wait: 0, pollMs: 250 },
      waits,
    );
    const r = await provider.generate({ prompt: "p", seed: 9 });
    expect(server.requests.map((q) => `${q.method} ${q.url}`)).toEqual([
      "POST /v1/models/black-forest-labs/flux-schnell/predictions",
      "GET /v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu",
      "GET /v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu",
      "GET /files/out-0.png",
    ]);
    expect(server.requests[0]!.headers.prefer).toBeUndefined();
    for (const q of server.requests) expect(q.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(server.requests[1]!.body).toBe("");
    expect(waits).toEqual([250, 250]);
    expect(Buffer.from(r.image!)).toEqual(PNG_BYTES);
    expect(r.meta).toMatchObject({ seedUsed: 9, status: "succeeded" });
  });

  it("a urls.get on another origin is not followed: polls {base}/predictions/{id} instead", async () => {
    const { provider, server } = await make(
      [json(201, { id: "abc123", status: "starting", urls: { get: "https://api.replicate.com/v1/predictions/abc123" } }), (res, req) => json(200, { id: "abc123", status: "succeeded", output: outputHere(req) })(res, req), pngFile],
      { wait: 0 },
    );
    await provider.generate({ prompt: "p", seed: 1 });
    expect(server.requests[1]).toMatchObject({ method: "GET", url: "/v1/predictions/abc123" });
  });

  it("a data: URL output is decoded without a download", async () => {
    const { provider, server } = await make(pred("succeeded", () => ({ output: [`data:image/png;base64,${PNG_BYTES.toString("base64")}`] })));
    const r = await provider.generate({ prompt: "p", seed: 1 });
    expect(server.hits()).toBe(1);
    expect(Buffer.from(r.image!)).toEqual(PNG_BYTES);
  });

  it("the seed the model logs is compared with the one asked for", async () => {
    const { provider } = await make([pred("succeeded", (req) => ({ output: outputHere(req), logs: "Using seed: 1234" })), pngFile], { priceUsd: 0 });
    const r = await provider.generate({ prompt: "p", seed: 5 });
    expect(r.meta.seedUsed).toBe(1234);
    expect(r.warnings).toEqual([`replicate:${MODEL}: asked for seed 5, the model used 1234`]);
  });

  it("check() asks GET /models/owner/name", async () => {
    const server = await serve(json(200, { owner: "black-forest-labs", name: "flux-schnell", latest_version: { id: VERSION } }));
    const msg = await replicateProvider.check!(MODEL, ctxFor({ baseUrl: `${server.url}/v1` }));
    expect(server.requests[0]).toMatchObject({ method: "GET", url: "/v1/models/black-forest-labs/flux-schnell" });
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(msg).toMatch(/flux-schnell.*latest version 5599ed30703d/);
  });
});

describe("replicate provider: failures, refusals, retries", () => {
  it("a prediction failed by the safety checker is a refusal", async () => {
    for (const error of [
      "NSFW content detected. Try running it again, or try a different prompt.",
      "All generated images contained NSFW content. Try running it again with a different prompt.",
      "The input or output was flagged as sensitive. Please try again with different inputs. (E005)",
    ]) {
      const { provider } = await make(pred("failed", () => ({ error })));
      const r = await provider.generate({ prompt: "p", seed: 1 });
      expect(r.refusal).toBe(error);
      expect(r.image).toBeUndefined();
      expect(r.meta).toMatchObject({ predictionId: "gm3qorzdhgbfurvjtvhg6dckhu", status: "failed" });
    }
  });

  it("another failure (after polling) is a ProviderError with Replicate's error text", async () => {
    const { provider, server } = await make([pred("starting"), pred("processing"), pred("failed", () => ({ error: "CUDA out of memory. Tried to allocate 2.00 GiB", logs: "Traceback ..." }), 200)], { wait: 0 });
    const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toBe(`replicate:${MODEL}: prediction gm3qorzdhgbfurvjtvhg6dckhu failed: CUDA out of memory. Tried to allocate 2.00 GiB`);
    expect(server.hits()).toBe(3);
  });

  it("a canceled prediction is a ProviderError", async () => {
    const { provider } = await make(pred("canceled"));
    await expect(provider.generate({ prompt: "p", seed: 1 })).rejects.toThrow(/prediction gm3qorzdhgbfurvjtvhg6dckhu canceled/);
  });

  it("429 with Retry-After: waits as told, then succeeds", async () => {
    const waits: number[] = [];
    const { provider, server } = await make([problem(429, "Request was throttled", "Request was throttled. Expected available in 2 seconds.", { "retry-after": "2" }), succeeded(), pngFile], {}, waits);
    const r = await provider.generate({ prompt: "p", seed: 1 });
    expect(r.image).toBeDefined();
    expect(server.hits()).toBe(3);
    expect(waits).toEqual([2000]);
    expect(server.requests[1]!.body).toBe(server.requests[0]!.body);
  });

  it("500 then success: backs off and retries (also while polling)", async () => {
    const waits: number[] = [];
    const { provider, server } = await make([problem(500, "Internal Server Error", "oops"), pred("starting"), problem(502, "Bad Gateway", ""), succeeded(200), pngFile], { wait: 0, pollMs: 10 }, waits);
    const r = await provider.generate({ prompt: "p", seed: 1 });
    expect(r.image).toBeDefined();
    expect(server.requests.map((q) => q.method)).toEqual(["POST", "POST", "GET", "GET", "GET"]);
    expect(waits).toEqual([50, 10, 50]);
  });

  it("422 input validation is a ProviderError with the detail, not retried", async () => {
    const { provider, server } = await make(
      json(422, { detail: "- input.aspect_ratio: aspect_ratio must be one of the following: \"1:1\", \"16:9\"\n", status: 422, title: "Input validation failed", invalid_fields: [{ type: "enum", field: "input.aspect_ratio" }] }),
      { input: { aspect_ratio: "7:3" } },
    );
    const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).status).toBe(422);
    expect((err as Error).message).toMatch(/HTTP 422 on create prediction: Input validation failed: - input.aspect_ratio: aspect_ratio must be one of/);
    expect(server.hits()).toBe(1);
  });

  it("malformed answers are ProviderErrors", async () => {
    const cases: Answer[][] = [
      [(res) => void res.writeHead(201, { "content-type": "application/json" }).end("{not json")],
      [json(201, { hello: "world" })],
      [pred("succeeded", () => ({ output: null }))],
      [pred("succeeded", () => ({ output: [] }))],
      [pred("succeeded", () => ({ output: "not a url" }))],
      [pred("succeeded", (req) => ({ output: outputHere(req) })), (res) => void res.writeHead(200, { "content-type": "image/png" }).end("hello, not an image")],
      [pred("succeeded", (req) => ({ output: outputHere(req) })), json(404, { detail: "Not found." })],
    ];
    for (const answers of cases) {
      const { provider } = await make(answers);
      const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as Error).message).toMatch(new RegExp(`^replicate:${MODEL}: `));
      expectNoKey(err);
    }
  });

  it("a server that never answers times out", async () => {
    const { provider, server } = await make(hang, { timeoutMs: 100, retries: 1, wait: 0 });
    const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/no answer within 100 ms \(gave up after 2 tries\)/);
    expect(server.hits()).toBe(2);
  });

  it("a prediction that does not end within maxWaitMs is canceled and fails", async () => {
    const server = await serve((res, req) => {
      if (req.url.endsWith("/cancel")) return json(200, prediction(req, "canceled"))(res, req);
      json(req.method === "POST" ? 201 : 200, prediction(req, "processing"))(res, req);
    });
    const provider = createReplicateProvider(MODEL, ctxFor({ baseUrl: `${server.url}/v1`, wait: 0, pollMs: 20, maxWaitMs: 200 }));
    const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/no result within 200 ms \(maxWaitMs\); prediction gm3qorzdhgbfurvjtvhg6dckhu was processing, canceled/);
    const last = server.requests[server.requests.length - 1]!;
    expect(last).toMatchObject({ method: "POST", url: "/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu/cancel" });
    expect(last.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(server.requests.filter((q) => q.method === "GET").length).toBeGreaterThan(1);
  });

  it("the caller's abort stops polling and cancels the prediction", async () => {
    const controller = new AbortController();
    const server = await serve((res, req) => {
      if (req.url.endsWith("/cancel")) return json(200, prediction(req, "canceled"))(res, req);
      if (req.method === "GET") controller.abort(new Error("stopped by the user"));
      json(req.method === "POST" ? 201 : 200, prediction(req, "processing"))(res, req);
    });
    const provider = createReplicateProvider(MODEL, ctxFor({ baseUrl: `${server.url}/v1`, wait: 0, pollMs: 5 }));
    const err = await caught(provider.generate({ prompt: "p", seed: 1, signal: controller.signal }));
    expect((err as Error).message).toMatch(/stopped by the user/);
    await expect.poll(() => server.requests.some((q) => q.url.endsWith("/cancel"))).toBe(true);
  });

  it("a server that drops the connection fails after the retries", async () => {
    const { provider, server } = await make(destroy, { retries: 2 });
    const err = await caught(provider.generate({ prompt: "p", seed: 1 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/connection failed .*gave up after 3 tries/);
    expect(server.hits()).toBe(3);
  });

  it("a dropped connection then success", async () => {
    const { provider, server } = await make([destroy, succeeded(), pngFile]);
    expect((await provider.generate({ prompt: "p", seed: 1 })).image).toBeDefined();
    expect(server.hits()).toBe(3);
  });

  it("safety wording", () => {
    expect(isReplicateSafetyFailure("NSFW content detected")).toBe(true);
    expect(isReplicateSafetyFailure("Prediction interrupted; please retry (code: PA)")).toBe(false);
  });
});

describe("replicate provider: configuration", () => {
  it("a missing key is an InputError at create() naming REPLICATE_API_TOKEN", () => {
    expect(() => replicateProvider.create(MODEL, ctxFor({}, {}))).toThrow(InputError);
    expect(() => replicateProvider.create(MODEL, ctxFor({}, { REPLICATE_API_TOKEN: " " }))).toThrow(/REPLICATE_API_TOKEN/);
  });

  it("bad models, options and URLs are InputErrors", () => {
    expect(() => replicateProvider.create(undefined, ctxFor({}))).toThrow(/needs a model/);
    expect(() => replicateProvider.create("flux-schnell", ctxFor({}))).toThrow(InputError);
    expect(() => replicateProvider.create("a/b:c:d", ctxFor({}))).toThrow(InputError);
    expect(() => replicateProvider.create(MODEL, ctxFor({ steps: 4 }))).toThrow(/unknown providerOptions "steps"; accepted: input, wait, pollMs, .*priceUsd/);
    expect(() => replicateProvider.create(MODEL, ctxFor({ baseUrl: "ftp://x" }))).toThrow(InputError);
    expect(() => replicateProvider.create(MODEL, ctxFor({ baseUrl: "not a url" }))).toThrow(InputError);
    expect(() => replicateProvider.create(MODEL, ctxFor({ input: { prompt: "x" } }))).toThrow(/input.prompt is not allowed/);
    expect(() => replicateProvider.create(MODEL, ctxFor({ input: { seed: 1 } }))).toThrow(InputError);
    expect(() => replicateProvider.create(MODEL, ctxFor({ timeoutMs: 30_000 }))).toThrow(/must be longer than wait/);
    expect(() => replicateProvider.create(MODEL, ctxFor({ wait: 90 }))).toThrow(/providerOptions.wait/);
  });

  it("the key is in no result, warning or error of any kind", async () => {
    const seen: unknown[] = [];
    const cases: Answer[][] = [
      [pred("succeeded", (req) => ({ output: outputHere(req), logs: `token ${KEY}` })), pngFile],
      [pred("failed", () => ({ error: `NSFW content detected (${KEY})` }))],
      [pred("failed", () => ({ error: `bad token ${KEY}` }))],
      [problem(401, "Unauthenticated", `Invalid token ${KEY}`)],
      [(res: ServerResponse) => void res.writeHead(201).end(`garbage ${KEY}`)],
      [problem(503, "Service Unavailable", `overloaded ${KEY}`)],
    ];
    for (const answers of cases) {
      const { provider } = await make(answers, { retries: 0 });
      seen.push(provider);
      try {
        seen.push(await provider.generate({ prompt: "p", seed: 1 }));
      } catch (e) {
        seen.push(e);
      }
    }
    expect(seen.filter((x) => x instanceof ProviderError)).toHaveLength(4);
    for (const x of seen) expectNoKey(x);
  });
});
