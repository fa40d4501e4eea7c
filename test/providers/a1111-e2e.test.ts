import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { PNG } from "pngjs";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../cli/helpers.js";
import { startFakeServer, type FakeServer } from "./fake-server.js";

const BIN = resolve(__dirname, "../../bin/debiaspi.js");
const SECRET = "user:Sup3rSecret-a1111-pass";
const SECRET_B64 = Buffer.from(SECRET).toString("base64");

/** A 4x4 PNG whose colour depends on the seed, so every image is its own file. */
function pngFor(seed: number): string {
  const png = new PNG({ width: 4, height: 4 });
  for (let i = 0; i < png.data.length; i += 4) {
    png.data[i] = seed & 255;
    png.data[i + 1] = (seed >>> 8) & 255;
    png.data[i + 2] = (seed >>> 16) & 255;
    png.data[i + 3] = 255;
  }
  return PNG.sync.write(png).toString("base64");
}

/** Runs the CLI without blocking this process (the fake server answers from here). */
function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (status) => done({ status, stdout, stderr }));
  });
}

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Every file below a folder, as text. */
function allText(dir: string): string {
  let out = "";
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    out += statSync(p).isDirectory() ? allText(p) : readFileSync(p).toString("latin1");
  }
  return out;
}

describe("a1111 end to end: kill -9, resume, no key anywhere", () => {
  it("completes after a kill, generates no attempt twice, and writes no credential", async () => {
    server = await startFakeServer((res, req) => {
      const body = JSON.parse(req.body) as { seed: number };
      setTimeout(() => {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ images: [pngFor(body.seed)], parameters: {}, info: JSON.stringify({ seed: body.seed, sd_model_name: "fake-xl" }) }));
      }, 25);
    });
    const out = tempDir();
    const env = { ...process.env, A1111_AUTH: SECRET };
    const args = ["run", "a photo of the face of a CEO", "--provider", `a1111:${server.url}`, "--attributes", "gender", "--n", "12", "--observer", "requested", "--seed", "4", "--concurrency", "2", "--out", out, "--no-progress"];
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: "ignore" });
    const killed = await new Promise<boolean>((done) => {
      const poll = setInterval(() => {
        const dirs = readdirSync(out).filter((d) => !d.startsWith("."));
        const ev = dirs[0] ? join(out, dirs[0], "events.jsonl") : "";
        if (ev && existsSync(ev) && readFileSync(ev, "utf8").split("\n").length > 4) {
          clearInterval(poll);
          child.kill("SIGKILL");
        }
      }, 2);
      child.on("exit", (code) => {
        clearInterval(poll);
        done(code === null);
      });
    });
    expect(killed).toBe(true);
    const runDir = join(out, readdirSync(out).filter((d) => !d.startsWith("."))[0]!);
    const resumed = await runCli(["resume", runDir, "--json", "--no-progress"], env);
    expect(resumed.stderr).toBe("");
    expect(resumed.status).toBe(0);
    const summary = JSON.parse(resumed.stdout) as { kept: number; exact: boolean; provider: string };
    expect(summary.kept).toBe(12);
    expect(summary.exact).toBe(true);

    const events = readFileSync(join(runDir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { type: string; i?: number; seed?: number });
    const attempts = events.filter((e) => e.type === "attempt");
    expect(new Set(attempts.map((e) => e.i)).size).toBe(attempts.length);
    // Every image the server made for a recorded attempt was received once per attempt.
    const sentSeeds = server.requests.map((r) => (JSON.parse(r.body) as { seed: number }).seed);
    for (const a of attempts) expect(sentSeeds).toContain(a.seed);
    expect(server.requests.every((r) => r.headers.authorization === `Basic ${SECRET_B64}`)).toBe(true);

    // No credential in the run folder, the cache, or what was printed.
    const everything = allText(out) + resumed.stdout + resumed.stderr;
    expect(everything).not.toContain("Sup3rSecret");
    expect(everything).not.toContain(SECRET_B64);
    const shown = await runCli(["show", runDir], env);
    expect(shown.stdout).not.toContain("Sup3rSecret");
  }, 60_000);
});
