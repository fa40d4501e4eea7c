import { closeSync, openSync, readSync, realpathSync, statSync } from "node:fs";
import { imageMime } from "../core/image-mime.js";
import { isAbsolute, relative, resolve, sep } from "node:path";

/** A run or experiment id as it appears in a URL: a folder name, nothing that walks. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;

export const isSafeId = (id: string): boolean => ID.test(id) && !id.includes("..");

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) && !rel.split(sep).includes("..");
}

/**
 * The absolute path of `parts` under `root`, or undefined when it would leave `root`: `..`, absolute
 * parts, encoded separators, and symbolic links that point outside (checked on the real path, so a
 * link inside the runs folder cannot expose other files). Missing files are undefined too.
 */
export function confinedPath(root: string, ...parts: string[]): string | undefined {
  for (const p of parts) {
    if (p === "" || p.includes("\0") || p.includes("/") || p.includes("\\") || p === "." || p === "..") return undefined;
  }
  const base = resolve(root);
  const target = resolve(base, ...parts);
  if (!inside(base, target)) return undefined;
  let realBase: string;
  let realTarget: string;
  try {
    realBase = realpathSync(base);
    realTarget = realpathSync(target);
  } catch {
    return undefined;
  }
  return inside(realBase, realTarget) ? realTarget : undefined;
}

/**
 * The image type of a regular file from its first bytes (PNG, JPEG, WebP, GIF), whatever its name
 * says; undefined for anything else (run.json behind a `.png` link, a folder, an unreadable file).
 */
export function sniffImageFile(path: string): string | undefined {
  let fd: number | undefined;
  try {
    if (!statSync(path).isFile()) return undefined;
    fd = openSync(path, "r");
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, head.length, 0);
    const bytes = head.subarray(0, n);
    if (n >= 6 && /^GIF8[79]a$/.test(bytes.subarray(0, 6).toString("latin1"))) return "image/gif";
    return imageMime(bytes);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
