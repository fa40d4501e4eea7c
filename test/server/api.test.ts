import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiAttempt, ApiCompare, ApiError, ApiRunDetail, ApiRunListItem, ApiSummary } from "../../src/server/api-types.js";
import { dashboard, rawGet, readSse, tempDir, type Client } from "./helpers.js";

const sim = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  prompt: "a photo of the face of a CEO",
  n: 8,
  attributes: ["gender"],
  seed: 1,
  concurrency: 2,
  ...extra,
});

async function startRun(c: Client, body: Record<string, unknown>): Promise<string> {
  const res = await c.post("/api/runs", body);
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

describe("dashboard API", () => {
  let c: Client;
  let webRoot: string;
  let outside: string;

  beforeAll(async () => {
    webRoot = tempDir("debiaspi-web-");
    mkdirSync(join(webRoot, "assets"));
    writeFileSync(join(webRoot, "index.html"), "<!doctype html><title>dash</title>");
    writeFileSync(join(webRoot, "assets", "app.js"), "console.log(1)");
    outside = tempDir("debiaspi-outside-");
    writeFileSync(join(outside, "secret.png"), "not for you");
    c = await dashboard(tempDir(), webRoot);
  });
  afterAll(async () => {
    await c.d.close();
  });

  describe("access token", () => {
    it("refuses every API call without the right token", async () => {
      const variants: Record<string, string>[] = [{}, { Authorization: "Bearer wrong" }, { Authorization: `Bearer ${c.d.token}x` }, { Cookie: `debiaspi_token_${c.d.port}=nope` }];
      for (const headers of variants) {
        const res = await fetch(`${c.d.origin}/api/runs`, { headers });
        expect(res.status).toBe(401);
        expect(((await res.json()) as ApiError).error).toMatch(/access token/);
      }
      expect((await fetch(`${c.d.origin}/api/runs?token=wrong`)).status).toBe(401);
      expect((await fetch(`${c.d.origin}/api/runs`, { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } })).status).toBe(401);
      expect((await fetch(`${c.d.origin}/api/runs/x/events`)).status).toBe(401);
      // The page itself needs it too; the built scripts do not (they hold no data).
      expect((await fetch(`${c.d.origin}/`)).status).toBe(401);
      expect((await fetch(`${c.d.origin}/assets/app.js`)).status).toBe(200);
    });

    it("accepts the token as bearer header, query parameter, or the cookie set on the first page load", async () => {
      expect((await c.get("/api/runs")).status).toBe(200);
      expect((await fetch(`${c.d.origin}/api/runs?token=${c.d.token}`)).status).toBe(200);
      const first = await fetch(`${c.d.origin}/?token=${c.d.token}`, { redirect: "manual" });
      expect(first.status).toBe(303);
      expect(first.headers.get("location")).toBe("/");
      const cookie = first.headers.get("set-cookie")!;
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      const pair = cookie.split(";")[0]!;
      const page = await fetch(`${c.d.origin}/`, { headers: { Cookie: pair } });
      expect(page.status).toBe(200);
      expect(page.headers.get("content-security-policy")).toMatch(/default-src 'self'/);
      expect((await fetch(`${c.d.origin}/api/runs`, { headers: { Cookie: pair } })).status).toBe(200);
    });
  });

  describe("bad input", () => {
    it("refuses bad run settings with an error per field, and starts nothing", async () => {
      const before = readdirSync(c.d.manager.runsDir).length;
      const res = await c.post("/api/runs", {
        prompt: "a nurse",
        n: 8,
        attributes: ["gender", "colour"],
        target: { race: { white: 1, martian: 2 } },
        joint: [["age", "age"]],
        provider: "nonesuch",
        observer: "oracle",
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as ApiError;
      const fields = Object.fromEntries(body.errors!.map((e) => [e.field, e.message]));
      expect(fields.attributes).toMatch(/unknown attribute "colour"; accepted: gender, race/);
      expect(fields["target.race"]).toMatch(/unknown category "martian" for attribute "race"/);
      expect(fields.joint).toMatch(/names "age" twice/);
      expect(fields.provider).toMatch(/unknown provider "nonesuch"/);
      expect(fields.observer).toMatch(/unknown observer "oracle"/);
      expect(readdirSync(c.d.manager.runsDir).length).toBe(before);
    });

    it("refuses a driving observer that cannot see a controlled attribute, on the observer field", async () => {
      const res = await c.post("/api/runs/validate", { prompt: "a nurse", n: 8, attributes: ["gender"], observer: "skin-tone" });
      const body = (await res.json()) as { ok: boolean; errors: { field: string; message: string }[] };
      expect(body.ok).toBe(false);
      expect(body.errors).toEqual([{ field: "observer", message: expect.stringMatching(/^observer skin-tone cannot see gender/) }]);
    });

    it("names the field for type errors, unknown settings and `out`", async () => {
      const res = await c.post("/api/runs", { prompt: "", n: "eight", policy: "magic", out: "/etc", colour: 1 });
      expect(res.status).toBe(400);
      const errors = ((await res.json()) as ApiError).errors!;
      const fields = errors.map((e) => e.field).sort();
      expect(fields).toEqual(["colour", "n", "out", "policy", "prompt"]);
      expect(errors.find((e) => e.field === "n")!.message).toMatch(/expected number, got text "eight"/);
      expect(errors.find((e) => e.field === "policy")!.message).toMatch(/must be one of "none", "eip"/);
      expect(errors.find((e) => e.field === "out")!.message).toMatch(/runs folder/);
    });

    it("validates without starting: missing key of a real provider, N below maxAttempts", async () => {
      const res = await c.post("/api/runs/validate", { prompt: "a judge", n: 10, maxAttempts: 5, provider: "replicate:owner/model" });
      expect(res.status).toBe(200);
      const v = (await res.json()) as { ok: boolean; errors: { field: string; message: string }[] };
      expect(v.ok).toBe(false);
      expect(v.errors.find((e) => e.field === "provider")!.message).toMatch(/REPLICATE_API_TOKEN/);
      expect(v.errors.find((e) => e.field === "maxAttempts")!.message).toMatch(/at least N/);
      const good = (await (await c.post("/api/runs/validate", sim())).json()) as { ok: boolean };
      expect(good.ok).toBe(true);
    });

    it("limits request bodies to 64 KB (declared or streamed) and wants JSON", async () => {
      const big = JSON.stringify({ prompt: "x".repeat(70_000) });
      const res = await c.post("/api/runs", big);
      expect(res.status).toBe(413);
      expect(((await res.json()) as ApiError).error).toMatch(/larger than the accepted 65536 bytes/);
      // Without Content-Length (chunked), the limit applies while reading.
      const chunks = new ReadableStream<Uint8Array>({
        start(ctl) {
          for (let k = 0; k < 10; k++) ctl.enqueue(new TextEncoder().encode("x".repeat(10_000)));
          ctl.close();
        },
      });
      const streamed = await fetch(`${c.d.origin}/api/runs`, {
        method: "POST",
        headers: { Authorization: `Bearer ${c.d.token}`, "Content-Type": "application/json" },
        body: chunks,
        duplex: "half",
      } as RequestInit);
      expect(streamed.status).toBe(413);
      expect((await c.post("/api/runs", "prompt=x", { "Content-Type": "application/x-www-form-urlencoded" })).status).toBe(415);
      const bad = await c.post("/api/runs", "{not json");
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as ApiError).error).toMatch(/not valid JSON/);
    });

    it("answers unknown routes and runs with 404 and wrong methods with 405", async () => {
      expect((await c.get("/api/nothing")).status).toBe(404);
      expect((await c.get("/api/runs/no-such-run")).status).toBe(404);
      expect((await c.post("/api/options", {})).status).toBe(405);
      expect((await c.get("/api/compare?ids=a")).status).toBe(400);
    });
  });

  describe("runs", () => {
    let id: string;
    let attempts: ApiAttempt[];

    beforeAll(async () => {
      id = await startRun(c, sim({ sim: { latencyMs: 5 } }));
      await c.d.manager.settled(id);
      attempts = ((await (await c.get(`/api/runs/${id}/attempts`)).json()) as { attempts: ApiAttempt[] }).attempts;
    });

    it("runs a sim run started from the API to the end and lists it with its headline metrics", async () => {
      const detail = (await (await c.get(`/api/runs/${id}`)).json()) as ApiRunDetail;
      expect(detail.summary.status).toBe("complete");
      expect(detail.summary.kept).toBe(8);
      expect(detail.summary.exact).toBe(true);
      expect(detail.live.state).toBe("idle");
      expect(detail.labels.gender!.female).toBe("Female");
      const list = ((await (await c.get("/api/runs")).json()) as { runs: ApiRunListItem[] }).runs;
      const row = list.find((r) => r.id === id)!;
      expect(row).toMatchObject({ n: 8, kept: 8, exact: true, status: "complete", policy: "debiaspi", tv: 0, factors: ["gender"] });
    });

    it("serves the run's images, and nothing outside its images folder", async () => {
      const img = attempts.find((a) => a.image)!.image!;
      const res = await c.get(`/api/runs/${id}/${img}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/png");
      expect(Buffer.from(await res.arrayBuffer()).subarray(1, 4).toString()).toBe("PNG");

      const runDir = join(c.d.manager.runsDir, id);
      symlinkSync(join(outside, "secret.png"), join(runDir, "images", "link.png"));
      symlinkSync(outside, join(c.d.manager.runsDir, "linked-run"));
      writeFileSync(join(outside, "run.json"), "{}");
      mkdirSync(join(outside, "images"), { recursive: true });
      writeFileSync(join(outside, "images", "x.png"), "secret");
      const refused = [
        `/api/runs/${id}/images/..%2Frun.json`,
        `/api/runs/${id}/images/..%2F..%2F..%2Fetc%2Fpasswd`,
        `/api/runs/${id}/images/%2e%2e`,
        `/api/runs/${id}/images/..%5Crun.json`,
        `/api/runs/${id}/images/link.png`,
        `/api/runs/..%2F..%2Fetc/images/passwd.png`,
        `/api/runs/%2e%2e/images/x.png`,
        `/api/runs/linked-run/images/x.png`,
        `/api/runs/linked-run`,
        `/api/runs/${id}/images/run.json`,
        `/assets/..%2Findex.html`,
        `/assets/..%2F..%2Fpackage.json`,
      ];
      for (const path of refused) {
        const status = (await c.get(path)).status;
        expect([400, 404], path).toContain(status);
      }
      for (const path of [`/api/runs/${id}/images/../run.json`, `/api/runs/${id}/../../../etc/passwd`, `/assets/../../package.json`]) {
        expect([400, 401, 404], path).toContain(await rawGet(c.d.origin, path, c.d.token));
      }
      // The symlinked folder is not listed as a run either.
      const list = ((await (await c.get("/api/runs")).json()) as { runs: ApiRunListItem[] }).runs;
      expect(list.map((r) => r.id)).not.toContain("linked-run");
    });

    it("streams the events already written, then the summary and state; a reconnect resumes after Last-Event-ID", async () => {
      const stream = await c.get(`/api/runs/${id}/events`);
      expect(stream.headers.get("content-type")).toMatch(/text\/event-stream/);
      const msgs = await readSse(stream, (all) => all.some((m) => m.event === "state"));
      const seqs = msgs.filter((m) => m.event === "attempt").map((m) => (m.data as ApiAttempt).seq);
      expect(seqs).toEqual(attempts.map((a) => a.seq));
      expect(msgs.filter((m) => m.event === "end")).toHaveLength(1);
      const summary = msgs.find((m) => m.event === "summary")!.data as ApiSummary;
      expect(summary.kept).toBe(8);
      expect(summary.convergence).toHaveLength(8);

      const again = await c.get(`/api/runs/${id}/events`, { "Last-Event-ID": String(attempts[2]!.seq) });
      const rest = await readSse(again, (all) => all.some((m) => m.event === "state"));
      expect(rest.filter((m) => m.event === "attempt").map((m) => (m.data as ApiAttempt).seq)).toEqual(seqs.slice(3));
    });

    it("compares runs side by side, with side effects against the none run", async () => {
      const none = await startRun(c, sim({ policy: "none", attributes: ["gender"] }));
      await c.d.manager.settled(none);
      const res = await c.get(`/api/compare?ids=${id},${none}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as ApiCompare;
      expect(body.runs.map((r) => r.id)).toEqual([id, none]);
      expect(body.runs[0]!.summary.policy).toBe("debiaspi");
      expect(body.runs[1]!.summary.policy).toBe("none");
      expect(body.runs[0]!.crossEffects.map((e) => e.attribute)).toContain("race");
    });
  });

  describe("live runs", () => {
    it("streams a live run to two watchers identically, and it goes on when they leave", async () => {
      const id = await startRun(c, sim({ n: 12, concurrency: 1, sim: { latencyMs: 25 } }));
      const untilEnd = (all: { event: string }[]): boolean => all.some((m) => m.event === "end");
      const [a, b] = await Promise.all([
        c.get(`/api/runs/${id}/events`).then((r) => readSse(r, untilEnd)),
        // The second watcher arrives late and leaves early.
        new Promise((r) => setTimeout(r, 120)).then(() => c.get(`/api/runs/${id}/events`)).then((r) => readSse(r, untilEnd)),
      ]);
      const seqOf = (ms: typeof a): number[] => ms.filter((m) => m.event === "attempt" || m.event === "end").map((m) => (m.data as { seq: number }).seq);
      expect(seqOf(a)).toEqual(seqOf(b));
      expect(seqOf(a)).toEqual([...seqOf(a).keys()]);
      const states = a.filter((m) => m.event === "state").map((m) => (m.data as { state: string }).state);
      expect(states[0]).toBe("running");

      // A watcher that leaves at once: the run still finishes.
      const id2 = await startRun(c, sim({ n: 10, concurrency: 1, sim: { latencyMs: 10 } }));
      await readSse(await c.get(`/api/runs/${id2}/events`), (all) => all.length > 0);
      await c.d.manager.settled(id2);
      const detail = (await (await c.get(`/api/runs/${id2}`)).json()) as ApiRunDetail;
      expect(detail.summary.status).toBe("complete");
      expect(detail.summary.kept).toBe(10);
    });

    it("streams refusals as they happen", async () => {
      const id = await startRun(c, sim({ n: 10, sim: { refusalRate: 0.3 } }));
      const msgs = await readSse(await c.get(`/api/runs/${id}/events`), (all) => all.some((m) => m.event === "end"));
      const refused = msgs.filter((m) => m.event === "attempt" && (m.data as ApiAttempt).decision === "refused").map((m) => m.data as ApiAttempt);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((r) => r.outcome === "refusal" && typeof r.refusal === "string" && !r.image)).toBe(true);
      const summary = msgs.filter((m) => m.event === "summary").at(-1)!.data as ApiSummary;
      expect(summary.refusals).toBe(refused.length);
      expect(summary.kept).toBe(10);
    });

    it("stops a run (resumable) and resumes it to an exact set", async () => {
      const id = await startRun(c, sim({ n: 30, concurrency: 1, sim: { latencyMs: 20 } }));
      const stream = await c.get(`/api/runs/${id}/events`);
      await readSse(stream, (all) => all.filter((m) => m.event === "attempt").length >= 3);
      const stop = await c.post(`/api/runs/${id}/stop`);
      expect(stop.status).toBe(202);
      expect(((await stop.json()) as { live: { state: string } }).live.state).toBe("stopping");
      await c.d.manager.settled(id);
      const stopped = (await (await c.get(`/api/runs/${id}`)).json()) as ApiRunDetail;
      expect(stopped.summary.status).toBe("incomplete");
      expect(stopped.summary.kept).toBeLessThan(30);
      expect(stopped.live.state).toBe("idle");
      expect(existsSync(join(c.d.manager.runsDir, id, "run.lock"))).toBe(false);
      expect((await c.post(`/api/runs/${id}/stop`)).status).toBe(409);

      expect((await c.post(`/api/runs/${id}/resume`, { maxAttempts: "many" })).status).toBe(400);
      const resumed = await c.post(`/api/runs/${id}/resume`);
      expect(resumed.status).toBe(202);
      expect((await c.post(`/api/runs/${id}/resume`)).status).toBe(409);
      await c.d.manager.settled(id);
      const done = (await (await c.get(`/api/runs/${id}`)).json()) as ApiRunDetail;
      expect(done.summary.status).toBe("complete");
      expect(done.summary.kept).toBe(30);
      expect(done.summary.exact).toBe(true);
      const again = await c.post(`/api/runs/${id}/resume`);
      expect(again.status).toBe(409);
      expect(((await again.json()) as ApiError).error).toMatch(/complete/);
    });
  });
});
