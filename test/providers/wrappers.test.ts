import { getEventListeners } from "node:events";
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ProviderError } from "../../src/http/index.js";
import type { GenerateRequest, GenerateResult, ImageProvider } from "../../src/providers/types.js";
import { CachedProvider, PoolProvider, RateLimitedProvider } from "../../src/providers/wrappers.js";
import { tempDir } from "../cli/helpers.js";

/** A provider that records its calls and answers with the prompt's bytes. */
function recorder(id: string, behave: (req: GenerateRequest, n: number) => GenerateResult | Error = (req) => ({ image: new TextEncoder().encode(req.prompt), mime: "image/png", costUsd: 0.04, warnings: [], meta: { id } })) {
  const calls: GenerateRequest[] = [];
  const p: ImageProvider = {
    id,
    generate: async (req) => {
      calls.push(req);
      const r = behave(req, calls.length);
      if (r instanceof Error) throw r;
      return r;
    },
  };
  return { p, calls };
}

describe("response cache", () => {
  it("does not pay twice for the same provider, prompt, seed and parameters", async () => {
    const dir = tempDir();
    const { p, calls } = recorder("openai:gpt-image-1");
    const cached = new CachedProvider(p, dir, { size: "1024x1024" });
    const first = await cached.generate({ prompt: "a CEO", seed: 1 });
    const again = await cached.generate({ prompt: "a CEO", seed: 1 });
    expect(calls).toHaveLength(1);
    expect(Buffer.from(again.image!).equals(Buffer.from(first.image!))).toBe(true);
    expect(again.costUsd).toBe(0);
    expect(again.meta).toMatchObject({ cached: true, cachedCostUsd: 0.04 });
    await cached.generate({ prompt: "a CEO", seed: 2 });
    await new CachedProvider(p, dir, { size: "512x512" }).generate({ prompt: "a CEO", seed: 1 });
    expect(calls).toHaveLength(3);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);
  });
  it("does not cache refusals", async () => {
    const dir = tempDir();
    const { p, calls } = recorder("x", () => ({ refusal: "policy", warnings: [], meta: {} }));
    const cached = new CachedProvider(p, dir, {});
    await cached.generate({ prompt: "a", seed: 1 });
    await cached.generate({ prompt: "a", seed: 1 });
    expect(calls).toHaveLength(2);
  });
});

describe("rate limit", () => {
  it("spaces request starts evenly", async () => {
    const starts: number[] = [];
    const { p } = recorder("x", (req) => (starts.push(Date.now()), { warnings: [], meta: {}, image: new Uint8Array([1]) }));
    const limited = new RateLimitedProvider(p, 20); // one every 50 ms
    const begin = Date.now();
    await Promise.all([0, 1, 2, 3].map((s) => limited.generate({ prompt: "a", seed: s })));
    // The k-th start is at least k x 50 ms after the first request (a lower bound that load can only
    // widen; consecutive gaps can shrink when one wake-up is late, since the slots are absolute).
    [...starts].sort((x, y) => x - y).forEach((t, k) => expect(t - begin).toBeGreaterThanOrEqual(k * 50 - 2));
  });
  it("leaves no abort listener on the run's shared signal once a wait is over", async () => {
    const run = new AbortController();
    const { p, calls } = recorder("x");
    const limited = new RateLimitedProvider(p, 1000); // one every ms: 11 of the 12 requests wait
    await Promise.all(Array.from({ length: 12 }, (_, s) => limited.generate({ prompt: "a", seed: s, signal: run.signal })));
    expect(calls).toHaveLength(12);
    expect(getEventListeners(run.signal, "abort")).toHaveLength(0);
  });
  it("rejects a waiting request when the run is stopped", async () => {
    const run = new AbortController();
    const { p, calls } = recorder("x");
    const limited = new RateLimitedProvider(p, 1); // the second request waits a second
    await limited.generate({ prompt: "a", seed: 0, signal: run.signal });
    const waiting = limited.generate({ prompt: "a", seed: 1, signal: run.signal });
    run.abort(new Error("stopped"));
    await expect(waiting).rejects.toThrow("stopped");
    expect(calls).toHaveLength(1);
  });
});

describe("endpoint pool", () => {
  it("spreads requests over endpoints by load", async () => {
    const a = recorder("a");
    const b = recorder("b");
    const pool = new PoolProvider([a.p, b.p]);
    await Promise.all([1, 2, 3, 4].map((s) => pool.generate({ prompt: "x", seed: s })));
    expect(a.calls).toHaveLength(2);
    expect(b.calls).toHaveLength(2);
  });
  it("takes a failing endpoint out, retries the request elsewhere, and tries it again after the cool-down", async () => {
    let now = 0;
    const down = recorder("down", () => new ProviderError("down: connection failed (ECONNREFUSED)", undefined, true));
    const up = recorder("up");
    const pool = new PoolProvider([down.p, up.p], 30_000, () => now);
    const r = await pool.generate({ prompt: "x", seed: 1 });
    expect(r.meta.endpoint).toBe("up");
    expect(pool.status()).toEqual([{ id: "down", up: false, failures: 1 }, { id: "up", up: true, failures: 0 }]);
    await pool.generate({ prompt: "x", seed: 2 });
    expect(down.calls).toHaveLength(1);
    now = 31_000;
    await pool.generate({ prompt: "x", seed: 3 });
    expect(down.calls).toHaveLength(2);
  });
  it("does not blame an endpoint for a request the API rejected", async () => {
    const bad = recorder("a", () => new ProviderError("a: HTTP 400: bad size", 400, false));
    const other = recorder("b");
    const pool = new PoolProvider([bad.p, other.p]);
    await expect(pool.generate({ prompt: "x", seed: 1 })).rejects.toThrow("bad size");
    expect(other.calls).toHaveLength(0);
  });
  it("fails with the last error when every endpoint fails", async () => {
    const a = recorder("a", () => new ProviderError("a: no answer", undefined, true));
    const b = recorder("b", () => new ProviderError("b: no answer", undefined, true));
    await expect(new PoolProvider([a.p, b.p]).generate({ prompt: "x", seed: 1 })).rejects.toThrow("b: no answer");
  });
});
