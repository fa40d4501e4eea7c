import { resultImage } from "../../src/image/drawing.js";
import { createProvider, registerProvider, type ProviderContext } from "../../src/providers/index.js";
import { afterEach, describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.js";
import { builtinTaxonomy } from "../../src/core/taxonomy.js";
import { chatProvider, chatSystemMessage, createChatProvider, readChatContent } from "../../src/providers/chat.js";
import { ProviderError } from "../../src/http/index.js";
import { openaiProvider } from "../../src/providers/openai.js";
import { readReport } from "../../src/observers/self-report.js";
import { hang, json, openaiError, startFakeServer, tinyPng, type Answer, type FakeServer } from "./fake-server.js";

const KEY = "sk-chat-DISTINCTIVE-0a1b2c3d4e5f";
const tax = builtinTaxonomy();
const servers: FakeServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(answers: Answer | Answer[]): Promise<FakeServer> {
  const s = await startFakeServer(answers);
  servers.push(s);
  return s;
}

function ctxFor(options: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): ProviderContext {
  return { taxonomy: tax, sim: { render: true } as ProviderContext["sim"], options, env, createInner: createProvider };
}

/** A chat completion as OpenAI (and Ollama, vLLM, llama.cpp) return it. */
function completion(content: string | null, extra: { refusal?: string | null; finish_reason?: string } = {}): Answer {
  return json(200, {
    id: "chatcmpl-123",
    object: "chat.completion",
    created: 1,
    model: "llama3.1",
    choices: [{ index: 0, message: { role: "assistant", content, refusal: extra.refusal ?? null }, logprobs: null, finish_reason: extra.finish_reason ?? "stop" }],
    usage: { prompt_tokens: 300, completion_tokens: 60, total_tokens: 360 },
  });
}

const declaration = {
  prompt: "A portrait photo of a Black woman in her 40s working as a doctor",
  people: [{ gender: "Female", race: "Black", age: "40-59", body_type: null }],
};

const caught = (p: Promise<unknown>): Promise<unknown> => p.then(
  () => {
    throw new Error("expected a rejection");
  },
  (e: unknown) => e,
);

function expectNoKey(...things: unknown[]): void {
  for (const t of things) {
    const text = t instanceof Error ? `${t.message} ${t.stack ?? ""}` : JSON.stringify(t);
    expect(text).not.toContain("DISTINCTIVE");
  }
}

describe("chat provider", () => {
  it("sends the exact chat request (no key needed on 127.0.0.1) and merges the sim image with the declared people", async () => {
    const s = await serve(completion(JSON.stringify(declaration)));
    const p = createChatProvider("llama3.1", ctxFor({ baseUrl: `${s.url}/v1` }));
    expect(p.id).toBe("chat:llama3.1+sim");
    const r = await p.generate({ prompt: "a photo of a doctor, a Black woman", seed: 42 });

    const req = s.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/v1/chat/completions");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers.authorization).toBeUndefined();
    expect(JSON.parse(req.body)).toEqual({
      model: "llama3.1",
      messages: [
        { role: "system", content: chatSystemMessage(tax) },
        { role: "user", content: "a photo of a doctor, a Black woman" },
      ],
      response_format: { type: "json_object" },
      seed: 42,
    });

    expect(r.refusal).toBeUndefined();
    expect(r.selfReport).toEqual([{ gender: "Female", race: "Black", age: "40-59" }]);
    expect(readReport(r.selfReport![0]!, tax).labels).toMatchObject({ gender: "female", race: "black" });
    // The inner sim names its portrait; the chat provider passes the drawing on, and it draws as a PNG.
    expect(r.drawing).toMatch(/^portrait-v1_/);
    expect(resultImage(r)!.bytes).toBeInstanceOf(Uint8Array);
    expect(r.mime).toBe("image/png");
    expect(r.costUsd).toBe(0);
    expect(r.meta).toMatchObject({ chatModel: "llama3.1", writtenPrompt: declaration.prompt, inner: { model: "sim" } });
    expect(r.warnings).toEqual([]);
  });

  it("the system message lists the attribute ids and category labels and asks for JSON", () => {
    const m = chatSystemMessage(tax);
    for (const attr of tax.attributes) expect(m).toContain(`- ${attr.id} (${attr.label})`);
    expect(m).toContain('"East Asian"');
    expect(m).toContain('"Latino/Hispanic"');
    expect(m).toMatch(/ONE image prompt/);
    expect(m).toContain('{"prompt": "<the image prompt>", "people": [');
  });

  it("sends CHAT_API_KEY when set (also on localhost), and it appears nowhere", async () => {
    const s = await serve([completion(JSON.stringify(declaration)), openaiError(401, `bad key ${KEY}`, "invalid_request_error", "invalid_api_key")]);
    const p = createChatProvider("llama3.1", ctxFor({ baseUrl: `${s.url}/v1`, temperature: 0.7 }, { CHAT_API_KEY: KEY }));
    const r = await p.generate({ prompt: "a doctor", seed: 1 });
    expect(s.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(JSON.parse(s.requests[0]!.body).temperature).toBe(0.7);
    const err = await caught(p.generate({ prompt: "a doctor", seed: 2 }));
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/^chat:llama3\.1\+sim: HTTP 401: bad key \*\*\*/);
    expectNoKey(p, r, err);
  });

  it("a refusal field, plain words instead of JSON, or a content filter are refusals", async () => {
    const s = await serve([
      completion(null, { refusal: "I'm sorry, I can't help with that." }),
      completion("I cannot write that prompt."),
      completion(null, { finish_reason: "content_filter" }),
      completion(JSON.stringify({ refusal: "not appropriate" })),
      openaiError(400, "The response was filtered due to the prompt triggering content management policy.", "invalid_request_error", "content_filter"),
    ]);
    const p = createChatProvider("gpt-4o", ctxFor({ baseUrl: `${s.url}/v1` }));
    const refusals: (string | undefined)[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await p.generate({ prompt: "x", seed: i });
      expect(r.image).toBeUndefined();
      expect(r.selfReport).toBeUndefined();
      refusals.push(r.refusal);
    }
    expect(refusals[0]).toBe("I'm sorry, I can't help with that.");
    expect(refusals[1]).toBe("I cannot write that prompt.");
    expect(refusals[2]).toMatch(/content filter/);
    expect(refusals[3]).toBe("not appropriate");
    expect(refusals[4]).toMatch(/content management policy/);
  });

  it("invalid JSON, JSON without a prompt, or a malformed completion are ProviderErrors", async () => {
    const s = await serve([
      completion('{"prompt": "a doctor", "people": [{"gender": "Female"'),
      completion(JSON.stringify({ people: [] })),
      json(200, { object: "chat.completion", choices: [] }),
      (res) => void res.writeHead(200, { "content-type": "application/json" }).end("<html>oops</html>"),
    ]);
    const p = createChatProvider("llama3.1", ctxFor({ baseUrl: `${s.url}/v1` }));
    for (let i = 0; i < 4; i++) {
      const err = await caught(p.generate({ prompt: "x", seed: i }));
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as Error).message).toMatch(/^chat:llama3\.1\+sim: /);
    }
    expect(s.hits()).toBe(4);
  });

  it("reads JSON inside code fences and turns numbers into strings", () => {
    expect(readChatContent("c", '```json\n{"prompt": "p", "people": [{"age": 30, "gender": "man"}]}\n```')).toEqual({ prompt: "p", people: [{ age: "30", gender: "man" }] });
    expect(readChatContent("c", '{"prompt": "p"}')).toEqual({ prompt: "p" });
  });

  it("a timeout of the chat server is a ProviderError", async () => {
    const s = await serve(hang);
    const p = createChatProvider("llama3.1", ctxFor({ baseUrl: `${s.url}/v1`, timeoutMs: 100, retries: 0 }));
    const err = await caught(p.generate({ prompt: "x", seed: 1 }));
    expect((err as Error).message).toMatch(/no answer within 100 ms/);
  });

  it("in front of openai: costs summed, warnings joined, inner meta kept", async () => {
    const chat = await serve(completion(JSON.stringify(declaration)));
    const images = await serve(json(200, { created: 1, data: [{ b64_json: tinyPng().toString("base64"), revised_prompt: "A Black woman doctor" }] }));
    const env = { OPENAI_API_KEY: KEY };
    const p = createChatProvider(
      "gpt-4o",
      ctxFor({ baseUrl: `${chat.url}/v1`, image: "openai:dall-e-3", imageOptions: { baseUrl: `${images.url}/v1` }, priceUsdPerMTok: { input: 2.5, output: 10 } }, env),
      { createInner: (spec, ctx) => openaiProvider.create(spec.slice("openai:".length), ctx) },
    );
    const r = await p.generate({ prompt: "a doctor", seed: 5 });
    // No key for the chat server on 127.0.0.1: OPENAI_API_KEY goes only to api.openai.com.
    expect(chat.requests[0]!.headers.authorization).toBeUndefined();
    expect(images.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(JSON.parse(images.requests[0]!.body)).toMatchObject({ model: "dall-e-3", prompt: declaration.prompt });
    expect(r.costUsd).toBeCloseTo(0.04 + (300 * 2.5 + 60 * 10) / 1e6, 10);
    expect(r.revisedPrompt).toBe("A Black woman doctor");
    expect(r.selfReport).toEqual([{ gender: "Female", race: "Black", age: "40-59" }]);
    expect(r.warnings.some((w) => /takes no seed/.test(w))).toBe(true);
    expect(r.meta).toMatchObject({ chatModel: "gpt-4o", writtenPrompt: declaration.prompt, inner: { model: "dall-e-3", size: "1024x1024", quality: "standard" } });
    expectNoKey(p, r);
  });

  it("keys: a remote server needs CHAT_API_KEY; api.openai.com also takes OPENAI_API_KEY", () => {
    expect(() => createChatProvider("m", ctxFor({ baseUrl: "https://chat.example.com/v1" }, { OPENAI_API_KEY: KEY }))).toThrow(InputError);
    expect(() => createChatProvider("m", ctxFor({ baseUrl: "https://chat.example.com/v1" }, {}))).toThrow(/CHAT_API_KEY/);
    expect(() => createChatProvider("gpt-4o", ctxFor({}, {}))).toThrow(/CHAT_API_KEY or OPENAI_API_KEY/);
    expect(createChatProvider("gpt-4o", ctxFor({}, { OPENAI_API_KEY: KEY })).id).toBe("chat:gpt-4o+sim");
    expect(createChatProvider("m", ctxFor({}, { CHAT_BASE_URL: "http://localhost:11434/v1" })).id).toBe("chat:m+sim");
  });

  it("options: unknown ones, a chat inner provider and a bad inner spec are InputErrors", () => {
    const local = { baseUrl: "http://127.0.0.1:11434/v1" };
    expect(() => createChatProvider("m", ctxFor({ ...local, steps: 3 }))).toThrow(/unknown providerOptions "steps"; accepted: baseUrl, image, imageOptions/);
    expect(() => createChatProvider("m", ctxFor({ ...local, image: "chat:other" }))).toThrow(InputError);
    expect(() => createChatProvider("m", ctxFor({ ...local, image: "nosuch" }))).toThrow(/unknown provider "nosuch"/);
  });

  it("works through the registry (no import-cycle trouble)", async () => {
    registerProvider("chat", chatProvider);
    const s = await serve(completion(JSON.stringify(declaration)));
    const p = createProvider("chat:llama3.1", ctxFor({ baseUrl: `${s.url}/v1`, image: "sim" }));
    const r = await p.generate({ prompt: "a doctor", seed: 3 });
    expect(r.selfReport).toHaveLength(1);
    expect(resultImage(r)).toBeDefined();
  });
});
