import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { InputError } from "../../src/core/errors.js";
import { comfyuiProvider, createComfyUI } from "../../src/providers/comfyui.js";
import { fillWorkflow, loadWorkflow } from "../../src/providers/comfyui-workflow.js";
import type { HttpOverrides } from "../../src/http/index.js";
import { ProviderError } from "../../src/http/index.js";
import { tempDir } from "../cli/helpers.js";
import { json, startFakeServer, tinyPng, type Answer, type FakeServer, type RecordedRequest } from "./fake-server.js";

const WORKFLOW = fileURLToPath(new URL("../fixtures/comfyui-workflow.json", import.meta.url));
const PROMPT_ID = "6f1c1b4e-3f0a-4c52-9d8e-0a1b2c3d4e5f";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** ComfyUI's routes: POST /prompt, GET /history/{id} (scripted per poll), GET /view. */
function comfy(history: unknown[], prompt: Answer = json(200, { prompt_id: PROMPT_ID, number: 0, node_errors: {} })): Answer {
  let polls = 0;
  return (res, req) => {
    if (req.method === "POST" && req.url === "/prompt") return prompt(res, req);
    if (req.method === "GET" && req.url.startsWith("/history/")) return json(200, history[Math.min(polls++, history.length - 1)])(res, req);
    if (req.method === "GET" && req.url.startsWith("/view?")) return void res.writeHead(200, { "content-type": "image/png" }).end(tinyPng());
    if (req.method === "POST" && req.url === "/queue") return json(200, {})(res, req);
    res.writeHead(404, { "content-type": "text/plain" }).end("404: Not Found");
  };
}

const done = {
  [PROMPT_ID]: {
    prompt: [0, PROMPT_ID, {}, { client_id: "x" }, ["9"]],
    outputs: { "9": { images: [{ filename: "debiaspi_00001_.png", subfolder: "", type: "output" }] } },
    status: { status_str: "success", completed: true, messages: [["execution_start", { prompt_id: PROMPT_ID, timestamp: 1 }], ["execution_success", { prompt_id: PROMPT_ID, timestamp: 2 }]] },
    meta: { "9": { node_id: "9", display_node: "9", parent_node: null, real_node_id: "9" } },
  },
};

function fast(sleeps: number[] = []): HttpOverrides {
  return { retry: { baseDelayMs: 10, maxDelayMs: 1_000 }, sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 };
}

const provider = (url: string, options: Record<string, unknown> = {}, http: HttpOverrides = fast()) => createComfyUI(url, { options: { workflow: WORKFLOW, ...options } }, http);

function writeTemp(name: string, content: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, content);
  return path;
}

describe("comfyui provider", () => {
  it("queues the filled workflow, polls /history until complete, then downloads from /view", async () => {
    server = await startFakeServer(comfy([{}, done]));
    const sleeps: number[] = [];
    const p = provider(server.url, { negative_prompt: "blurry, text", pollMs: 250 }, fast(sleeps));
    expect(p.id).toBe(`comfyui:${server.url}`);
    const r = await p.generate({ prompt: 'a photo of the face of a "CEO"', seed: 4_000_000_000 });

    expect(server.requests.map((q: RecordedRequest) => `${q.method} ${q.url}`)).toEqual([
      "POST /prompt",
      `GET /history/${PROMPT_ID}`,
      `GET /history/${PROMPT_ID}`,
      "GET /view?filename=debiaspi_00001_.png&subfolder=&type=output",
    ]);
    const post = server.requests[0]!;
    expect(post.headers["content-type"]).toBe("application/json");
    const body = JSON.parse(post.body) as { prompt: Record<string, { inputs: Record<string, unknown> }>; client_id: string };
    expect(Object.keys(body).sort()).toEqual(["client_id", "prompt"]);
    expect(body.client_id).toMatch(/^[0-9a-f-]{36}$/);
    const expected = JSON.parse(readFileSync(WORKFLOW, "utf8")) as Record<string, { inputs: Record<string, unknown> }>;
    expected["3"]!.inputs.seed = 4_000_000_000;
    expected["6"]!.inputs.text = 'a photo of the face of a "CEO"';
    expected["7"]!.inputs.text = "blurry, text";
    expect(body.prompt).toEqual(expected);
    expect(sleeps).toEqual([250]);

    expect(Buffer.from(r.image!)).toEqual(tinyPng());
    expect(r.mime).toBe("image/png");
    expect(r.costUsd).toBe(0);
    expect(r.warnings).toEqual([]);
    expect(r.meta).toMatchObject({ promptId: PROMPT_ID, node: "9", filename: "debiaspi_00001_.png" });
  });

  it("fills placeholders inside longer strings and leaves placeholder-like text in the prompt alone", () => {
    const wf = { "1": { class_type: "X", inputs: { text: "{{prompt}}, masterpiece", seed: "{{seed}}", note: "seed={{seed}}", list: ["{{negative_prompt}}"] } } };
    expect(fillWorkflow(wf, "a {{seed}} b", "neg", 3)).toEqual({ "1": { class_type: "X", inputs: { text: "a {{seed}} b, masterpiece", seed: 3, note: "seed=3", list: ["neg"] } } });
  });

  it("names the nodes, classes and messages of a rejected workflow (400 with node_errors)", async () => {
    const rejected = json(400, {
      error: { type: "prompt_outputs_failed_validation", message: "Prompt outputs failed validation", details: "", extra_info: {} },
      node_errors: {
        "4": {
          errors: [{ type: "value_not_in_list", message: "Value not in list", details: "ckpt_name: 'v1-5-pruned-emaonly.safetensors' not in ['sdxl.safetensors']", extra_info: { input_name: "ckpt_name" } }],
          dependent_outputs: ["9"],
          class_type: "CheckpointLoaderSimple",
        },
        "3": {
          errors: [{ type: "value_bigger_than_max", message: "Value 200 bigger than max of 100", details: "steps", extra_info: { input_name: "steps" } }],
          dependent_outputs: ["9"],
          class_type: "KSampler",
        },
      },
    });
    server = await startFakeServer(comfy([done], rejected));
    const err = await provider(server.url).generate({ prompt: "x", seed: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).status).toBe(400);
    expect((err as ProviderError).retryable).toBe(false);
    expect((err as Error).message).toBe(
      `comfyui:${server.url}: the workflow was rejected (HTTP 400): Prompt outputs failed validation; ` +
        "node 3 (KSampler): Value 200 bigger than max of 100: steps; " +
        "node 4 (CheckpointLoaderSimple): Value not in list: ckpt_name: 'v1-5-pruned-emaonly.safetensors' not in ['sdxl.safetensors']",
    );
    expect(server.hits()).toBe(1);
  });

  it("reports an execution error from /history with the node and the exception", async () => {
    const failed = {
      [PROMPT_ID]: {
        prompt: [],
        outputs: {},
        status: {
          status_str: "error",
          completed: false,
          messages: [
            ["execution_start", { prompt_id: PROMPT_ID, timestamp: 1 }],
            ["execution_error", { prompt_id: PROMPT_ID, node_id: "3", node_type: "KSampler", executed: ["4"], exception_message: "CUDA out of memory. Tried to allocate 2.00 GiB\n", exception_type: "torch.OutOfMemoryError", traceback: ["..."], current_inputs: {}, current_outputs: {} }],
          ],
        },
        meta: {},
      },
    };
    server = await startFakeServer(comfy([{}, failed]));
    await expect(provider(server.url).generate({ prompt: "x", seed: 1 })).rejects.toThrow(
      `comfyui:${server.url}: prompt ${PROMPT_ID} failed: node 3 (KSampler): torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB`,
    );
    expect(server.requests.map((q) => q.url)).toEqual(["/prompt", `/history/${PROMPT_ID}`, `/history/${PROMPT_ID}`]);
  });

  it("gives up after timeoutMs and takes the prompt out of the queue", async () => {
    server = await startFakeServer(comfy([{}]));
    const p = provider(server.url, { timeoutMs: 150, pollMs: 20 }, { retry: { baseDelayMs: 10 } });
    const err = await p.generate({ prompt: "x", seed: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(new RegExp(`no finished image within 150 ms \\(prompt ${PROMPT_ID}; raise providerOptions.timeoutMs`));
    // The cancellation is sent after the error is thrown; wait for it to arrive (a fixed sleep flaked under load).
    const del = await vi.waitFor(() => {
      const found = server!.requests.find((q) => q.url === "/queue");
      if (!found) throw new Error("no DELETE /queue yet");
      return found;
    }, { timeout: 3000, interval: 20 });
    expect(JSON.parse(del.body)).toEqual({ delete: [PROMPT_ID] });
  });

  it("stops when the caller aborts", async () => {
    server = await startFakeServer(comfy([{}]));
    const ac = new AbortController();
    const pending = provider(server.url, { pollMs: 20 }, { retry: { baseDelayMs: 10 } }).generate({ prompt: "x", seed: 1, signal: ac.signal });
    setTimeout(() => ac.abort(new Error("stopped by user")), 60);
    await expect(pending).rejects.toThrow("stopped by user");
  });

  it("fails clearly when the finished prompt has no image", async () => {
    server = await startFakeServer(comfy([{ [PROMPT_ID]: { ...done[PROMPT_ID], outputs: {} } }]));
    await expect(provider(server.url).generate({ prompt: "x", seed: 1 })).rejects.toThrow(/finished without an output image/);
  });

  it("never quotes the file it was pointed at in its errors (a path to any file must not leak its contents)", () => {
    const create = (workflow: string) => () => comfyuiProvider.create("http://127.0.0.1:8188", { taxonomy: undefined as never, sim: {}, options: { workflow } });
    const secretText = writeTemp("passwd", "root:x:0:0:TOPSECRET-1234:/root:/bin/bash\n");
    const secretJson = writeTemp("creds.json", '{\n  "api_key_TOPSECRET-1234": { "v": 1 }\n}');
    const brokenJson = writeTemp("broken.json", '{ "token": "TOPSECRET-1234",\n oops }');
    for (const [file, shape] of [
      [secretText, /is not JSON \(unexpected end or character\)/],
      [secretJson, /not in API format: an entry whose key is not a node id has no class_type/],
      [brokenJson, /is not JSON \(at line 2, column 2\)/],
    ] as const) {
      expect(create(file)).toThrow(InputError);
      expect(create(file)).toThrow(shape);
      try {
        create(file)();
      } catch (e) {
        expect((e as Error).message).not.toMatch(/TOPSECRET|root:x|api_key/);
      }
    }
  });

  it("validates the workflow file at create() time", () => {
    const create = (options: Record<string, unknown>) => () => comfyuiProvider.create("http://127.0.0.1:8188", { taxonomy: undefined as never, sim: {}, options });
    const noSeed = writeTemp("no-seed.json", readFileSync(WORKFLOW, "utf8").replace('"{{seed}}"', "42"));
    expect(create({ workflow: noSeed })).toThrow(InputError);
    expect(create({ workflow: noSeed })).toThrow(`provider comfyui: the workflow file "${noSeed}" lacks the placeholder {{seed}}`);
    const neither = writeTemp("neither.json", JSON.stringify({ "1": { class_type: "X", inputs: {} } }));
    expect(create({ workflow: neither })).toThrow(/lacks the placeholders \{\{prompt\}\} and \{\{seed\}\}/);
    const missing = join(tempDir(), "nope.json");
    expect(create({ workflow: missing })).toThrow(InputError);
    expect(create({ workflow: missing })).toThrow(`provider comfyui: cannot read the workflow file "${missing}" (ENOENT)`);
    const notJson = writeTemp("bad.json", "{ nope");
    expect(create({ workflow: notJson })).toThrow(new RegExp(`the workflow file ".*bad\\.json" is not JSON`));
    const ui = writeTemp("ui.json", JSON.stringify({ last_node_id: 9, nodes: [], links: [], version: 0.4 }));
    expect(create({ workflow: ui })).toThrow(/UI format; save it with "Save \(API Format\)"/);
    expect(create({})).toThrow(/needs providerOptions\.workflow/);
    expect(create({ workflow: WORKFLOW, steps: 3 })).toThrow('provider comfyui: unknown providerOptions "steps"; accepted: workflow, negative_prompt, timeoutMs, pollMs or retries');
    expect(() => comfyuiProvider.create("localhost:8188", { taxonomy: undefined as never, sim: {}, options: { workflow: WORKFLOW } })).toThrow(InputError);
    expect(() => comfyuiProvider.create(undefined, { taxonomy: undefined as never, sim: {}, options: { workflow: WORKFLOW } })).toThrow(/needs the server's URL/);
    expect(Object.keys(loadWorkflow(WORKFLOW))).toEqual(["3", "4", "5", "6", "7", "8", "9"]);
  });

  it("checks the server with GET /system_stats", async () => {
    server = await startFakeServer(json(200, { system: { os: "posix", comfyui_version: "0.3.40", python_version: "3.12" }, devices: [{ name: "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync", type: "cuda" }] }));
    const msg = await comfyuiProvider.check!(server.url, { taxonomy: undefined as never, sim: {}, options: { workflow: WORKFLOW } });
    expect(msg).toMatch(/: ComfyUI 0\.3\.40 on cuda:0 NVIDIA GeForce RTX 4090/);
    expect(server.requests[0]).toMatchObject({ method: "GET", url: "/system_stats" });
  });
});
