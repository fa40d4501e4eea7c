import { afterEach, describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.js";
import type { Observation } from "../../src/core/request.js";
import { applyTaxonomyPatch, builtinTaxonomy, getAttribute } from "../../src/core/taxonomy.js";
import type { ObserveInput } from "../../src/observers/types.js";
import { createVlmObserver, readVlmContent, readVlmValue, VLM_USER_TEXT, vlmSystemMessage, type VlmObserverOptions } from "../../src/observers/vlm.js";
import type { HttpOverrides } from "../../src/http/index.js";
import { destroy, json, openaiError, startFakeServer, tinyPng, type Answer, type FakeServer } from "../providers/fake-server.js";

const KEY = "sk-vlm-DISTINCTIVE-9f8e7d6c5b4a";
const tax = builtinTaxonomy();
const png = tinyPng();
const dataUrl = `data:image/png;base64,${png.toString("base64")}`;
const fast: HttpOverrides = { retry: { baseDelayMs: 1, maxDelayMs: 2 }, sleep: async () => {} };

const servers: FakeServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(answers: Answer | Answer[]): Promise<FakeServer> {
  const s = await startFakeServer(answers);
  servers.push(s);
  return s;
}

/** A chat completion as OpenAI (and Ollama, vLLM, llama.cpp) return it. */
function completion(content: string | null, extra: { refusal?: string | null; finish_reason?: string } = {}): Answer {
  return json(200, {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "llava",
    choices: [{ index: 0, message: { role: "assistant", content, refusal: extra.refusal ?? null }, logprobs: null, finish_reason: extra.finish_reason ?? "stop" }],
    usage: { prompt_tokens: 900, completion_tokens: 80, total_tokens: 980 },
  });
}

const input = (over: Partial<ObserveInput["result"]> = {}): ObserveInput => ({
  result: { image: new Uint8Array(png), mime: "image/png", warnings: [], meta: {}, ...over },
  request: { kind: "plain" },
  prompt: "a photo of a doctor",
});

function observer(s: FakeServer, over: VlmObserverOptions = {}) {
  return createVlmObserver({ model: "llava", baseUrl: `${s.url}/v1`, env: {}, retries: 2, http: fast, ...over });
}

function expectNoKey(...things: unknown[]): void {
  for (const t of things) {
    const text = t instanceof Error ? `${t.message} ${t.stack ?? ""}` : JSON.stringify(t);
    expect(text).not.toContain("DISTINCTIVE");
  }
}

const asked = ["gender", "race", "age", "skin_tone", "body_type"];

describe("vlm observer: the request", () => {
  it("sends the exact chat request with the image as a data URL, without a key on 127.0.0.1", async () => {
    const s = await serve(completion(JSON.stringify({ people: [] })));
    const o = observer(s);
    expect(o.id).toBe("vlm");
    const obs = await o.observe(input(), tax);

    expect(s.hits()).toBe(1);
    const req = s.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/v1/chat/completions");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers.accept).toBe("application/json");
    expect(req.headers.authorization).toBeUndefined();
    expect(JSON.parse(req.body)).toEqual({
      model: "llava",
      messages: [
        { role: "system", content: vlmSystemMessage(tax) },
        {
          role: "user",
          content: [
            { type: "text", text: VLM_USER_TEXT },
            { type: "image_url", image_url: { url: dataUrl } },
          ],
        },
      ],
      response_format: { type: "json_object" },
      temperature: 0,
    });
    expect(obs).toEqual({ observer: "vlm", persons: [], note: "vlm (model llava): no person seen" });
  });

  it("sends the key as a Bearer token when one is set, and never puts it in a note", async () => {
    const s = await serve(openaiError(401, `Incorrect API key provided: ${KEY}.`, "invalid_request_error", "invalid_api_key"));
    const o = observer(s, { env: { CHAT_API_KEY: KEY } });
    const obs = await o.observe(input(), tax);
    expect(s.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(obs.persons).toEqual([]);
    expect(obs.note).toMatch(/HTTP 401/);
    expect(obs.note).toContain("***");
    expectNoKey(obs);
  });

  it("lists only attributes with categories, with their labels and 'unknown'", () => {
    const msg = vlmSystemMessage(tax);
    expect(msg).toContain('- gender (Gender): one of "Female", "Male", or "unknown"');
    expect(msg).toContain('"East Asian"');
    expect(msg).toContain('"Monk 10"');
    expect(msg).not.toMatch(/profession/);
    expect(msg).toMatch(/largest/);
    expect(msg).toMatch(/Never guess/);
    const withJobs = applyTaxonomyPatch(tax, { professions: ["nurse", "software developer"] });
    expect(vlmSystemMessage(withJobs)).toContain('- profession (Profession): one of "nurse", "software developer", or "unknown"');
  });

  it("uses the image's type in the data URL, reading it from the bytes when the result has no mime", async () => {
    const s = await serve(completion('{"people": []}'));
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    await observer(s).observe(input({ image: jpeg, mime: undefined }), tax);
    const body = JSON.parse(s.requests[0]!.body) as { messages: [unknown, { content: [unknown, { image_url: { url: string } }] }] };
    expect(body.messages[1].content[1].image_url.url).toBe(`data:image/jpeg;base64,${Buffer.from(jpeg).toString("base64")}`);
  });

  it("asks nothing when there is no image", async () => {
    const s = await serve(completion('{"people": []}'));
    const obs = await observer(s).observe(input({ image: undefined, mime: undefined, refusal: "blocked" }), tax);
    expect(s.hits()).toBe(0);
    expect(obs).toEqual({ observer: "vlm", persons: [], note: "vlm (model llava): no image to look at" });
  });
});

describe("vlm observer: reading the answer", () => {
  it("maps a good answer with two people to category ids, in order", async () => {
    const people = [
      { gender: "Female", race: "East Asian", age: "30-44", skin_tone: "Monk 3", body_type: "Slim" },
      { gender: "man", race: "Black", age: "65+", "skin tone": "monk 9", body_type: "Athletic" },
    ];
    const s = await serve(completion(JSON.stringify({ people })));
    const obs = await observer(s).observe(input(), tax);
    expect(obs.observer).toBe("vlm");
    expect(obs.persons).toEqual([
      { labels: { gender: "female", race: "east_asian", age: "30-44", skin_tone: "monk_3", body_type: "slim" } },
      { labels: { gender: "male", race: "black", age: "65+", skin_tone: "monk_9", body_type: "athletic" } },
    ]);
    expect(obs.note).toBe("vlm (model llava): 2 persons seen");
  });

  it("reads 'unknown', invented categories, wrong types and missing attributes as null", async () => {
    const people = [{ gender: "unknown", race: "Martian", age: 35, skin_tone: null, extra: "x" }, { gender: ["Female"], race: "unknown (possibly White)", age: "Female" }];
    const s = await serve(completion(JSON.stringify({ people })));
    const obs = await observer(s).observe(input(), tax);
    const allNull = Object.fromEntries(asked.map((a) => [a, null]));
    expect(obs.persons).toEqual([{ labels: allNull }, { labels: allNull }]);
  });

  it("accepts JSON in a code fence", async () => {
    const s = await serve(completion('```json\n{"people": [{"gender": "Male"}]}\n```'));
    const obs = await observer(s).observe(input(), tax);
    expect(obs.persons[0]!.labels.gender).toBe("male");
  });

  it("reads the refusal field as declined", async () => {
    const s = await serve(completion(null, { refusal: "I can't help with identifying people in images." }));
    const obs = await observer(s).observe(input(), tax);
    expect(obs).toEqual({ observer: "vlm", persons: [], note: "vlm declined: I can't help with identifying people in images. (model llava)" });
  });

  it("reads plain text (no JSON) as declined", async () => {
    const s = await serve(completion("I'm sorry, but I can't help with that."));
    const obs = await observer(s).observe(input(), tax);
    expect(obs.persons).toEqual([]);
    expect(obs.note).toBe("vlm declined: I'm sorry, but I can't help with that. (model llava)");
  });

  it("reads a JSON refusal, an empty answer and a content filter as declined", async () => {
    const s = await serve([completion('{"refusal": "I cannot infer race from images."}'), completion(""), completion(null, { finish_reason: "content_filter" })]);
    const o = observer(s);
    expect((await o.observe(input(), tax)).note).toBe("vlm declined: I cannot infer race from images. (model llava)");
    expect((await o.observe(input(), tax)).note).toMatch(/^vlm declined: empty answer/);
    expect((await o.observe(input(), tax)).note).toMatch(/^vlm declined: .*content filter/);
  });

  it("reads a content-policy HTTP 400 as declined", async () => {
    const s = await serve(openaiError(400, "Your request was rejected as a result of our safety system.", "invalid_request_error", "content_policy_violation"));
    const obs = await observer(s).observe(input(), tax);
    expect(obs.persons).toEqual([]);
    expect(obs.note).toMatch(/^vlm declined: Your request was rejected .*safety system/);
    expect(s.hits()).toBe(1);
  });

  it("gives no persons and a note for malformed JSON or the wrong shape", async () => {
    const s = await serve([completion('{"people": [{"gender": "Female",}'), completion('{"people": "two women"}'), completion('{"people": ["Female"]}'), json(200, { id: "x", object: "chat.completion" })]);
    const o = observer(s);
    const bad = await o.observe(input(), tax);
    expect(bad.persons).toEqual([]);
    expect(bad.note).toMatch(/^vlm \(model llava\): malformed answer: not valid JSON/);
    const shape = await o.observe(input(), tax);
    expect(shape.persons).toEqual([]);
    expect(shape.note).toMatch(/^vlm \(model llava\): malformed answer: JSON without the asked shape \(people:/);
    const items = await o.observe(input(), tax);
    expect(items.persons).toEqual([]);
    expect(items.note).toMatch(/malformed answer: JSON without the asked shape \(people\.0:/);
    const noChoices = await o.observe(input(), tax);
    expect(noChoices.persons).toEqual([]);
    expect(noChoices.note).toMatch(/unexpected answer \(no "choices\[0\]\.message"\)/);
    // A malformed model answer is an honest unknown; a body that is no chat completion means the server is not usable.
    expect([bad.error, shape.error, items.error]).toEqual([undefined, undefined, undefined]);
    expect(noChoices.error).toBe(noChoices.note);
  });

  it("gives no persons and a note when the server answer is not JSON at all", async () => {
    const s = await serve((res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>gateway</html>"));
    const obs = await observer(s).observe(input(), tax);
    expect(obs.persons).toEqual([]);
    expect(obs.note).toMatch(/^vlm error: vlm llava: expected JSON/);
    expect(obs.error).toBe(obs.note);
  });
});

describe("vlm observer: HTTP errors", () => {
  it("retries a 500 and then reads the answer", async () => {
    const s = await serve([openaiError(500, "The server had an error", "server_error", null), completion(JSON.stringify({ people: [{ gender: "Female", race: "Indian" }] }))]);
    const obs = await observer(s).observe(input(), tax);
    expect(s.hits()).toBe(2);
    expect(s.requests[1]!.body).toBe(s.requests[0]!.body);
    expect(obs.persons).toEqual([{ labels: { gender: "female", race: "indian", age: null, skin_tone: null, body_type: null } }]);
  });

  it("never throws: 5xx after all retries, and a dropped connection, give a note with the redacted message", async () => {
    const s = await serve(openaiError(503, `overloaded (key ${KEY})`, "server_error", null));
    const obs = await observer(s, { env: { CHAT_API_KEY: KEY }, retries: 1 }).observe(input(), tax);
    expect(s.hits()).toBe(2);
    expect(obs.persons).toEqual([]);
    expect(obs.note).toMatch(/^vlm error: vlm llava: HTTP 503: .*overloaded \(key \*\*\*\).*gave up after 2 tries/);
    expectNoKey(obs);

    const d = await serve(destroy);
    const dropped = await observer(d, { env: { CHAT_API_KEY: KEY }, retries: 0 }).observe(input(), tax);
    expect(dropped.persons).toEqual([]);
    expect(dropped.note).toMatch(/^vlm error: .*connection failed/);
    // The service failed: `error` is set (the loop stops after too many in a row), with the key blanked out.
    expect(obs.error).toBe(obs.note);
    expect(dropped.error).toBe(dropped.note);
  });

  it("sets error when nothing listens on the port, and not for a refusal or an answer without people", async () => {
    const gone = await startFakeServer(completion("{}"));
    await gone.close();
    const obs = await createVlmObserver({ model: "llava", baseUrl: `${gone.url}/v1`, env: {}, retries: 1, http: fast }).observe(input(), tax);
    expect(obs.persons).toEqual([]);
    expect(obs.error).toMatch(/^vlm error: .*ECONNREFUSED.*gave up after 2 tries/);
    expect(obs.note).toBe(obs.error);

    const s = await serve([completion(null, { refusal: "I can't." }), completion('{"people": []}'), completion("", { finish_reason: "length" })]);
    const o = observer(s);
    for (let k = 0; k < 3; k++) expect((await o.observe(input(), tax)).error).toBeUndefined();
  });

  it("never puts the key in any observation", async () => {
    const echo = (body: string): Answer => completion(body);
    const answers = [
      echo(JSON.stringify({ people: [{ gender: KEY, race: "White" }] })),
      echo(`No. ${KEY}`),
      echo(`{"people": [${KEY}]}`),
      completion(null, { refusal: `refused ${KEY}` }),
      openaiError(400, `bad request ${KEY}`, "invalid_request_error", null),
      openaiError(500, `boom ${KEY}`, "server_error", null),
    ];
    const s = await serve(answers);
    const o = observer(s, { env: { CHAT_API_KEY: KEY }, retries: 0 });
    const all: Observation[] = [];
    for (let i = 0; i < answers.length; i++) all.push(await o.observe(input(), tax));
    expect(s.hits()).toBe(answers.length);
    for (const r of s.requests) expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(all[0]!.persons[0]!.labels).toMatchObject({ gender: null, race: "white" });
    expectNoKey(...all);
    expectNoKey(o);
  });
});

describe("vlm observer: creation and keys", () => {
  it("needs no key on localhost, 127.0.0.1 or ::1", () => {
    for (const base of ["http://127.0.0.1:11434/v1", "http://localhost:8000/v1", "http://[::1]:8080/v1"]) {
      expect(() => createVlmObserver({ baseUrl: base, env: {} })).not.toThrow();
    }
  });

  it("throws an InputError for a remote URL without a key, naming the variable", () => {
    const e = (() => {
      try {
        createVlmObserver({ baseUrl: "https://vlm.example.com/v1", env: { OPENAI_API_KEY: "sk-openai-only-for-openai" } });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(/CHAT_API_KEY/);
    expect(() => createVlmObserver({ baseUrl: "https://vlm.example.com/v1", env: { CHAT_API_KEY: KEY } })).not.toThrow();
  });

  it("uses OPENAI_API_KEY only for api.openai.com, the default server", async () => {
    expect(() => createVlmObserver({ env: {} })).toThrow(InputError);
    expect(() => createVlmObserver({ env: {} })).toThrow(/CHAT_API_KEY or OPENAI_API_KEY/);
    const o = createVlmObserver({ env: { OPENAI_API_KEY: KEY } });
    expect(o.model).toBe("gpt-4o-mini");
    expect(o.base.href).toBe("https://api.openai.com/v1");
  });

  it("reads CHAT_BASE_URL when no baseUrl is given", async () => {
    const s = await serve(completion('{"people": []}'));
    const o = createVlmObserver({ env: { CHAT_BASE_URL: `${s.url}/v1` }, http: fast });
    await o.observe(input(), tax);
    expect(s.requests[0]!.url).toBe("/v1/chat/completions");
    expect(JSON.parse(s.requests[0]!.body)).toMatchObject({ model: "gpt-4o-mini" });
  });

  it("throws an InputError for a bad URL, timeout or retry count", () => {
    expect(() => createVlmObserver({ baseUrl: "not a url", env: {} })).toThrow(InputError);
    expect(() => createVlmObserver({ baseUrl: "not a url", env: {} })).toThrow(/observer vlm .*not a valid URL/);
    expect(() => createVlmObserver({ baseUrl: "ftp://127.0.0.1/v1", env: {} })).toThrow(/http:\/\/ or https:\/\//);
    expect(() => createVlmObserver({ baseUrl: "http://127.0.0.1/v1", env: {}, timeoutMs: 0 })).toThrow(InputError);
    expect(() => createVlmObserver({ baseUrl: "http://127.0.0.1/v1", env: {}, retries: -1 })).toThrow(InputError);
  });
});

describe("vlm answer readers", () => {
  it("reads one value: exact label, alias, one mention; unknown and ambiguity are null", () => {
    const race = getAttribute(tax, "race");
    expect(readVlmValue(race, "Latino/Hispanic")).toBe("latino_hispanic");
    expect(readVlmValue(race, "latino_hispanic")).toBe("latino_hispanic");
    expect(readVlmValue(race, " caucasian ")).toBe("white");
    expect(readVlmValue(race, "probably Black")).toBe("black");
    expect(readVlmValue(race, "Unknown")).toBeNull();
    expect(readVlmValue(race, "cannot tell, maybe White")).toBeNull();
    expect(readVlmValue(race, "White or Black")).toBeNull();
    expect(readVlmValue(race, "")).toBeNull();
    expect(readVlmValue(race, 3)).toBeNull();
    expect(readVlmValue(race, undefined)).toBeNull();
  });

  it("tells people, refusals and malformed answers apart", () => {
    expect(readVlmContent('{"people": [{"gender": "Male"}]}')).toEqual({ people: [{ gender: "Male" }] });
    expect(readVlmContent("Sure! {\"people\": []} Hope this helps.")).toEqual({ people: [] });
    expect(readVlmContent("I can't help with that.")).toEqual({ declined: "I can't help with that." });
    expect(readVlmContent("   ")).toEqual({ declined: "empty answer" });
    expect(readVlmContent('{"refusal": "no"}')).toEqual({ declined: "no" });
    expect(readVlmContent("{people: []}")).toHaveProperty("malformed");
    expect(readVlmContent('{"persons": []}')).toHaveProperty("malformed");
  });
});
