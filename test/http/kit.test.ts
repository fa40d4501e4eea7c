import { afterEach, describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.js";
import {
  ChatClient,
  errorDetail,
  fetchWithRetry,
  jsonInContent,
  jsonRefusal,
  ProviderError,
  readBodyLimited,
  readErrorBody,
  refusalOrThrow,
  resolveChatServer,
  type HttpContext,
} from "../../src/http/index.js";
import { json, startFakeServer, type FakeServer } from "../providers/fake-server.js";

const KEY = "sk-kit-SECRET-9876";
let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const ctx = (over: Partial<HttpContext> = {}): HttpContext => ({
  retry: { timeoutMs: 2000, retries: 0, baseDelayMs: 1, maxDelayMs: 1 },
  secrets: [KEY],
  sleep: async () => undefined,
  random: () => 0,
  ...over,
});

describe("body reading", () => {
  it("refuses a body larger than the limit, declared or streamed, with a ProviderError naming the caller", async () => {
    const big = "x".repeat(5000);
    server = await startFakeServer([
      (res) => res.writeHead(200, { "content-type": "text/plain" }).end(big),
      (res) => {
        // No content-length: chunked, so the limit is found while reading.
        res.writeHead(200, { "content-type": "text/plain" });
        res.write(big.slice(0, 2500));
        res.end(big.slice(2500));
      },
      (res) => res.writeHead(200, { "content-type": "text/plain" }).end("small"),
    ]);
    for (let i = 0; i < 2; i++) {
      const e = await fetchWithRetry("kit", `${server.url}/b`, { method: "GET" }, ctx({ maxBytes: 4096 })).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ProviderError);
      expect((e as ProviderError).message).toBe("kit: the answer (HTTP 200) is larger than 4096 bytes; refused");
      expect((e as ProviderError).retryable).toBe(false);
    }
    const ok = await fetchWithRetry("kit", `${server.url}/b`, { method: "GET" }, ctx({ maxBytes: 4096 }));
    expect(await ok.text()).toBe("small");
    expect(server.hits()).toBe(3);
  });

  it("readBodyLimited returns the whole body within the limit", async () => {
    const bytes = new Uint8Array(await readBodyLimited("kit", new Response("héllo"), 100));
    expect(new TextDecoder().decode(bytes)).toBe("héllo");
    await expect(readBodyLimited("kit", new Response("héllo"), 3)).rejects.toThrow(/larger than 3 bytes/);
  });

  it("reads an error body once: text, then JSON when it parses", async () => {
    const asJson = await readErrorBody(new Response('{"detail":"bad seed"}', { status: 422, statusText: "Unprocessable" }));
    expect(asJson).toEqual({ status: 422, statusText: "Unprocessable", text: '{"detail":"bad seed"}', json: { detail: "bad seed" } });
    const asText = await readErrorBody(new Response("  Gateway   broke  ", { status: 502 }));
    expect(asText.json).toBeUndefined();
    const detail = (j: unknown) => (j as { detail?: string }).detail;
    expect(errorDetail(asJson, detail)).toBe("bad seed");
    expect(errorDetail(asText, detail)).toBe("Gateway   broke");
    expect(errorDetail(asText, detail, { collapse: true })).toBe("Gateway broke");
    expect(errorDetail({ status: 500, statusText: "", text: "", json: undefined }, detail, { fallback: "no message" })).toBe("no message");
  });
});

describe("OpenAI-compatible errors", () => {
  it("a safety block is a refusal; another error a ProviderError carrying status and the service's own message, key blanked", async () => {
    const blocked = new Response(JSON.stringify({ error: { message: "Your request was rejected by our safety system", code: "content_policy_violation" } }), { status: 400 });
    expect(await refusalOrThrow("openai:x", blocked, [KEY])).toBe("Your request was rejected by our safety system");
    const other = new Response(JSON.stringify({ error: { message: `Incorrect API key ${KEY}`, type: "invalid_request_error", code: "invalid_api_key" } }), { status: 401 });
    const e = await refusalOrThrow("openai:x", other, [KEY]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProviderError);
    const pe = e as ProviderError;
    expect(pe.message).toBe("openai:x: HTTP 401: Incorrect API key *** (invalid_request_error, invalid_api_key)");
    expect(pe.status).toBe(401);
    expect(pe.retryable).toBe(false);
    expect(pe.providerMessage).toBe("Incorrect API key ***");
  });
});

describe("chat client", () => {
  it("finds the JSON object in a model's content: fenced, surrounded by words, absent or broken", () => {
    expect(jsonInContent('```json\n{"a": 1}\n```')).toEqual({ value: { a: 1 }, text: '{"a": 1}' });
    expect(jsonInContent('Sure! {"a": 2} hope that helps')).toMatchObject({ value: { a: 2 } });
    expect(jsonInContent("I cannot help with that.")).toEqual({ none: "I cannot help with that." });
    expect(jsonInContent('{"a": ')).toMatchObject({ text: '{"a":' });
    expect("invalid" in jsonInContent('{"a": ')).toBe(true);
    expect(jsonRefusal({ refusal: "  no  " })).toBe("no");
    expect(jsonRefusal({ refusal: "" })).toBeUndefined();
    expect(jsonRefusal(null)).toBeUndefined();
  });

  it("resolves the server and key: CHAT_API_KEY, OPENAI_API_KEY only for api.openai.com, none on localhost", () => {
    const base = { keyScope: undefined, who: "provider chat:m", field: "providerOptions.baseUrl" } as const;
    expect(resolveChatServer({ ...base, baseUrl: "http://127.0.0.1:11434/v1", env: {} })).toEqual({ base: new URL("http://127.0.0.1:11434/v1") });
    expect(resolveChatServer({ ...base, baseUrl: undefined, env: { OPENAI_API_KEY: KEY } }).apiKey).toBe(KEY);
    expect(resolveChatServer({ ...base, baseUrl: undefined, env: { CHAT_BASE_URL: "http://localhost:8080/v1" } }).base.host).toBe("localhost:8080");
    expect(() => resolveChatServer({ ...base, baseUrl: "https://chat.example.com/v1", env: { OPENAI_API_KEY: KEY } })).toThrow(
      "provider chat:m needs the environment variable CHAT_API_KEY (the API key of the chat server chat.example.com); set it and run again",
    );
    expect(() => resolveChatServer({ ...base, baseUrl: "nope", env: {} })).toThrow(InputError);
    expect(() => resolveChatServer({ ...base, keyScope: "env", baseUrl: "https://evil.example.com/v1", env: { CHAT_API_KEY: KEY } })).toThrow(/would receive CHAT_API_KEY/);
  });

  it("tells a refusal, a filtered answer, a cut answer, content and an unreadable body apart, and sends the key only as a header", async () => {
    const choice = (message: Record<string, unknown>, finish = "stop") => json(200, { choices: [{ message, finish_reason: finish }], usage: { prompt_tokens: 3, completion_tokens: 4 } });
    server = await startFakeServer([
      choice({ content: null, refusal: "I won't." }),
      choice({ content: "" }, "content_filter"),
      choice({ content: "" }, "length"),
      choice({ content: '{"people": []}' }),
      json(200, { nothing: true }),
      json(400, { error: { message: "blocked by the content policy", code: "content_filter" } }),
    ]);
    const client = new ChatClient("vlm m", new URL(`${server.url}/v1`), KEY, { timeoutMs: 2000, retries: 0 });
    const kinds = [];
    for (let i = 0; i < 6; i++) kinds.push(await client.complete({ model: "m" }));
    expect(kinds.map((k) => k.kind)).toEqual(["refused", "filtered", "truncated", "content", "unreadable", "refused"]);
    expect(kinds[0]).toMatchObject({ message: "I won't.", usage: { prompt_tokens: 3, completion_tokens: 4 } });
    expect(kinds[3]).toMatchObject({ content: '{"people": []}', status: 200 });
    expect(kinds[5]).toMatchObject({ message: "blocked by the content policy", status: 400 });
    expect(server.requests.every((r) => r.url === "/v1/chat/completions" && r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
    expect(JSON.stringify(client)).not.toContain(KEY);
  });
});
