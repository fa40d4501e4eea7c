import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostAllowed, hostName } from "../../src/server/origin.js";
import { dashboard, tempDir, type Client } from "./helpers.js";

interface Answer {
  status: number;
  body: string;
}

/** A request with exactly these headers (fetch would set Origin and Host itself). */
function raw(origin: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const { hostname, port } = new URL(origin);
  return new Promise((ok, fail) => {
    const req = request({ hostname, port, path, method, headers: { ...(body ? { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => ok({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", fail);
    req.end(body);
  });
}

const run = { prompt: "a photo of the face of a CEO", n: 40, attributes: ["gender"], seed: 3, concurrency: 1, sim: { latencyMs: 50 } };

describe("dashboard: requests from other origins and other host names", () => {
  let c: Client;
  let cookie: string;
  /** Another server on another port of 127.0.0.1: the page an attacker serves. */
  let other: Server;
  let otherOrigin: string;

  beforeAll(async () => {
    c = await dashboard(tempDir());
    const first = await fetch(`${c.d.origin}/?token=${c.d.token}`, { redirect: "manual" });
    cookie = first.headers.get("set-cookie")!.split(";")[0]!;
    other = createServer((_req, res) => res.end("<script>/* hostile */</script>"));
    await new Promise<void>((ok) => other.listen(0, "127.0.0.1", () => ok()));
    otherOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await c.d.close();
    await new Promise<void>((ok) => other.close(() => ok()));
  });

  it("refuses with 403 a state change sent by a page on another port, even with the token's cookie, and starts nothing", async () => {
    const host = new URL(c.d.origin).host;
    // What a browser sends for fetch(DASHBOARD/api/runs, { method: "POST", credentials: "include" }) from otherOrigin.
    const fromOther = { Host: host, Origin: otherOrigin, Cookie: cookie, "Sec-Fetch-Site": "same-site" };
    const start = await raw(c.d.origin, "POST", "/api/runs", fromOther, JSON.stringify(run));
    expect(start.status).toBe(403);
    expect(start.body).toMatch(/another origin/);
    expect(c.d.manager.list()).toHaveLength(0);
    // Without Origin but marked cross-site by the browser: refused too.
    expect((await raw(c.d.origin, "POST", "/api/runs", { Host: host, Cookie: cookie, "Sec-Fetch-Site": "same-site" }, JSON.stringify(run))).status).toBe(403);
    // An opaque origin (sandboxed frame, file://).
    expect((await raw(c.d.origin, "POST", "/api/runs", { Host: host, Origin: "null", Cookie: cookie }, JSON.stringify(run))).status).toBe(403);

    // The dashboard's own page may.
    const own = await raw(c.d.origin, "POST", "/api/runs", { Host: host, Origin: c.d.origin, Cookie: cookie, "Sec-Fetch-Site": "same-origin" }, JSON.stringify(run));
    expect(own.status).toBe(201);
    const id = (JSON.parse(own.body) as { id: string }).id;

    // Stop and resume from the other port: refused, the run goes on.
    expect((await raw(c.d.origin, "POST", `/api/runs/${id}/stop`, fromOther)).status).toBe(403);
    expect(c.d.manager.liveState(id).state).toBe("running");
    expect((await raw(c.d.origin, "POST", `/api/runs/${id}/stop`, { Host: host, Origin: c.d.origin, Cookie: cookie })).status).toBe(202);
    await c.d.manager.settled(id);
    expect((await raw(c.d.origin, "POST", `/api/runs/${id}/resume`, fromOther)).status).toBe(403);
    expect(c.d.manager.liveState(id).state).toBe("idle");
    // A script with the bearer token and no Origin (curl) still works.
    expect((await raw(c.d.origin, "POST", `/api/runs/${id}/resume`, { Host: host, Authorization: `Bearer ${c.d.token}` })).status).toBe(202);
    await c.d.manager.settled(id);
  });

  it("refuses a Host that is not this server's (DNS rebinding), for pages, API and assets", async () => {
    const port = c.d.port;
    for (const path of ["/", "/api/runs", "/assets/x.js"]) {
      const res = await raw(c.d.origin, "GET", `${path}${path === "/" ? `?token=${c.d.token}` : ""}`, { Host: `attacker.example:${port}`, Authorization: `Bearer ${c.d.token}` });
      expect(res.status).toBe(403);
      expect(res.body).toMatch(/not this dashboard's address/);
    }
    expect((await raw(c.d.origin, "GET", "/api/runs", { Host: `localhost:${port}`, Authorization: `Bearer ${c.d.token}` })).status).toBe(200);
    expect((await raw(c.d.origin, "GET", "/api/runs", { Host: `127.0.0.1:${port}`, Authorization: `Bearer ${c.d.token}` })).status).toBe(200);
  });

  it("reads host names from Host headers", () => {
    expect(hostName("[::1]:8431")).toBe("::1");
    expect(hostName("LocalHost:80")).toBe("localhost");
    expect(hostName("localhost.")).toBe("localhost");
    expect(hostName("a:b:c")).toBeUndefined();
    expect(hostAllowed("10.0.0.7", "0.0.0.0")).toBe(true);
    expect(hostAllowed("evil.test", "127.0.0.1")).toBe(false);
    expect(hostAllowed("my-box", "my-box")).toBe(true);
  });
});
