import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

let tmpSeq = 0;

/** A temp name beside `path`, unique in this process (concurrent writers of one file do not collide); `.tmp-` marks it for clean-up. */
export const tempPathFor = (path: string): string => `${path}.tmp-${process.pid}-${++tmpSeq}`;

/** Writes a file atomically: a temp file in the same folder, then a rename, so readers never see half a file. */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(path);
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Whether process `pid` is alive (EPERM: alive, owned by someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The pid in a lock file (one number) if a live process holds it. This process counts only with
 * `includeSelf` (a server that runs cells in-process still wants to see them as locked).
 */
export function lockHolder(path: string, options: { includeSelf?: boolean } = {}): number | undefined {
  if (!existsSync(path)) return undefined;
  let pid: number;
  try {
    pid = Number(readFileSync(path, "utf8").trim());
  } catch {
    return undefined; // not a readable file (a folder): nobody holds it
  }
  if (!Number.isInteger(pid) || pid <= 0 || (pid === process.pid && !options.includeSelf)) return undefined;
  return isAlive(pid) ? pid : undefined;
}
