/**
 * Late SSE watchers: the dashboard's memory while many watchers replay a finished run and do not
 * read (a stalled browser tab, a script that opened the stream and forgot it). Each watcher is
 * written only as fast as it reads, so the server should hold about one socket buffer per watcher,
 * not a copy of the replay.
 */
import { statSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { spawn } from "node:child_process";
import { request, type ClientRequest, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { run } from "../src/api.js";
import { startDashboard } from "../src/server/server.js";
import { progress } from "./util.js";

/** Opens N event streams and never reads them; prints "ready" once every one has its headers. */
const STALLED_CLIENTS = `
const http = require("node:http");
const [host, port, path, token, n] = process.argv.slice(1);
let open = 0;
const keep = [];
for (let k = 0; k < Number(n); k++) {
  const req = http.request({ host, port, path, headers: { Authorization: "Bearer " + token } }, (res) => {
    res.pause();
    keep.push(res);
    if (++open === Number(n)) process.stdout.write("ready\\n");
  });
  req.on("error", () => {});
  req.end();
}
setInterval(() => {}, 1000);
`;

export const SSE_WATCHERS = 200;
/** Run sizes: memory bounded per watcher means the same growth for a short and a long replay. */
export const SSE_RUN_SIZES = [100, 10000] as const;

export interface SseBenchResult {
  n: number;
  watchers: number;
  events: number;
  /** Size of the run's events.jsonl, bytes. */
  eventsBytes: number;
  /** Bytes of SSE one full replay is. */
  replayBytes: number;
  /** Server heap + external + array buffers after the watchers connected, minus before, bytes. */
  growthBytes: number;
}

function collect(): () => void {
  setFlagsFromString("--expose_gc");
  return runInNewContext("gc") as () => void;
}

const used = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
};

export async function sseBench(): Promise<SseBenchResult[]> {
  const out: SseBenchResult[] = [];
  for (const n of SSE_RUN_SIZES) out.push(await sseOnce(n));
  return out;
}

async function sseOnce(n: number): Promise<SseBenchResult> {
  const gc = collect();
  const runsDir = mkdtempSync(join(tmpdir(), "debiaspi-bench-sse-"));
  const { summary } = await run({ prompt: "a photo of the face of a CEO", n, attributes: ["gender", "race"], seed: 1, concurrency: 8, out: runsDir, sim: { render: false } });
  const eventsBytes = statSync(join(summary.runDir, "events.jsonl")).size;
  const id = summary.runDir.split("/").at(-1)!;
  const d = await startDashboard({ runsDir, experimentsDir: mkdtempSync(join(tmpdir(), "debiaspi-bench-sse-exp-")), port: 0 });
  const { hostname, port } = new URL(d.origin);
  const open = (paused: boolean): Promise<{ req: ClientRequest; res: IncomingMessage; bytes: () => number; replayed: () => boolean }> =>
    new Promise((ok, fail) => {
      let done = false;
      const req = request({ hostname, port, path: `/api/runs/${encodeURIComponent(id)}/events`, headers: { Authorization: `Bearer ${d.token}` } }, (res) => {
        let n = 0;
        let tail = "";
        if (paused) res.pause();
        else
          res.on("data", (c: Buffer) => {
            n += c.length;
            tail = (tail + c.toString("utf8")).slice(-4096);
            if (tail.includes("event: state")) done = true;
          });
        ok({ req, res, bytes: () => n, replayed: () => done });
      });
      req.on("error", fail);
      req.end();
    });

  // One watcher that reads everything: the size of a replay.
  const reader = await open(false);
  // The replay ends with the summary and the state (the state comes after the summary).
  const until = Date.now() + 60_000;
  await new Promise<void>((ok, fail) => {
    const t = setInterval(() => {
      if (reader.replayed() || Date.now() > until) {
        clearInterval(t);
        if (!reader.replayed()) fail(new Error("sse bench: the replay did not end within 60 s"));
        else ok();
      }
    }, 20);
  });
  const replayBytes = reader.bytes();
  reader.req.destroy();

  gc();
  await new Promise((r) => setTimeout(r, 200));
  gc();
  const before = used();
  // The stalled watchers live in another process, so only the server's memory is measured.
  const child = spawn(process.execPath, ["-e", STALLED_CLIENTS, hostname, port, `/api/runs/${encodeURIComponent(id)}/events`, d.token, String(SSE_WATCHERS)], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((ok, fail) => {
    child.stdout.on("data", (c: Buffer) => {
      if (c.toString().includes("ready")) ok();
    });
    child.on("exit", (code) => fail(new Error(`sse bench: the watchers' process ended (${code})`)));
  });
  await new Promise((r) => setTimeout(r, 1500));
  gc();
  const after = used();
  progress(`sse: ${SSE_WATCHERS} stalled watchers of a ${(replayBytes / 1e6).toFixed(1)} MB replay: +${((after - before) / 1e6).toFixed(1)} MB`);
  child.removeAllListeners("exit");
  const gone = new Promise<void>((ok) => child.once("exit", () => ok()));
  child.kill();
  await gone;
  await d.close();
  const events = summary.attempts + 1;
  return { n, watchers: SSE_WATCHERS, events, eventsBytes, replayBytes, growthBytes: after - before };
}
