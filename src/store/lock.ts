import { linkSync, lstatSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { InputError } from "../core/errors.js";
import { isAlive } from "./files.js";

let claimSeq = 0;

/** The pid a lock file holds, or undefined when it holds no valid pid (a torn write). */
function readPid(path: string): number | undefined {
  const pid = Number(readFileSync(path, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Refuses a lock path that is not a plain file (a folder, a link): nobody can hold it and we must not remove it. */
function checkPlainFile(path: string, what: string): boolean {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
  if (!st.isFile()) throw new InputError(`${what}: ${path} is not a file (${st.isDirectory() ? "a folder" : "a link or special file"}); remove it if no process works on this run`);
  return true;
}

/**
 * Takes a lock file for this process, atomically: the pid is written to a temp file that is then
 * hard-linked to `path`, which fails when `path` exists, so of two processes at most one wins.
 * A lock left by a dead process is moved aside (one rename; a racer that moved a live lock puts it
 * back) and taken over. Throws InputError naming the live holder.
 */
export function takeLock(path: string, what: string): void {
  // Not a ".tmp-" name: the clean-up of temp files must never remove a claim being made.
  const mine = `${path}.claim-${process.pid}-${++claimSeq}`;
  writeFileSync(mine, String(process.pid));
  try {
    for (let tries = 0; tries < 20; tries++) {
      try {
        linkSync(mine, path);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      if (!checkPlainFile(path, what)) continue;
      let holder: number | undefined;
      try {
        holder = readPid(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw e;
      }
      if (holder === process.pid) throw new InputError(`${what} is in progress in this process; wait for it or stop it first`);
      if (holder !== undefined && isAlive(holder)) {
        throw new InputError(`${what} is in progress in process ${holder}; wait for it or stop it first`);
      }
      // Stale: move it aside, then look at what was moved (it may be a lock a racer took meanwhile).
      const aside = `${path}.stale-${process.pid}`;
      try {
        renameSync(path, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw e;
      }
      const moved = readPid(aside);
      if (moved !== undefined && moved !== holder && isAlive(moved)) {
        try {
          linkSync(aside, path);
        } catch {
          // someone else holds it now; either way it is not ours
        }
        unlinkSync(aside);
        throw new InputError(`${what} is in progress in process ${moved}; wait for it or stop it first`);
      }
      unlinkSync(aside);
    }
    throw new InputError(`${what}: could not take ${path}; other processes keep taking it`);
  } finally {
    rmSync(mine, { force: true });
  }
}

/** Removes the lock if this process holds it. */
export function releaseLock(path: string): void {
  try {
    if (readPid(path) === process.pid) unlinkSync(path);
  } catch {
    // gone already, or not a file: not ours
  }
}
