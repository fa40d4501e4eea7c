import { existsSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import type { ServerResponse } from "node:http";
import { confinedPath } from "./confine.js";
import { sendText } from "./http-util.js";

export const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".gif": "image/gif",
  ".json": "application/json; charset=utf-8",
  ".ico": "image/x-icon",
  ".map": "application/json; charset=utf-8",
};

/** The page may load scripts, styles and images from this server only. */
export const PAGE_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The built page (dist/web): index.html and the hashed files under assets/. */
export class WebFiles {
  constructor(readonly root: string) {}

  available(): boolean {
    return existsSync(join(this.root, "index.html"));
  }

  sendIndex(res: ServerResponse): void {
    if (!this.available()) {
      sendText(res, 500, "text/plain; charset=utf-8", `The dashboard's page is missing from ${this.root}; build it with \`npm run build\`.\n`);
      return;
    }
    sendText(res, 200, CONTENT_TYPES[".html"]!, readFileSync(join(this.root, "index.html")), {
      "Cache-Control": "no-store",
      "Content-Security-Policy": PAGE_CSP,
    });
  }

  /** A file under assets/ (names carry a content hash, so they are cached for long). False when there is none. */
  sendAsset(res: ServerResponse, name: string): boolean {
    const path = confinedPath(this.root, "assets", name);
    const type = CONTENT_TYPES[extname(name).toLowerCase()];
    if (!path || !type) return false;
    sendText(res, 200, type, readFileSync(path), { "Cache-Control": "public, max-age=31536000, immutable" });
    return true;
  }
}
