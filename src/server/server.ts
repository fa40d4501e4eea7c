import { mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { DEFAULT_EXPERIMENTS_DIR } from "../config/settings.js";
import { InputError } from "../core/errors.js";
import { packageRoot } from "../util/paths.js";
import type { ApiPromptSet } from "./api-types.js";
import { authenticate, newToken, tokenCookie } from "./auth.js";
import { HttpError, SECURITY_HEADERS, sendError, sendText } from "./http-util.js";
import { checkHost, checkOrigin } from "./origin.js";
import { apiRoutes, matchRoute } from "./routes.js";
import { builtinPromptSets } from "./prompt-sets.js";
import { RunManager } from "./runs.js";
import { WebFiles } from "./static.js";

export interface DashboardOptions {
  /** The runs folder: listed, and where new runs go. Created when missing. */
  runsDir: string;
  /** The experiments folder: experiments listed, their cells opened as runs (default: ./experiments, as `experiment` and `serve`). */
  experimentsDir?: string;
  /** Interface to listen on (default 127.0.0.1, this machine only). */
  host?: string;
  /** Port (default 0: a free one). */
  port?: number;
  /** Access token (default: 32 random bytes, hex). */
  token?: string;
  /** The built page (default dist/web of the package). */
  webRoot?: string;
  /**
   * Let runs started from the dashboard send the API keys of the server's environment to any base URL
   * their settings name (default false: a key goes only to the base URL from the environment or the
   * provider's default, so a web page cannot point the server's key at its own server).
   */
  allowAnyBaseUrl?: boolean;
  /** The prompt sets offered by the form (default: the built-in ones). */
  promptSets?: () => ApiPromptSet[];
}

export interface Dashboard {
  /** The address to open, token included. */
  url: string;
  origin: string;
  token: string;
  port: number;
  manager: RunManager;
  /** Stops the runs (they stay resumable), closes every connection and the server. */
  close(): Promise<void>;
}

const UNAUTHORIZED_PAGE = `<!doctype html><meta charset="utf-8"><title>debiaspi: access token needed</title>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5">
<h1>Access token needed</h1><p>This dashboard only answers requests that carry its access token.
Open the address that <code>debiaspi serve</code> printed: it ends with <code>?token=...</code>.</p></body>`;

export const defaultWebRoot = (): string => join(packageRoot(), "dist", "web");

/** Starts the dashboard server; resolves once it listens. */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const runsDir = resolve(options.runsDir);
  mkdirSync(runsDir, { recursive: true });
  const token = options.token ?? newToken();
  if (token.length < 16) throw new InputError("the access token must be at least 16 characters");
  const host = options.host ?? "127.0.0.1";
  const manager = new RunManager(runsDir, resolve(options.experimentsDir ?? DEFAULT_EXPERIMENTS_DIR), options.allowAnyBaseUrl ? "any" : "env");
  const web = new WebFiles(options.webRoot ?? defaultWebRoot());
  const routes = apiRoutes({ manager, promptSets: options.promptSets ?? builtinPromptSets });
  let port = options.port ?? 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    const path = url.pathname;
    checkHost(req, host);
    checkOrigin(req);
    if (method === "GET" && path.startsWith("/assets/")) {
      if (web.sendAsset(res, decodeURIComponent(path.slice("/assets/".length)))) return;
      throw new HttpError(404, `no file ${path}`);
    }
    const auth = authenticate(req, url, token, port);
    if (path === "/" || path === "/index.html") {
      if (method !== "GET") throw new HttpError(405, `${method} is not accepted on ${path}`);
      if (!auth) return sendText(res, 401, "text/html; charset=utf-8", UNAUTHORIZED_PAGE, { "Cache-Control": "no-store" });
      if (auth === "query") {
        // Keep the token out of the address bar and the history: set the cookie, then load the page without it.
        url.searchParams.delete("token");
        res.writeHead(303, { ...SECURITY_HEADERS, Location: `/${url.search}`, "Set-Cookie": tokenCookie(token, port), "Cache-Control": "no-store" });
        res.end();
        return;
      }
      return web.sendIndex(res);
    }
    if (!path.startsWith("/api/")) throw new HttpError(404, `no page ${path}; the dashboard is at /`);
    if (!auth) throw new HttpError(401, "missing or wrong access token: open the address printed by `debiaspi serve`, or send Authorization: Bearer <token>");
    const route = matchRoute(routes, method, path);
    if (!route) throw new HttpError(404, `no API route ${method} ${path}`);
    await route.handler({ req, res, url, params: route.params });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      let err: HttpError;
      if (e instanceof HttpError) err = e;
      else if (e instanceof InputError) err = new HttpError(400, e.message);
      else {
        process.stderr.write(`debiaspi serve: internal error on ${req.method} ${req.url?.split("?")[0]}: ${(e as Error).stack ?? String(e)}\n`);
        err = new HttpError(500, `internal error: ${(e as Error).message}`);
      }
      if (err.status === 413) res.setHeader("Connection", "close");
      sendError(res, err);
    });
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;

  await new Promise<void>((ok, fail) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE") fail(new InputError(`port ${port} on ${host} is in use; choose another with --port (0 = any free port)`));
      else if (e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND") fail(new InputError(`cannot listen on ${host}: no such interface on this machine`));
      else if (e.code === "EACCES") fail(new InputError(`not allowed to listen on ${host}:${port}; ports below 1024 need privileges, pick a higher one`));
      else fail(e);
    });
    server.listen(port, host, () => ok());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  const origin = `http://${shownHost}:${port}`;

  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    port,
    manager,
    async close() {
      await manager.close();
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
    },
  };
}
