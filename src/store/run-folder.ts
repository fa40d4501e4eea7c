import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { InputError } from "../core/errors.js";
import { forEachLine, type AttemptEvent, type EndEvent, type PendingRecord, type RunEvent } from "./events.js";
import type { RunSink } from "./sink.js";
import { isAlive, writeAtomic } from "./files.js";
import { releaseLock, takeLock } from "./lock.js";
import { isDrawing } from "../image/drawing.js";
import { readRunImage } from "./images.js";
import { eventSchema, fileProblem, pendingSchema, runRecordSchema, type StoredRun } from "./schema.js";

export const RUN_FORMAT = "debiaspi-run/1";

/**
 * The pending records, one JSON line each, in `pending/`: appended with one write(2) per attempt instead of a
 * file created, renamed and deleted per attempt (a file per attempt cost an inode allocation and a deletion
 * per generation, the largest share of a run's system time). A line is superseded by the event line of the
 * same attempt; the file is removed when the run closes with every record superseded.
 */
export const PENDING_LOG = "attempts.jsonl";

const pendingFile = (i: number): string => `${String(i).padStart(8, "0")}.json`;

const EXT: Record<string, string> = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp" };

export interface LoadedRun {
  dir: string;
  run: StoredRun;
  events: RunEvent[];
  pending: PendingRecord[];
  /** Lines that could not be read (a torn last line after a kill is normal and dropped). */
  dropped: number;
  /** Kept images named by the events that are not on disk (`images/` itself may be gone: `imagesMissing`). */
  missingKept: string[];
  kept: number;
  imagesMissing: boolean;
}

/** One line saying which kept images are gone, or undefined when none is. */
/**
 * The kept images of a run whose file is not in its folder (deleted, or `images/` gone). A kept attempt
 * that never had an image (sim with --no-render) has nothing to miss, and a drawing (image/drawing.ts) is drawn from its name.
 */
export function missingKeptImages(dir: string, events: readonly RunEvent[]): string[] {
  const gone = !existsSync(join(dir, "images"));
  return events
    .filter((e): e is AttemptEvent => e.type === "attempt" && e.decision === "kept" && e.image !== undefined)
    .map((e) => e.image!)
    .filter((rel) => !isDrawing(rel) && (gone || !existsSync(join(dir, rel))));
}

export function missingImagesProblem(loaded: LoadedRun): string | undefined {
  const { missingKept, kept, dir } = loaded;
  if (loaded.imagesMissing && missingKept.length > 0) {
    return `run folder ${dir}: images/ is missing (${kept} kept image${kept === 1 ? "" : "s"}); the set is not on disk, restore the folder or start a new run`;
  }
  if (missingKept.length === 0) return undefined;
  const shown = missingKept.slice(0, 3).join(", ") + (missingKept.length > 3 ? `, and ${missingKept.length - 3} more` : "");
  return `run folder ${dir}: ${missingKept.length} of ${kept} kept images ${missingKept.length === 1 ? "is" : "are"} missing (${shown}); restore them or start a new run`;
}

/** Whether a line that is not JSON is two JSON values written without a newline between them. */
function isGlued(line: string): boolean {
  for (let at = line.indexOf("}{"); at >= 0; at = line.indexOf("}{", at + 1)) {
    try {
      JSON.parse(line.slice(0, at + 1));
      return true;
    } catch {
      // not a whole value before this point
    }
  }
  return false;
}

/**
 * A run folder: `run.json` (written once), `events.jsonl` (append-only, one line per attempt),
 * `images/` (content-addressed), `pending/attempts.jsonl` (attempts whose image is saved but whose event line is
 * not yet written) and `run.lock` while a process works on it. Every image is on disk before the
 * line that names it, so a kill at any moment loses nothing that was received. A process changes
 * a folder only while it holds the lock.
 */
export class RunFolder implements RunSink {
  private fd: number | undefined;
  private pendingFd: number | undefined;
  /** Attempts with a line in the pending log not yet superseded by their event line (this process's and, after read(repair), earlier ones'). */
  private readonly outstanding = new Set<number>();
  /** Whether the pending log may exist (this process wrote it, or read(repair) found it). */
  private pendingLog = false;
  private locked = false;

  private constructor(readonly dir: string) {}

  private get lockPath(): string {
    return join(this.dir, "run.lock");
  }

  /**
   * Creates a new run folder and takes its lock. The folder is claimed with one mkdir (not
   * recursive), so of two processes creating the same path one gets it and the other is told.
   */
  static create(dir: string, run: unknown): RunFolder {
    mkdirSync(dirname(dir), { recursive: true });
    try {
      mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new InputError(`run folder ${dir} already exists; choose another --out or resume it`);
      throw e;
    }
    return RunFolder.fill(dir, run);
  }

  /**
   * Creates a new run folder `id` under `out`, or `id-2`, `id-3`, ... when that is taken (runs of
   * one prompt started in the same second); `runFor(id)` gives run.json for the id it got.
   */
  static createUnique(out: string, id: string, runFor: (id: string) => unknown): RunFolder {
    mkdirSync(out, { recursive: true });
    for (let k = 1; ; k++) {
      const candidate = k === 1 ? id : `${id}-${k}`;
      const dir = join(out, candidate);
      try {
        mkdirSync(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST" && k < 10_000) continue;
        throw e;
      }
      return RunFolder.fill(dir, runFor(candidate));
    }
  }

  private static fill(dir: string, run: unknown): RunFolder {
    const folder = new RunFolder(dir);
    folder.lock();
    mkdirSync(join(dir, "images"));
    mkdirSync(join(dir, "pending"));
    // events.jsonl before run.json: a run.json without events.jsonl beside it means the events were lost.
    writeFileSync(join(dir, "events.jsonl"), "");
    writeAtomic(join(dir, "run.json"), `${JSON.stringify(run, null, 2)}\n`);
    return folder;
  }

  /** An existing run folder, not yet locked; nothing is changed. */
  static at(dir: string): RunFolder {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`run folder ${dir} does not exist or is not a folder`);
    if (!existsSync(join(dir, "run.json"))) throw new InputError(`run folder ${dir} is not readable: run.json is missing`);
    return new RunFolder(dir);
  }

  /** Reads a run folder, checking every file against its schema. Changes nothing. */
  static load(dir: string): LoadedRun {
    return RunFolder.at(dir).read(false);
  }

  /** Reads this folder; with `repair` (only under the lock) drops a torn last line and stale temp files. */
  read(repair: boolean): LoadedRun {
    if (repair && !this.locked) throw new Error("RunFolder.read(repair) without the lock");
    const { dir } = this;
    const what = `run folder ${dir}`;
    const runPath = join(dir, "run.json");
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(runPath, "utf8"));
    } catch (e) {
      throw new InputError(`${what} is not readable: run.json is missing or not valid JSON (${(e as Error).message.split("\n")[0]})`);
    }
    const format = raw !== null && typeof raw === "object" ? (raw as { format?: unknown }).format : undefined;
    if (format !== RUN_FORMAT) {
      throw new InputError(`${what}: run.json has format ${JSON.stringify(format)}; this version reads ${RUN_FORMAT}`);
    }
    const checked = runRecordSchema.safeParse(raw);
    if (!checked.success) throw new InputError(fileProblem(checked.error, `${what}: run.json`));
    const run = checked.data as StoredRun;

    const imagesDir = join(dir, "images");
    const imagesMissing = !existsSync(imagesDir);
    const eventsPath = join(dir, "events.jsonl");
    const pendingDir = join(dir, "pending");
    if (!existsSync(eventsPath)) {
      // Only a run killed between run.json and its first line (older versions wrote run.json first) has none.
      const anyImage = !imagesMissing && readdirSync(imagesDir).some((f) => !f.includes(".tmp-"));
      const anyPending = existsSync(pendingDir) && readdirSync(pendingDir).some((f) => f.endsWith(".json") || (f === PENDING_LOG && statSync(join(pendingDir, f)).size > 0));
      if (anyImage || anyPending || imagesMissing) {
        throw new InputError(`${what}: events.jsonl is missing, so what the run did is lost; restore it from a backup or start a new run`);
      }
    }
    const events: RunEvent[] = [];
    let dropped = 0;
    let goodBytes = 0;
    let lineNo = 0;
    // Streamed in chunks: the log is never one string, whatever its length.
    if (existsSync(eventsPath)) {
      forEachLine(eventsPath, (line, end, terminated) => {
        lineNo += 1;
        if (line.trim() === "") {
          if (terminated) goodBytes = end;
          return;
        }
        const where = `${what}: events.jsonl line ${lineNo}`;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          if (isGlued(line)) throw new InputError(`${where} holds two events glued together (a line written without its newline); put a line break between them`);
          // Only a last line without its newline can be torn by a kill mid-write; anything else is damage.
          if (terminated) throw new InputError(`${where} is not valid JSON; the file was changed by hand or damaged`);
          dropped += 1; // torn by a kill mid-write: the attempt is done again
          return;
        }
        const event = eventSchema.safeParse(value);
        if (!event.success) throw new InputError(`${fileProblem(event.error, where)}; the file was changed by hand or damaged`);
        events.push(event.data);
        goodBytes = end;
      });
    }
    if (repair && dropped > 0) truncateSync(eventsPath, goodBytes);

    const pending: PendingRecord[] = [];
    const readRecord = (text: string): void => {
      try {
        const rec = pendingSchema.safeParse(JSON.parse(text));
        if (rec.success) pending.push(rec.data);
      } catch {
        // A pending file is renamed into place whole and a log line is one write, so an unreadable one was never complete.
      }
    };
    if (existsSync(pendingDir)) {
      for (const f of readdirSync(pendingDir).sort()) {
        if (f === PENDING_LOG) forEachLine(join(pendingDir, f), (line) => {
            if (line.trim() !== "") readRecord(line);
          });
        // One file per record: what versions before the pending log wrote (and still read).
        else if (f.endsWith(".json")) readRecord(readFileSync(join(pendingDir, f), "utf8"));
      }
    }
    pending.sort((a, b) => a.i - b.i);
    if (repair) {
      // Under the lock this instance goes on writing the folder: the log's records are outstanding until
      // their attempts are recorded (the engine clears every recovered record), and only then is it removed.
      const recorded = new Set(events.map((e) => (e.type === "attempt" ? e.i : -1)));
      for (const rec of pending) if (!recorded.has(rec.i)) this.outstanding.add(rec.i);
      this.pendingLog = existsSync(join(pendingDir, PENDING_LOG));
    }
    const kept = events.filter((e) => e.type === "attempt" && e.decision === "kept" && e.image !== undefined).length;
    return { dir, run, events, pending, dropped, missingKept: missingKeptImages(dir, events), kept, imagesMissing };
  }

  /** Takes the run's lock; refuses when another live process (or this one) holds it. */
  lock(): void {
    if (this.locked) return;
    takeLock(this.lockPath, `run ${this.dir}`);
    this.locked = true;
  }

  unlock(): void {
    if (!this.locked) return;
    releaseLock(this.lockPath);
    this.locked = false;
  }

  /** Makes the folders a run writes into (a run whose images/ vanished with no image in it gets a new one). */
  prepare(): void {
    mkdirSync(join(this.dir, "pending"), { recursive: true });
    mkdirSync(join(this.dir, "images"), { recursive: true });
  }

  writeImage(bytes: Uint8Array, mime: string): string {
    const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 32);
    const rel = `images/${hash}.${EXT[mime] ?? "bin"}`;
    const path = join(this.dir, rel);
    if (!existsSync(path)) writeAtomic(path, bytes);
    return rel;
  }

  /** The bytes and type of an image this run saved, or undefined when its file is gone. */
  readImage(rel: string): { bytes: Uint8Array; mime: string } | undefined {
    return readRunImage(this.dir, rel);
  }

  /** One line appended to the pending log (one write(2): a kill leaves at most a torn last line, which is dropped). */
  writePending(record: PendingRecord): void {
    if (this.pendingFd === undefined) {
      this.pendingFd = openLine(join(this.dir, "pending", PENDING_LOG));
      this.pendingLog = true;
    }
    writeSync(this.pendingFd, `${JSON.stringify(record)}\n`);
    this.outstanding.add(record.i);
  }

  /** Called once attempt i's event line is appended: its pending line is superseded (a record in its own file, from an older version, is removed). */
  clearPending(i: number): void {
    this.outstanding.delete(i);
    if (this.legacyPending(i)) rmSync(join(this.dir, "pending", pendingFile(i)), { force: true });
  }

  private legacyFiles: Set<number> | undefined;
  /** Whether attempt i has a record file of its own (read once, on the first clear). */
  private legacyPending(i: number): boolean {
    if (!this.legacyFiles) {
      const d = join(this.dir, "pending");
      this.legacyFiles = new Set(existsSync(d) ? readdirSync(d).filter((f) => /^\d{8}\.json$/.test(f)).map((f) => Number(f.slice(0, 8))) : []);
    }
    return this.legacyFiles.delete(i);
  }

  append(event: RunEvent): void {
    this.fd ??= openLine(join(this.dir, "events.jsonl"));
    writeSync(this.fd, `${JSON.stringify(event)}\n`);
  }

  /**
   * Closes the log. No fsync: every line is written with one write(2), so a killed process loses
   * nothing, and after a power loss a torn last line is dropped on resume (images and pending files
   * are renamed into place whole). An fsync per run cost about a tenth of a small experiment cell.
   */
  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    if (this.pendingFd !== undefined) {
      closeSync(this.pendingFd);
      this.pendingFd = undefined;
    }
    // Every pending line superseded by its event line: the log holds nothing left to recover.
    if (this.pendingLog && this.outstanding.size === 0) {
      rmSync(join(this.dir, "pending", PENDING_LOG), { force: true });
      this.pendingLog = false;
    }
  }

  /** Removes stale temp files left by a kill during an atomic write (only under the lock: another process's are live). */
  cleanTemp(): void {
    if (!this.locked) throw new Error("RunFolder.cleanTemp without the lock");
    for (const sub of ["images", "pending", "."]) {
      const d = join(this.dir, sub);
      if (!existsSync(d)) continue;
      for (const f of readdirSync(d)) if (f.includes(".tmp-")) unlinkSync(join(d, f));
    }
    // Lock claims and set-aside stale locks of processes that died while taking the lock.
    for (const f of readdirSync(this.dir)) {
      const m = /^run\.lock\.(?:claim|stale)-(\d+)/.exec(f);
      if (m && Number(m[1]) !== process.pid && !isAlive(Number(m[1]))) rmSync(join(this.dir, f), { force: true });
    }
  }
}

/**
 * Opens a line log for appending. A last line without its newline (torn by a kill, a hand edit, a copy)
 * would be glued to the next one: it is ended first.
 */
function openLine(path: string): number {
  const fd = openSync(path, "a+");
  const size = fstatSync(fd).size;
  if (size > 0) {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    if (last[0] !== 0x0a) writeSync(fd, "\n");
  }
  return fd;
}

/** Bytes read at a time by lastEndReason, from the end of the log backwards. */
const TAIL_CHUNK = 1 << 16;

/**
 * The reason of the last `end` line of a run folder's events.jsonl (what its summary's status is), read
 * from the end of the file backwards so that deciding whether a finished run needs resuming does not read
 * the whole log (resume then reads it, once). Undefined when the log has no end line or does not exist.
 */
export function lastEndReason(dir: string): EndEvent["reason"] | undefined {
  let fd: number;
  try {
    fd = openSync(join(dir, "events.jsonl"), "r");
  } catch {
    return undefined;
  }
  try {
    let pos = fstatSync(fd).size;
    let tail: Buffer = Buffer.alloc(0);
    while (pos > 0) {
      const take = Math.min(TAIL_CHUNK, pos);
      pos -= take;
      const buf = Buffer.alloc(take);
      readSync(fd, buf, 0, take, pos);
      tail = Buffer.concat([buf, tail]);
      // Whole lines only: the part before the first newline may continue in the previous chunk.
      let end = tail.length;
      for (;;) {
        const nl = end > 0 ? tail.lastIndexOf(0x0a, end - 1) : -1;
        if (nl < 0 && pos > 0) break;
        const line = tail.toString("utf8", nl + 1, end);
        if (line.includes('"type":"end"')) {
          try {
            const event = JSON.parse(line) as { type?: unknown; reason?: unknown };
            if (event.type === "end" && typeof event.reason === "string") return event.reason as EndEvent["reason"];
          } catch {
            // a torn line: not an end line
          }
        }
        if (nl < 0) break;
        end = nl;
      }
      tail = tail.subarray(0, end);
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}
