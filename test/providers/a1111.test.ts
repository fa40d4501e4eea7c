import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { InputError } from "../../src/core/errors.js";
import { a1111Provider, createA1111 } from "../../src/providers/a1111.js";
import type { HttpOverrides } from "../../src/http/index.js";
import { ProviderError } from "../../src/http/index.js";
import { providerIds, registerProvider } from "../../src/providers/index.js";
import { tempDir } from "../cli/helpers.js";
import { destroy, hang, json, startFakeServer, tinyPng, type Answer, type FakeServer } from "./fake-server.js";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const PNG_B64 = tinyPng().toString("base64");

/** A txt2img answer the way A1111 sends it: `info` is a JSON document in a string. */
function txt2img(seed: number, images: string[] = [PNG_B64]): Answer {
  const info = { prompt: "p", all_prompts: ["p"], seed, all_seeds: [seed], width: 512, height: 512, sampler_name: "DPM++ 2M", cfg_scale: 7, steps: 25, sd_model_name: "v1-5-pruned-emaonly", sd_model_hash: "6ce0161689" };
  return json(200, { images, parameters: {}, info: JSON.stringify(info) });
}

/** Test HTTP settings: no real waiting; the waits are recorded. */
function fast(waits: number[] = [], over: HttpOverrides["retry"] = {}): HttpOverrides {
  return { retry: { baseDelayMs: 10, maxDelayMs: 5_000, ...over }, sleep: async (ms) => void waits.push(ms), random: () => 0.5 };
}

const provider = (url: string, options: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}, http: HttpOverrides = fast()) =>
  createA1111(url, { options, env }, http);

const expectedBody = (seed: number) => ({
  prompt: "a photo of the face of a CEO",
  negative_prompt: "",
  seed,
  steps: 25,
  cfg_scale: 7,
  sampler_name: "DPM++ 2M",
  width: 512,
  height: 512,
  batch_size: 1,
  n_iter: 1,
});

describe("a1111 provider", () => {
  it("posts the exact txt2img request and reads the image and the info string", async () => {
    server = await startFakeServer(txt2img(1234));
    const p = provider(server.url);
    expect(p.id).toBe(`a1111:${server.url}`);
    const r = await p.generate({ prompt: "a photo of the face of a CEO", seed: 1234 });
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/sdapi/v1/txt2img");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers.authorization).toBeUndefined();
    expect(JSON.parse(req.body)).toEqual(expectedBody(1234));
    expect(Buffer.from(r.image!)).toEqual(tinyPng());
    expect(r.mime).toBe("image/png");
    expect(r.costUsd).toBe(0);
    expect(r.refusal).toBeUndefined();
    expect(r.selfReport).toBeUndefined();
    expect(r.warnings).toEqual([]);
    expect(r.meta).toEqual({ seedUsed: 1234, model: "v1-5-pruned-emaonly", sampler: "DPM++ 2M" });
  });

  it("sends the options, keeps a path prefix and warns when the WebUI used another seed", async () => {
    server = await startFakeServer(txt2img(99));
    const p = provider(`${server.url}/sd/`, { steps: 30, cfg_scale: 5.5, sampler: "Euler a", width: 768, height: 640, negative_prompt: "blurry" });
    const r = await p.generate({ prompt: "x", seed: 7 });
    expect(server.requests[0]!.url).toBe("/sd/sdapi/v1/txt2img");
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ prompt: "x", negative_prompt: "blurry", seed: 7, steps: 30, cfg_scale: 5.5, sampler_name: "Euler a", width: 768, height: 640, batch_size: 1, n_iter: 1 });
    expect(r.meta.seedUsed).toBe(99);
    expect(r.warnings.join("\n")).toContain("asked for seed 7, the WebUI used 99");
    expect(r.warnings.join("\n")).toContain("asked for 768x640, the WebUI made 512x512");
  });

  it("retries a 500 and then succeeds", async () => {
    server = await startFakeServer([json(500, { error: "RuntimeError", detail: "", body: "", errors: "boom" }), txt2img(5)]);
    const waits: number[] = [];
    const r = await provider(server.url, {}, {}, fast(waits)).generate({ prompt: "a photo of the face of a CEO", seed: 5 });
    expect(r.image).toBeDefined();
    expect(server.hits()).toBe(2);
    expect(waits).toEqual([5]); // random 0.5 x baseDelayMs 10
    expect(JSON.parse(server.requests[1]!.body)).toEqual(expectedBody(5));
  });

  it("honours Retry-After on 429 and then succeeds", async () => {
    server = await startFakeServer([json(429, { detail: "Too Many Requests" }, { "retry-after": "2" }), txt2img(5)]);
    const waits: number[] = [];
    const r = await provider(server.url, {}, {}, fast(waits)).generate({ prompt: "a photo of the face of a CEO", seed: 5 });
    expect(r.mime).toBe("image/png");
    expect(waits).toEqual([2000]);
    expect(server.hits()).toBe(2);
  });

  it("turns a 422 validation error into a ProviderError with the detail, without retrying", async () => {
    server = await startFakeServer(
      json(422, { detail: [{ loc: ["body", "steps"], msg: "value is not a valid integer", type: "type_error.integer" }, { loc: ["body", "width"], msg: "field required", type: "value_error.missing" }] }),
    );
    const err = await provider(server.url).generate({ prompt: "x", seed: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).status).toBe(422);
    expect((err as ProviderError).retryable).toBe(false);
    expect((err as Error).message).toBe(`a1111:${server.url}: HTTP 422 on txt2img: body.steps: value is not a valid integer; body.width: field required`);
    expect(server.hits()).toBe(1);
  });

  it("says to start the WebUI with --api on a 404 Not Found, and passes other 404 details on", async () => {
    server = await startFakeServer([json(404, { detail: "Not Found" }), json(404, { detail: "Sampler not found" })]);
    const p = provider(server.url);
    await expect(p.generate({ prompt: "x", seed: 1 })).rejects.toThrow(/HTTP 404 on txt2img: no API there; start the WebUI with --api/);
    await expect(p.generate({ prompt: "x", seed: 1 })).rejects.toThrow(/HTTP 404 on txt2img: Sampler not found$/);
  });

  it("rejects a malformed body and an answer without an image", async () => {
    server = await startFakeServer([
      (res) => void res.writeHead(200, { "content-type": "application/json" }).end("<html>oops"),
      json(200, { images: [], info: "{}" }),
      json(200, { detail: "nothing" }),
      json(200, { images: ["bm90IGFuIGltYWdl"], info: "{}" }),
    ]);
    const p = provider(server.url);
    await expect(p.generate({ prompt: "x", seed: 1 })).rejects.toThrow(/expected JSON, got "<html>oops"/);
    await expect(p.generate({ prompt: "x", seed: 1 })).rejects.toThrow(/the answer holds no image/);
    await expect(p.generate({ prompt: "x", seed: 1 })).rejects.toThrow(/unexpected answer \(no "images"\)/);
    await expect(p.generate({ prompt: "x", seed: 1 })).rejects.toThrow(/not a PNG, JPEG or WebP/);
  });

  it("keeps the image when the info string is not JSON, with a warning", async () => {
    server = await startFakeServer(json(200, { images: [PNG_B64], info: "not json" }));
    const r = await provider(server.url).generate({ prompt: "x", seed: 1 });
    expect(r.image).toBeDefined();
    expect(r.meta).toEqual({ sampler: "DPM++ 2M" });
    expect(r.warnings).toEqual([`a1111:${server.url}: could not read the "info" of the answer; the seed used is unknown`]);
  });

  it("times out when the server never answers", async () => {
    server = await startFakeServer(hang);
    const err = await provider(server.url, { timeoutMs: 100, retries: 1 }).generate({ prompt: "x", seed: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toBe(`a1111:${server.url}: no answer within 100 ms (gave up after 2 tries)`);
    expect((err as ProviderError).retryable).toBe(true);
    expect(server.hits()).toBe(2);
  });

  it("reports a dropped connection after the retries, and recovers when the next try works", async () => {
    server = await startFakeServer(destroy);
    const err = await provider(server.url, { retries: 1 }).generate({ prompt: "x", seed: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/connection failed \(.+\) \(gave up after 2 tries\)$/);
    await server.close();
    server = await startFakeServer([destroy, txt2img(1)]);
    expect((await provider(server.url, { retries: 1 }).generate({ prompt: "x", seed: 1 })).image).toBeDefined();
  });

  it("sends basic auth from A1111_AUTH and never shows it in an error", async () => {
    const secret = "hunter2-Sup3rSecret";
    const basic = Buffer.from(`alice:${secret}`).toString("base64");
    server = await startFakeServer([txt2img(1), json(401, { detail: `Incorrect credentials alice:${secret}` }), json(500, { error: "E", errors: `token ${basic} / ${secret}` })]);
    const p = provider(server.url, { retries: 0 }, { A1111_AUTH: `alice:${secret}` });
    await p.generate({ prompt: "x", seed: 1 });
    expect(server.requests[0]!.headers.authorization).toBe(`Basic ${basic}`);
    const e401 = (await p.generate({ prompt: "x", seed: 1 }).catch((e: unknown) => e)) as Error;
    expect(e401.message).toMatch(/HTTP 401 on txt2img: authentication failed; set A1111_AUTH=user:pass/);
    const e500 = (await p.generate({ prompt: "x", seed: 1 }).catch((e: unknown) => e)) as Error;
    expect(e500.message).toContain("HTTP 500");
    for (const m of [e401.message, e500.message, p.id]) {
      expect(m).not.toContain(secret);
      expect(m).not.toContain(basic);
    }
  });

  it("turns user:pass in the URL into the Authorization header and keeps it out of the id", async () => {
    server = await startFakeServer(txt2img(1));
    const p = provider(server.url.replace("http://", "http://bob:pw-1234@"));
    expect(p.id).toBe(`a1111:${server.url}`);
    await p.generate({ prompt: "x", seed: 1 });
    expect(server.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from("bob:pw-1234").toString("base64")}`);
  });

  it("throws InputError for a missing or bad URL, a bad option and a malformed A1111_AUTH", () => {
    const create = (model: string | undefined, options: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) => () =>
      a1111Provider.create(model, { taxonomy: undefined as never, sim: {}, options, env });
    expect(create(undefined)).toThrow(InputError);
    expect(create(undefined)).toThrow(/needs the WebUI's URL/);
    expect(create("not a url")).toThrow(InputError);
    expect(create("not a url")).toThrow(/"not a url" is not a valid URL/);
    expect(create("ftp://host:7860")).toThrow(/must start with http/);
    expect(create("http://127.0.0.1:7860", { stepz: 3 })).toThrow(
      'provider a1111: unknown providerOptions "stepz"; accepted: steps, cfg_scale, sampler, width, height, negative_prompt, timeoutMs or retries',
    );
    expect(create("http://127.0.0.1:7860", { steps: "many" })).toThrow(/^provider a1111: providerOptions\.steps: /);
    expect(create("http://127.0.0.1:7860", {}, { A1111_AUTH: "justonesecretword" })).toThrow(/A1111_AUTH must be user:pass/);
    expect(create("http://127.0.0.1:7860", {}, { A1111_AUTH: "justonesecretword" })).not.toThrow(/justonesecretword/);
    expect(a1111Provider.env).toEqual(["A1111_AUTH"]);
  });

  it("checks the server with GET /sdapi/v1/options", async () => {
    server = await startFakeServer(json(200, { sd_model_checkpoint: "v1-5-pruned-emaonly.safetensors [6ce0161689]" }));
    const msg = await a1111Provider.check!(server.url, { taxonomy: undefined as never, sim: {}, options: {}, env: {} });
    expect(msg).toBe(`${server.url} with checkpoint v1-5-pruned-emaonly.safetensors [6ce0161689]`);
    expect(server.requests[0]).toMatchObject({ method: "GET", url: "/sdapi/v1/options" });
  });
});

/** A distinct 2x2 PNG per seed, so the run folder holds one image per kept attempt. */
function pngFor(seed: number): string {
  const png = new PNG({ width: 2, height: 2 });
  for (let i = 0; i < png.data.length; i++) png.data[i] = (seed + i * 37) % 256;
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  return PNG.sync.write(png).toString("base64");
}

describe("a1111 end to end through the CLI", () => {
  it("runs 4 images with the requested observer and writes them to the run folder", async () => {
    if (!providerIds().includes("a1111")) registerProvider("a1111", a1111Provider);
    server = await startFakeServer((res, req) => {
      const body = JSON.parse(req.body) as { seed: number };
      txt2img(body.seed, [pngFor(body.seed)])(res, req);
    });
    const out = tempDir();
    let stdout = "";
    let stderr = "";
    const args = ["run", "a photo of the face of a CEO", "--provider", `a1111:${server.url}`, "--attributes", "gender", "--n", "4", "--observer", "requested", "--out", out, "--json", "--no-progress", "--seed", "1"];
    const code = await main(args, { out: (t) => (stdout += `${t}\n`), err: (t) => (stderr += `${t}\n`) });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const j = JSON.parse(stdout) as { kept: number; status: string; runDir: string; provider: string; attempts: number };
    expect(j.status).toBe("complete");
    expect(j.kept).toBe(4);
    expect(j.provider).toBe(`a1111:${server.url}`);
    expect(j.runDir).toContain(out);
    expect(server.hits()).toBe(j.attempts);
    for (const r of server.requests) {
      expect(r).toMatchObject({ method: "POST", url: "/sdapi/v1/txt2img" });
      const body = JSON.parse(r.body) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(["batch_size", "cfg_scale", "height", "n_iter", "negative_prompt", "prompt", "sampler_name", "seed", "steps", "width"]);
      expect(body.prompt).toMatch(/CEO/);
    }
    const images = readdirSync(join(j.runDir, "images")).filter((f) => f.endsWith(".png"));
    expect(images).toHaveLength(4);
    const events = readFileSync(join(j.runDir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const kept = events.filter((e) => e.decision === "kept");
    expect(kept).toHaveLength(4);
    for (const e of kept) expect(images).toContain(String(e.image).slice("images/".length));
  });
});
