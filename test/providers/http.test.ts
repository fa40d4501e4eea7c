import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { fetchWithRetry, ProviderError, redact, retryAfterFromHeaders, retryAfterMs, type HttpContext } from "../../src/http/index.js";
import { dropMidBody } from "./fake-server.js";

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A server answering each request with the next scripted response. */
async function scripted(answers: ((res: import("node:http").ServerResponse) => void)[]): Promise<{ url: string; hits: () => number }> {
  let n = 0;
  server = createServer((req, res) => {
    const answer = answers[Math.min(n, answers.length - 1)]!;
    n++;
    req.resume();
    answer(res);
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`, hits: () => n };
}

function ctx(waits: number[], over: Partial<HttpContext["retry"]> = {}): HttpContext {
  return {
    retry: { timeoutMs: 2000, retries: 3, baseDelayMs: 100, maxDelayMs: 10_000, ...over },
    secrets: ["sk-test-SECRET-1234"],
    sleep: async (ms) => void waits.push(ms),
    random: () => 0.5,
  };
}

describe("fetchWithRetry", () => {
  it("honours Retry-After on 429, then returns the success", async () => {
    const s = await scripted([(res) => res.writeHead(429, { "retry-after": "3" }).end("slow down"), (res) => res.writeHead(200).end("ok")]);
    const waits: number[] = [];
    const res = await fetchWithRetry("p", s.url, {}, ctx(waits));
    expect(await res.text()).toBe("ok");
    expect(waits).toEqual([3000]);
  });
  it("backs off exponentially with jitter on 5xx", async () => {
    const s = await scripted([(res) => res.writeHead(500).end(), (res) => res.writeHead(503).end(), (res) => res.writeHead(200).end("ok")]);
    const waits: number[] = [];
    await fetchWithRetry("p", s.url, {}, ctx(waits));
    // random() = 0.5: half of 100 * 2^0, then half of 100 * 2^1
    expect(waits).toEqual([50, 100]);
    expect(s.hits()).toBe(3);
  });
  it("does not retry a 4xx other than 429", async () => {
    const s = await scripted([(res) => res.writeHead(400).end("bad")]);
    const res = await fetchWithRetry("p", s.url, {}, ctx([]));
    expect(res.status).toBe(400);
    expect(s.hits()).toBe(1);
  });
  it("gives up after the retries with a message that names the provider and hides the key", async () => {
    const s = await scripted([(res) => res.writeHead(502).end("upstream said sk-test-SECRET-1234")]);
    const err = await fetchWithRetry("myprov", s.url, {}, ctx([], { retries: 2 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/^myprov: HTTP 502: upstream said \*\*\* \(gave up after 3 tries\)$/);
    expect(s.hits()).toBe(3);
  });
  it("retries a dropped connection and a timeout", async () => {
    const s = await scripted([(res) => res.socket?.destroy(), () => {}, (res) => res.writeHead(200).end("ok")]);
    const res = await fetchWithRetry("p", s.url, {}, ctx([], { timeoutMs: 200 }));
    expect(await res.text()).toBe("ok");
    expect(s.hits()).toBe(3);
  });
});

describe("fetchWithRetry: transport failures inside the body", () => {
  it("retries a connection dropped in the middle of a 200 body, and returns the whole body of the next try", async () => {
    const full = JSON.stringify({ data: [{ b64_json: "A".repeat(4000) }] });
    const s = await scripted([dropMidBody(200, full, 100), (res) => res.writeHead(200, { "content-type": "application/json" }).end(full)]);
    const waits: number[] = [];
    const res = await fetchWithRetry("p", s.url, { method: "POST", body: "{}" }, ctx(waits));
    expect(await res.text()).toBe(full);
    expect(s.hits()).toBe(2);
    expect(waits).toEqual([50]);
  });
  it("gives up on bodies that keep breaking with a message that says so (not just 'terminated')", async () => {
    const s = await scripted([dropMidBody(200, "x".repeat(500), 10)]);
    const err = await fetchWithRetry("p", s.url, {}, ctx([], { retries: 1 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).retryable).toBe(true);
    expect((err as Error).message).toMatch(/^p: connection dropped while the answer \(HTTP 200\) arrived .*\(gave up after 2 tries\)$/);
    expect(s.hits()).toBe(2);
  });
  it("honours OpenAI's retry-after-ms (before Retry-After, which rounds to seconds)", async () => {
    const s = await scripted([
      (res) => res.writeHead(429, { "retry-after-ms": "1234", "retry-after": "2" }).end("{}"),
      (res) => res.writeHead(503, { "retry-after-ms": "nonsense", "retry-after": "3" }).end("{}"),
      (res) => res.writeHead(200).end("ok"),
    ]);
    const waits: number[] = [];
    const res = await fetchWithRetry("p", s.url, {}, ctx(waits));
    expect(await res.text()).toBe("ok");
    expect(waits).toEqual([1234, 3000]);
  });
});

describe("helpers", () => {
  it("reads retry-after-ms first, then Retry-After", () => {
    expect(retryAfterFromHeaders(new Headers({ "retry-after-ms": "250" }))).toBe(250);
    expect(retryAfterFromHeaders(new Headers({ "retry-after-ms": "-1", "retry-after": "1" }))).toBe(1000);
    expect(retryAfterFromHeaders(new Headers({}))).toBeUndefined();
  });
  it("reads Retry-After as seconds or a date", () => {
    expect(retryAfterMs("2")).toBe(2000);
    expect(retryAfterMs("Wed, 21 Oct 2015 07:28:10 GMT", Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(10_000);
    expect(retryAfterMs("soon")).toBeUndefined();
  });
  it("redacts every occurrence of a secret", () => {
    expect(redact("key=abcd1234 and abcd1234", ["abcd1234"])).toBe("key=*** and ***");
  });
});
