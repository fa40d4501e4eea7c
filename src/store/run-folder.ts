import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { InputError } from "../core/errors.js";
import type { PendingRecord, RunEvent } from "./events.js";
import type { RunSink } from "./sink.js";
import { lockHolder, writeAtomic } from "./files.js";

export const RUN_FORMAT = "debiaspi-run/1";

const EXT: Record<string, string> = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp" };


export interface LoadedRun<T> {
  dir: string;
  run: T;
  events: RunEvent[];
  pending: PendingRecord[];
  /** Lines that could not be read (a torn last line after a kill is normal and dropped). */
  dropped: number;
}

/**
 * A run folder: `run.json` (written once), `events.jsonl` (append-only, one line per attempt),
 * `images/` (content-addressed), `pending/` (attempts whose image is saved but whose event line is
 * not yet written) and `run.lock` while a process works on it. Every image is on disk before the
 * line that names it, so a kill at any moment loses nothing that was received.
 */
export class RunFolder implements RunSink {
  private fd: number | undefined;

  private constructor(readonly dir: string) {}

  /** Creates a new run folder; fails if it exists. */
  static create(dir: string, run: unknown): RunFolder {
    if (existsSync(dir)) throw new InputError(`run folder ${dir} already exists; choose another --out or resume it`);
    mkdirSync(join(dir, "images"), { recursive: true });
    mkdirSync(join(dir, "pending"), { recursive: true });
    writeAtomic(join(dir, "run.json"), `${JSON.stringify(run, null, 2)}\n`);
    writeFileSync(join(dir, "events.jsonl"), "");
    return new RunFolder(dir);
  }

  /** Reads a run folder, checking it is one; repairs a torn last line of events.jsonl when `repair`. */
  static load<T>(dir: string, repair = false): LoadedRun<T> {
    const what = `run folder ${dir}`;
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`${what} does not exist or is not a folder`);
    const runPath = join(dir, "run.json");
    let run: T;
    try {
      run = JSON.parse(readFileSync(runPath, "utf8")) as T;
    } catch (e) {
      throw new InputError(`${what} is not readable: run.json is missing or not valid JSON (${(e as Error).message.split("\n")[0]})`);
    }
    const format = (run as { format?: unknown }).format;
    if (format !== RUN_FORMAT) {
      throw new InputError(`${what}: run.json has format ${JSON.stringify(format)}; this version reads ${RUN_FORMAT}`);
    }
    const eventsPath = join(dir, "events.jsonl");
    const text = existsSync(eventsPath) ? readFileSync(eventsPath, "utf8") : "";
    const events: RunEvent[] = [];
    let dropped = 0;
    let goodBytes = 0;
    let offset = 0;
    const lines = text.split("\n");
    lines.forEach((line, idx) => {
      const isLast = idx === lines.length - 1;
      const len = Buffer.byteLength(line) + (isLast ? 0 : 1);
      if (line.trim() !== "") {
        try {
          events.push(JSON.parse(line) as RunEvent);
          goodBytes = offset + len;
        } catch {
          if (!isLast) throw new InputError(`${what}: events.jsonl line ${idx + 1} is not valid JSON; the file was changed by hand or damaged`);
          dropped += 1;
        }
      } else if (!isLast) goodBytes = offset + len;
      offset += len;
    });
    if (repair && dropped > 0) truncateSync(eventsPath, goodBytes);
    const pending: PendingRecord[] = [];
    const pendingDir = join(dir, "pending");
    if (existsSync(pendingDir)) {
      for (const f of readdirSync(pendingDir).sort()) {
        if (!f.endsWith(".json")) {
          if (repair) rmSync(join(pendingDir, f), { force: true });
          continue;
        }
        try {
          pending.push(JSON.parse(readFileSync(join(pendingDir, f), "utf8")) as PendingRecord);
        } catch {
          // A pending file is renamed into place whole, so an unreadable one was never complete.
        }
      }
    }
    return { dir, run, events, pending, dropped };
  }

  /** Opens an existing run folder for appending. */
  static open(dir: string): RunFolder {
    mkdirSync(join(dir, "pending"), { recursive: true });
    mkdirSync(join(dir, "images"), { recursive: true });
    return new RunFolder(dir);
  }

  /** Takes the run's lock; refuses when another live process holds it. */
  lock(): void {
    const path = join(this.dir, "run.lock");
    const holder = lockHolder(path);
    if (holder !== undefined) throw new InputError(`run ${this.dir} is in progress in process ${holder}; wait for it or stop it first`);
    writeFileSync(path, String(process.pid));
  }

  unlock(): void {
    rmSync(join(this.dir, "run.lock"), { force: true });
  }

  writeImage(bytes: Uint8Array, mime: string): string {
    const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 32);
    const rel = `images/${hash}.${EXT[mime] ?? "bin"}`;
    const path = join(this.dir, rel);
    if (!existsSync(path)) writeAtomic(path, bytes);
    return rel;
  }

  writePending(record: PendingRecord): void {
    writeAtomic(join(this.dir, "pending", `${String(record.i).padStart(8, "0")}.json`), JSON.stringify(record));
  }

  clearPending(i: number): void {
    rmSync(join(this.dir, "pending", `${String(i).padStart(8, "0")}.json`), { force: true });
  }

  append(event: RunEvent): void {
    this.fd ??= openSync(join(this.dir, "events.jsonl"), "a");
    const line = `${JSON.stringify(event)}\n`;
    writeSync(this.fd, line);
  }

  /** Flushes events to the disk (for power loss; a killed process loses nothing already written). */
  close(): void {
    if (this.fd !== undefined) {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  /** Removes stale temp files left by a kill during an atomic write. */
  cleanTemp(): void {
    for (const sub of ["images", "pending", "."]) {
      const d = join(this.dir, sub);
      if (!existsSync(d)) continue;
      for (const f of readdirSync(d)) if (f.includes(".tmp-")) unlinkSync(join(d, f));
    }
  }
}
