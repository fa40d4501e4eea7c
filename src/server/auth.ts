import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** A fresh access token: 32 random bytes, hex. */
export function newToken(): string {
  return randomBytes(32).toString("hex");
}

/** The cookie that carries the token after the first page load; named per port, as cookies do not tell ports apart. */
export const cookieName = (port: number): string => `debiaspi_token_${port}`;

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given, "utf8");
  const b = Buffer.from(token, "utf8");
  // timingSafeEqual needs equal lengths; comparing against itself keeps the time independent of the input.
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Where the request's token came from, if it carries the right one. */
export type TokenSource = "header" | "query" | "cookie";

/**
 * Checks the request's token: `Authorization: Bearer <token>`, `?token=<token>` (first page load,
 * scripts) or the cookie set on the first page load (EventSource, images). Constant-time compare.
 */
export function authenticate(req: IncomingMessage, url: URL, token: string, port: number): TokenSource | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith("Bearer ") && sameToken(auth.slice(7).trim(), token)) return "header";
  const q = url.searchParams.get("token");
  if (q !== null && sameToken(q, token)) return "query";
  const c = cookieValue(req.headers.cookie, cookieName(port));
  if (c !== undefined && sameToken(c, token)) return "cookie";
  return undefined;
}

/** The Set-Cookie header value for the token: not readable by scripts, not sent by other sites. */
export function tokenCookie(token: string, port: number): string {
  return `${cookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict`;
}
