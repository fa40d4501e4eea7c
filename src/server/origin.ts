/**
 * Who may talk to the dashboard, beyond the token: a request must name this server in its `Host`
 * (a page on another domain that re-binds its name to 127.0.0.1 sends that name: refused), and a
 * request that changes state must come from this server's own page (`Origin`), since the token's
 * cookie is also sent by pages on other ports of the same machine (SameSite does not tell ports apart).
 */
import { isIP } from "node:net";
import { hostname } from "node:os";
import type { IncomingMessage } from "node:http";
import { HttpError } from "./http-util.js";

/** Methods that only read. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The host name of a `Host` header value (`[::1]:8431` -> `::1`, `Localhost:80` -> `localhost`); undefined when malformed. */
export function hostName(header: string): string | undefined {
  const h = header.trim().toLowerCase();
  if (h === "") return undefined;
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    if (end < 0) return undefined;
    const rest = h.slice(end + 1);
    if (rest !== "" && !/^:\d{1,5}$/.test(rest)) return undefined;
    return h.slice(1, end);
  }
  const m = /^([^:]+)(?::\d{1,5})?$/.exec(h);
  return m ? m[1]!.replace(/\.$/, "") : undefined;
}

/**
 * The names this server answers to: IP addresses (a re-bound domain never arrives as one), `localhost`,
 * this machine's name, the interface it listens on and any extra names given.
 */
export function hostAllowed(name: string, listenHost: string, extra: readonly string[] = []): boolean {
  if (isIP(name) !== 0) return true;
  const names = new Set(["localhost", hostname().toLowerCase(), listenHost.toLowerCase(), ...extra.map((e) => e.toLowerCase())]);
  return names.has(name) || name.endsWith(".localhost");
}

/** 403 when the Host header does not name this server (DNS rebinding). */
export function checkHost(req: IncomingMessage, listenHost: string, extra: readonly string[] = []): void {
  const name = hostName(req.headers.host ?? "");
  if (name === undefined || !hostAllowed(name, listenHost, extra)) {
    throw new HttpError(403, `Host "${req.headers.host ?? ""}" is not this dashboard's address; open the address that \`debiaspi serve\` printed`);
  }
}

/**
 * 403 for a request that changes state (any method but GET, HEAD, OPTIONS) sent by a page of another
 * origin: its `Origin` must be `http://` + this request's Host (the dashboard's own page), and a
 * browser's `Sec-Fetch-Site` must say same-origin. Requests without either header (curl, scripts with
 * the bearer token) are not from a page, and pass.
 */
export function checkOrigin(req: IncomingMessage): void {
  const method = (req.method ?? "GET").toUpperCase();
  if (SAFE_METHODS.has(method)) return;
  const origin = req.headers.origin;
  const site = req.headers["sec-fetch-site"];
  const own = `http://${(req.headers.host ?? "").toLowerCase()}`;
  if (origin !== undefined && origin.toLowerCase() !== own) {
    throw new HttpError(403, `${method} from another origin (${origin}) is refused: only the dashboard's own page (${own}) may change runs`);
  }
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    throw new HttpError(403, `${method} from another site (Sec-Fetch-Site: ${site}) is refused: only the dashboard's own page may change runs`);
  }
}
