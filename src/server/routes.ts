import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { dashboardDefaults } from "../config/settings.js";
import { issueMessage } from "../config/schema.js";
import { MAX_N } from "../core/target.js";
import { builtinTaxonomy } from "../core/taxonomy.js";
import { observerEntries } from "../observers/index.js";
import { POLICY_IDS } from "../policies/types.js";
import { providerEntries } from "../providers/index.js";
import { compareRuns } from "../analysis/compare.js";
import type { ApiAttempt, ApiCompare, ApiOptions, ApiPromptSet, ApiStreamEvent } from "./api-types.js";
import type { ReportRun } from "../analysis/model.js";
import { confinedPath, sniffImageFile } from "./confine.js";
import { toApiAttempt } from "./feed.js";
import { HttpError, MAX_BODY_BYTES, readJsonBody, SECURITY_HEADERS, sendJson, sendText } from "./http-util.js";
import { renderCompareCharts, renderConvergenceChart, renderReport } from "./report.js";
import { loadReportRun } from "../analysis/load.js";
import type { RunManager } from "./runs.js";
import { CONTENT_TYPES } from "./static.js";
import { thumbnailOf } from "./thumbs.js";
import { DRAWN_MIME, drawPng } from "../image/drawing.js";
import { validateRunRequest } from "./validate.js";
import { validateExperimentRequest } from "./experiment-request.js";

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
}

export interface ApiDeps {
  manager: RunManager;
  promptSets: () => ApiPromptSet[];
}

type Handler = (ctx: RouteContext) => Promise<void> | void;

interface Route {
  method: "GET" | "POST";
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

/** Turns "/api/runs/:id/images/:file" into a RegExp whose groups are the decoded segments. */
function compile(path: string): { pattern: RegExp; keys: string[] } {
  const keys: string[] = [];
  const source = path
    .split("/")
    .map((seg) => {
      if (!seg.startsWith(":")) return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      keys.push(seg.slice(1));
      return "([^/]+)";
    })
    .join("/");
  return { pattern: new RegExp(`^${source}$`), keys };
}

const resumeBody = z.object({ maxAttempts: z.number().int().min(1).optional() }).strict();
const IMAGE_TYPES = new Set([".png", ".jpg", ".jpeg", ".webp", ".gif"]);
/** Run images and their thumbnails are content-addressed: a URL's answer never changes. */
const IMMUTABLE = "private, max-age=31536000, immutable";
/** At most this many runs side by side. */
export const MAX_COMPARE = 8;

/** Writes one server-sent event; false when the connection's buffer is full. */
function sse(res: ServerResponse, msg: ApiStreamEvent): boolean {
  const id = msg.type === "attempt" || msg.type === "end" ? `id: ${msg.data.seq}\n` : "";
  return res.write(`event: ${msg.type}\n${id}data: ${JSON.stringify(msg.data)}\n\n`);
}

/** The API under /api/: every route the page uses, for scripts too. */
export function apiRoutes({ manager, promptSets }: ApiDeps): Route[] {
  const routes: Route[] = [];
  const add = (method: Route["method"], path: string, handler: Handler): void => {
    routes.push({ method, ...compile(path), handler });
  };

  add("GET", "/api/options", ({ res }) => {
    const body: ApiOptions = {
      attributes: builtinTaxonomy().attributes.map((a) => ({ id: a.id, label: a.label, ordered: a.ordered, categories: a.categories.map((c) => ({ id: c.id, label: c.label })) })),
      policies: [...POLICY_IDS],
      providers: providerEntries().map(([id, e]) => ({ id, description: e.description, usage: e.usage, env: e.env })),
      observers: observerEntries().map(([id, e]) => ({ id, description: e.description })),
      promptSets: promptSets(),
      defaults: dashboardDefaults(),
      limits: { maxN: MAX_N, maxBodyBytes: MAX_BODY_BYTES },
      runsDir: manager.runsDir,
    };
    sendJson(res, 200, body);
  });

  add("GET", "/api/runs", ({ res }) => sendJson(res, 200, { runs: manager.list() }));

  add("POST", "/api/runs/validate", async ({ req, res }) => {
    const v = validateRunRequest(await readJsonBody(req), manager.runsDir, manager.keyScope);
    sendJson(res, 200, v.ok ? { ok: true, errors: [] } : { ok: false, errors: v.errors });
  });

  add("POST", "/api/runs", async ({ req, res }) => {
    const v = validateRunRequest(await readJsonBody(req), manager.runsDir, manager.keyScope);
    if (!v.ok) throw new HttpError(400, `the run settings were not accepted: ${v.errors.map((e) => `${e.field}: ${e.message}`).join("; ")}`, v.errors);
    const id = await manager.start(v.plan);
    sendJson(res, 201, { id, live: manager.liveState(id) });
  });

  add("GET", "/api/runs/:id", ({ res, params }) => sendJson(res, 200, manager.detail(params.id!)));

  add("GET", "/api/runs/:id/attempts", ({ res, params }) => {
    const { events } = manager.load(params.id!);
    const attempts: ApiAttempt[] = [];
    events.forEach((e, seq) => {
      if (e.type === "attempt") attempts.push(toApiAttempt(e, seq));
    });
    sendJson(res, 200, { attempts });
  });

  add("GET", "/api/runs/:id/events", ({ req, res, url, params }) => {
    const id = params.id!;
    const feed = manager.feed(id);
    const last = Number(req.headers["last-event-id"] ?? NaN);
    const from = Number.isInteger(last) ? last + 1 : Math.max(0, Math.floor(Number(url.searchParams.get("from") ?? 0)) || 0);
    res.writeHead(200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    res.write("retry: 2000\n\n");
    const unsubscribe = feed.subscribe({ write: (msg) => sse(res, msg), onDrain: (resume) => res.once("drain", resume) }, from);
    const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
    req.on("close", () => {
      clearInterval(ping);
      unsubscribe();
      manager.releaseFeed(id);
    });
  });

  /**
   * A run's image file from URL parameters: its folder, its real path (inside the run's images folder:
   * a link to run.json or anywhere else is not an image of the run) and its type as its bytes say
   * (never the name's); 404 for anything else.
   */
  const runImage = (params: Record<string, string>): { dir: string; path: string; type: string } => {
    const dir = manager.dirOf(params.id!);
    const file = params.file!;
    const images = IMAGE_TYPES.has(extname(file).toLowerCase()) ? confinedPath(dir, "images") : undefined;
    const path = images ? confinedPath(images, file) : undefined;
    if (!path) throw new HttpError(404, `no image "${file}" in run "${params.id}"`);
    const type = sniffImageFile(path);
    if (!type) throw new HttpError(415, `"${file}" in run "${params.id}" is not an image that can be decoded (accepted: PNG, JPEG, WebP, GIF)`);
    return { dir, path, type };
  };

  /**
   * A drawn image (image/drawing.ts) of an existing run: drawn from its name, in memory, whether or not a report drew
   * it into a file before (the bytes are the same; a GET writes nothing into the run folder). It is smaller than a
   * thumbnail, so it is its own thumbnail.
   */
  const drawnImage = (params: Record<string, string>): Buffer | undefined => {
    const drawn = drawPng(params.file!);
    if (!drawn) return undefined;
    manager.dirOf(params.id!); // 404 for a run that does not exist
    return Buffer.from(drawn.buffer, drawn.byteOffset, drawn.byteLength);
  };

  add("GET", "/api/runs/:id/images/:file", ({ res, params }) => {
    const drawn = drawnImage(params);
    if (drawn) return sendText(res, 200, DRAWN_MIME, drawn, { "Cache-Control": IMMUTABLE });
    const { path, type } = runImage(params);
    sendText(res, 200, type, readFileSync(path), { "Cache-Control": IMMUTABLE });
  });

  add("GET", "/api/runs/:id/thumbs/:file", async ({ req, res, params }) => {
    const drawn = drawnImage(params);
    if (drawn) return sendText(res, 200, DRAWN_MIME, drawn, { "Cache-Control": IMMUTABLE });
    const { dir, path, type } = runImage(params);
    const thumb = await thumbnailOf(dir, path);
    if (!thumb) throw new HttpError(415, `"${params.file}" in run "${params.id}" is not an image that can be decoded (accepted: PNG, JPEG, WebP, GIF)`);
    const etag = `"${basename(thumb.file)}"`;
    const headers = { "Cache-Control": IMMUTABLE, ETag: etag };
    if ((req.headers["if-none-match"] ?? "").split(",").some((t) => t.trim().replace(/^W\//, "") === etag)) {
      res.writeHead(304, { ...SECURITY_HEADERS, ...headers });
      res.end();
      return;
    }
    sendText(res, 200, thumb.file === path ? type : (CONTENT_TYPES[extname(thumb.file).toLowerCase()] ?? type), readFileSync(thumb.file), headers);
  });

  const imageUrl = (run: ReportRun, rel: string): string =>
    `/api/runs/${encodeURIComponent(manager.idOf(run.runDir))}/${rel.split("/").map(encodeURIComponent).join("/")}`;
  /** The gallery shows thumbnails (images/<file> -> thumbs/<file>); the link opens the full image. */
  const reportLinks = {
    imageUrl,
    thumbnailUrl: (run: ReportRun, rel: string): string => imageUrl(run, rel.replace(/^images\//, "thumbs/")),
  };

  add("GET", "/api/runs/:id/charts/convergence", async ({ res, params }) => {
    sendJson(res, 200, await renderConvergenceChart(manager.load(params.id!).summary));
  });

  add("GET", "/api/runs/:id/report", async ({ res, params }) => {
    sendJson(res, 200, await renderReport(manager.dirOf(params.id!), reportLinks));
  });

  add("GET", "/api/experiments", ({ res }) => sendJson(res, 200, { experiments: manager.listExperiments() }));

  add("POST", "/api/experiments/validate", async ({ req, res }) => {
    const v = validateExperimentRequest(await readJsonBody(req), manager.experimentsDir, new Date(), manager.keyScope);
    sendJson(res, 200, v.ok ? { ok: true, errors: [], cells: v.plan.cells.length } : { ok: false, errors: v.errors });
  });

  add("POST", "/api/experiments", async ({ req, res }) => {
    const v = validateExperimentRequest(await readJsonBody(req), manager.experimentsDir, new Date(), manager.keyScope);
    if (!v.ok) throw new HttpError(400, `the experiment settings were not accepted: ${v.errors.map((e) => `${e.field}: ${e.message}`).join("; ")}`, v.errors);
    const id = await manager.startExperiment(v.plan);
    sendJson(res, 201, { id, cells: v.plan.cells.length, live: manager.experimentLiveState(id) });
  });

  add("POST", "/api/experiments/:id/stop", ({ res, params }) => sendJson(res, 202, { id: params.id, live: manager.stopExperiment(params.id!) }));

  add("POST", "/api/experiments/:id/resume", async ({ res, params }) => sendJson(res, 202, { id: params.id, live: await manager.resumeExperiment(params.id!) }));

  add("GET", "/api/experiments/:id", ({ res, params }) => sendJson(res, 200, manager.experimentDetail(params.id!)));

  add("GET", "/api/experiments/:id/report", async ({ res, params }) => {
    sendJson(res, 200, await renderReport(manager.experimentDir(params.id!), reportLinks));
  });

  add("POST", "/api/runs/:id/stop", ({ res, params }) => sendJson(res, 202, { id: params.id, live: manager.stop(params.id!) }));

  add("POST", "/api/runs/:id/resume", async ({ req, res, params }) => {
    const parsed = resumeBody.safeParse(await readJsonBody(req));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.map(String).join(".") || (issue.code === "unrecognized_keys" ? issue.keys.join(", ") : "form");
      const message = issueMessage(issue);
      throw new HttpError(400, `resume: ${field}: ${message}; accepted: { "maxAttempts": whole number >= 1 }`, [{ field, message }]);
    }
    const live = await manager.resume(params.id!, parsed.data.maxAttempts);
    sendJson(res, 202, { id: params.id, live });
  });

  const compareIds = (url: URL): string[] => {
    const ids = (url.searchParams.get("ids") ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
    if (ids.length < 2) throw new HttpError(400, "ids: name at least two runs, comma-separated: /api/compare?ids=RUN1,RUN2");
    if (ids.length > MAX_COMPARE) throw new HttpError(400, `ids: at most ${MAX_COMPARE} runs side by side, got ${ids.length}`);
    return ids;
  };

  add("GET", "/api/compare/charts", async ({ res, url }) => {
    const runs = compareIds(url).map((id) => loadReportRun(manager.dirOf(id), id));
    sendJson(res, 200, await renderCompareCharts(runs));
  });

  add("GET", "/api/compare", ({ res, url }) => {
    const ids = compareIds(url);
    const rows = compareRuns(ids.map((id) => ({ label: id, summary: manager.load(id).summary })));
    const body: ApiCompare = { runs: rows.map((r) => ({ id: r.policy, summary: r.summary, crossEffects: r.crossEffects })) };
    sendJson(res, 200, body);
  });

  return routes;
}

/** Finds the route of a request: the handler with its parameters, 405 for a known path with another method, undefined for none. */
export function matchRoute(routes: Route[], method: string, pathname: string): { handler: Handler; params: Record<string, string> } | undefined {
  let pathMatched = false;
  for (const r of routes) {
    const m = r.pattern.exec(pathname);
    if (!m) continue;
    pathMatched = true;
    if (r.method !== method) continue;
    const params: Record<string, string> = {};
    r.keys.forEach((k, i) => {
      let v: string;
      try {
        v = decodeURIComponent(m[i + 1]!);
      } catch {
        throw new HttpError(400, `malformed URL segment "${m[i + 1]}"`);
      }
      params[k] = v;
    });
    return { handler: r.handler, params };
  }
  if (pathMatched) throw new HttpError(405, `${method} is not accepted on ${pathname}`);
  return undefined;
}
