import { mkdtempSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDashboard, type Dashboard } from "../../src/server/server.js";

export const tempDir = (prefix = "debiaspi-serve-"): string => mkdtempSync(join(tmpdir(), prefix));

export interface Client {
  d: Dashboard;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

/** A dashboard on a free port with a client that sends its token. */
export async function dashboard(runsDir = tempDir(), webRoot?: string, experimentsDir = tempDir("debiaspi-exp-")): Promise<Client> {
  const d = await startDashboard({ runsDir, experimentsDir, port: 0, ...(webRoot ? { webRoot } : {}) });
  const auth = { Authorization: `Bearer ${d.token}` };
  return {
    d,
    get: (path, headers = {}) => fetch(`${d.origin}${path}`, { headers: { ...auth, ...headers }, redirect: "manual" }),
    post: (path, body, headers = {}) =>
      fetch(`${d.origin}${path}`, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json", ...headers },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
        redirect: "manual",
      }),
  };
}

export interface SseMessage {
  event: string;
  id?: string;
  data: unknown;
}

/** Reads server-sent events until `stop` says so (or the stream ends); returns them in order. */
export async function readSse(res: Response, stop: (all: SseMessage[]) => boolean): Promise<SseMessage[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const all: SseMessage[] = [];
  let buf = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let idx: number;
      while ((idx = buf.indexOf("\n\n")) >= 0) {
        const frame = buf.slice(0, idx);
        buf = buf.slice(idx + 2);
        const msg: Partial<SseMessage> = {};
        for (const line of frame.split("\n")) {
          if (line.startsWith("event: ")) msg.event = line.slice(7);
          else if (line.startsWith("id: ")) msg.id = line.slice(4);
          else if (line.startsWith("data: ")) msg.data = JSON.parse(line.slice(6)) as unknown;
        }
        if (msg.event) all.push(msg as SseMessage);
      }
      if (stop(all)) break;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return all;
}

/** A GET with the path sent exactly as written (fetch would normalise `..`). */
export function rawGet(origin: string, path: string, token: string): Promise<number> {
  const { hostname, port } = new URL(origin);
  return new Promise((ok, fail) => {
    const req = request({ hostname, port, path, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      ok(res.statusCode ?? 0);
    });
    req.on("error", fail);
    req.end();
  });
}
