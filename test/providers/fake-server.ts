import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PNG } from "pngjs";

/** One request the fake server received, with its whole body. */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/v1/images/generations`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the server answers one request (write to `res`, or never answer, or destroy the socket). */
export type Answer = (res: ServerResponse, req: RecordedRequest) => void;

export interface FakeServer {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  url: string;
  requests: RecordedRequest[];
  hits(): number;
  close(): Promise<void>;
}

/**
 * A local HTTP server on 127.0.0.1 (port 0) answering request k with `answers[k]` (the last answer
 * repeats), or with the one function given. It records every request (method, path, headers, body).
 */
export async function startFakeServer(answers: Answer | Answer[]): Promise<FakeServer> {
  const list = Array.isArray(answers) ? answers : [answers];
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rec: RecordedRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      const answer = list[Math.min(requests.length, list.length - 1)]!;
      requests.push(rec);
      answer(res, rec);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    hits: () => requests.length,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Answers with a JSON body. */
export const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  (res) => {
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
  };

/** Answers with the OpenAI error shape `{"error":{"message","type","param","code"}}`. */
export const openaiError = (status: number, message: string, type: string, code: string | null, headers: Record<string, string> = {}): Answer =>
  json(status, { error: { message, type, param: null, code } }, headers);

/** Never answers (for timeouts). */
export const hang: Answer = () => {};

/** Drops the connection without an answer. */
export const destroy: Answer = (res) => {
  res.socket?.destroy();
};

/** A valid 2x2 PNG, as bytes. */
export function tinyPng(): Buffer {
  const png = new PNG({ width: 2, height: 2 });
  png.data.fill(200);
  return PNG.sync.write(png);
}

/** Sends the status line, headers and the first `bytes` bytes of a longer body, then drops the connection. */
export const dropMidBody =
  (status: number, body: string | Buffer, bytes = 16, headers: Record<string, string> = {}): ((res: ServerResponse) => void) =>
  (res) => {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": String(buf.length), ...headers });
    res.write(buf.subarray(0, Math.min(bytes, buf.length - 1)), () => setTimeout(() => res.socket?.destroy(), 10));
  };
