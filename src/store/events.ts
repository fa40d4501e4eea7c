import { closeSync, openSync, readSync } from "node:fs";
import { mainSubject, type Observation, type Request } from "../core/request.js";
import { Tally } from "../core/tally.js";
import type { Target } from "../core/target.js";
import type { PersonReport } from "../providers/types.js";

/** What happened to an attempt's image. */
export type Decision =
  /** In the set. */
  | "kept"
  /** Closed loop, overflow discard: it landed in a full bin; kept apart. */
  | "overflow"
  /** Closed loop, overflow discard: a controlled attribute could not be observed; kept apart. */
  | "unknown"
  /** The set was already complete when it arrived (parallel requests). */
  | "surplus"
  /** No image: the provider refused. */
  | "refused"
  /** No image: the provider failed. */
  | "error";

/** One line of events.jsonl per attempt. */
export interface AttemptEvent {
  type: "attempt";
  /** Attempt index: the order requests were issued in; its seed is derived from it. */
  i: number;
  t: string;
  request: Request;
  prompt: string;
  seed: number;
  outcome: "image" | "refusal" | "error";
  /** Run-relative path of the image file (content-addressed). */
  image?: string;
  refusal?: string;
  error?: string;
  selfReport?: PersonReport[];
  revisedPrompt?: string;
  costUsd?: number;
  warnings?: string[];
  meta?: Record<string, unknown>;
  observation?: Observation;
  /** What the checking observers saw in the same image. */
  checks?: Observation[];
  decision: Decision;
  /** Kept count after this attempt. */
  kept: number;
  /**
   * Old line shape only (written before the log stopped growing with the cells): the counts per
   * factor cell after this attempt. Read and ignored; `replayTally` rebuilds the same counts from
   * the decisions and observations, which is what every line records now.
   */
  tally?: Record<string, Record<string, number>>;
  /** Time the provider took, ms. */
  ms: number;
}

/** The last line of a finished run. */
export interface EndEvent {
  type: "end";
  t: string;
  /** provider-errors / observer-errors: stopped after too many failures in a row; resumable once the service is fixed. */
  reason: "complete" | "budget" | "provider-errors" | "observer-errors" | "cost";
  message?: string;
}

export type RunEvent = AttemptEvent | EndEvent;

/** What is written before an attempt is observed, so a kill between the image and its event line loses nothing. */
export type PendingRecord = Omit<AttemptEvent, "observation" | "checks" | "decision" | "kept" | "tally">;


/**
 * The counts per factor cell after the given attempts (what a line's old `tally` held), rebuilt by
 * replaying the kept decisions: a kept image counts in the cell of its observed main subject.
 */
export function replayTally(target: Target, attempts: Iterable<AttemptEvent>): Tally {
  const tally = new Tally(target);
  for (const e of attempts) if (e.decision === "kept") tally.add(e.observation ? mainSubject(e.observation) : {});
  return tally;
}

/** Bytes read from events.jsonl at a time: the log is never held as one string. */
const CHUNK = 1 << 20;

/**
 * Streams the lines of a file in file order, `chunk` bytes at a time: `onLine(text, end, terminated)` gets
 * each line without its newline, the byte offset just past it, and whether a newline ended it (only the
 * last line can lack one). Returns the file's size as read.
 */
export function forEachLine(path: string, onLine: (line: string, end: number, terminated: boolean) => void, chunk = CHUNK): number {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(chunk);
    let rest: Buffer = Buffer.alloc(0);
    let pos = 0;
    let lineStart = 0;
    for (;;) {
      const read = readSync(fd, buf, 0, buf.length, pos);
      if (read === 0) break;
      pos += read;
      const data = rest.length > 0 ? Buffer.concat([rest, buf.subarray(0, read)]) : buf.subarray(0, read);
      let from = 0;
      for (let nl = data.indexOf(0x0a, from); nl >= 0; nl = data.indexOf(0x0a, from)) {
        const end = lineStart + (nl - from) + 1;
        onLine(data.toString("utf8", from, nl), end, true);
        lineStart = end;
        from = nl + 1;
      }
      rest = Buffer.from(data.subarray(from));
    }
    if (rest.length > 0) onLine(rest.toString("utf8"), lineStart + rest.length, false);
    return pos;
  } finally {
    closeSync(fd);
  }
}
