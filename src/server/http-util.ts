import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiError, FieldError } from "./api-types.js";

/** The largest request body accepted (run settings are a few KB). */
export const MAX_BODY_BYTES = 64 * 1024;

/** An answer other than 2xx, with the message the client shows. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
  }
}

const SECURITY_HEADERS: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
};

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
  });
  res.end(text);
}

export function sendError(res: ServerResponse, e: HttpError): void {
  const body: ApiError = { error: e.message, ...(e.errors ? { errors: e.errors } : {}) };
  sendJson(res, e.status, body);
}

export function sendText(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": type, "Content-Length": Buffer.byteLength(body), ...extra });
  res.end(body);
}

export { SECURITY_HEADERS };

/**
 * Reads a JSON body of at most `limit` bytes. 413 when larger (refused from Content-Length before
 * reading, or as soon as the stream passes the limit), 415 when it is not JSON, 400 when unparsable.
 * An empty body is `{}`.
 */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new HttpError(413, `request body of ${declared} bytes is larger than the accepted ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) {
      req.resume();
      throw new HttpError(413, `request body is larger than the accepted ${limit} bytes`);
    }
    chunks.push(buf);
  }
  if (size === 0) return {};
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") throw new HttpError(415, `request body must be JSON (Content-Type: application/json), got ${type || "no Content-Type"}`);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch (e) {
    throw new HttpError(400, `request body is not valid JSON: ${(e as Error).message}`);
  }
}
