import { closeSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { mainSubject } from "../core/request.js";
import { storedRunInput, summarizeRun, type RunRecord } from "../analysis/summary.js";
import type { AttemptEvent, RunEvent } from "../store/events.js";
import type { ApiAttempt, ApiEnd, ApiLiveState, ApiStreamEvent, ApiSummary } from "./api-types.js";

/** How often a watched run's events.jsonl is read for new lines. */
export const POLL_MS = 150;
/** At most one summary per this interval while events arrive (the last one always goes out). */
export const SUMMARY_MS = 250;
/** Bytes of events.jsonl read at a time. */
const FEED_CHUNK = 4 << 20;

/** An attempt as the page shows it. */
export function toApiAttempt(e: AttemptEvent, seq: number): ApiAttempt {
  return {
    seq,
    i: e.i,
    t: e.t,
    outcome: e.outcome,
    decision: e.decision,
    ...(e.image ? { image: e.image } : {}),
    labels: e.observation ? mainSubject(e.observation) : {},
    ...(e.request.kind === "direct" ? { requested: e.request.cells } : {}),
    ...(e.request.kind === "choice" ? { options: e.request.options } : {}),
    prompt: e.prompt,
    ...(e.refusal ? { refusal: e.refusal } : {}),
    ...(e.error ? { error: e.error } : {}),
    ms: e.ms,
    kept: e.kept,
    ...(e.costUsd !== undefined ? { costUsd: e.costUsd } : {}),
  };
}

function toStream(e: RunEvent, seq: number): ApiStreamEvent {
  if (e.type === "attempt") return { type: "attempt", data: toApiAttempt(e, seq) };
  const end: ApiEnd = { seq, t: e.t, reason: e.reason, ...(e.message ? { message: e.message } : {}) };
  return { type: "end", data: end };
}

/**
 * Where a watcher's events go: `write` returns false when the connection's buffer is full (then
 * nothing more is written to it until `onDrain` calls back), so a slow or stalled watcher holds at
 * most one buffer's worth of the run, never a copy of all of it.
 */
export interface FeedSink {
  write(event: ApiStreamEvent): boolean;
  onDrain(resume: () => void): void;
}

/** One watcher: the position of the next event it gets, and whether it waits for its buffer to drain. */
class Watcher {
  cursor: number;
  waiting = false;
  /** It has not yet been sent the summary and state after the events it had to catch up on. */
  behind = true;
  constructor(
    readonly sink: FeedSink,
    from: number,
  ) {
    this.cursor = from;
  }
}

/**
 * Follows one run's events.jsonl, the run's only record of what happened, and fans it out to every
 * page watching the run: each gets the events already written, then the new ones in file order, so
 * two browsers (or a browser and a CLI run in another process) always see the same thing.
 */
export class EventFeed {
  readonly events: RunEvent[] = [];
  private offset = 0;
  private rest = Buffer.alloc(0);
  private watchers = new Set<Watcher>();
  private timer: NodeJS.Timeout | undefined;
  private summaryTimer: NodeJS.Timeout | undefined;
  private summary: ApiSummary | undefined;
  private summaryStale = true;
  private lastState = "";

  constructor(
    readonly id: string,
    readonly dir: string,
    private readonly record: RunRecord,
    private readonly state: () => ApiLiveState,
  ) {
    this.poll();
  }

  get size(): number {
    return this.watchers.size;
  }

  /** Reads lines appended since the last read; only whole lines (a line being written waits for its newline). */
  poll(): void {
    const path = join(this.dir, "events.jsonl");
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return;
    }
    if (size < this.offset) {
      // The file was cut (resume drops a torn last line): read it again from the start.
      this.offset = 0;
      this.rest = Buffer.alloc(0);
      this.events.length = 0;
    }
    if (size === this.offset) return;
    const before = this.events.length;
    let ended = false;
    const fd = openSync(path, "r");
    try {
      // A chunk at a time: a long log is never one buffer or one string.
      while (this.offset < size) {
        let chunk = Buffer.alloc(Math.min(size - this.offset, FEED_CHUNK));
        const read = readSync(fd, chunk, 0, chunk.length, this.offset);
        if (read === 0) break;
        chunk = chunk.subarray(0, read);
        this.offset += read;
        const data = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
        const lastNl = data.lastIndexOf(0x0a);
        if (lastNl < 0) {
          this.rest = Buffer.from(data);
          continue;
        }
        this.rest = Buffer.from(data.subarray(lastNl + 1));
        for (const line of data.subarray(0, lastNl).toString("utf8").split("\n")) {
          if (line.trim() === "") continue;
          let e: RunEvent;
          try {
            e = JSON.parse(line) as RunEvent;
          } catch {
            continue;
          }
          this.events.push(e);
          if (e.type === "end") ended = true;
        }
      }
    } finally {
      closeSync(fd);
    }
    if (this.events.length === before) {
      this.checkState();
      return;
    }
    this.summaryStale = true;
    for (const w of this.watchers) this.pump(w);
    this.checkState();
    if (ended) this.sendSummary();
    else this.summaryTimer ??= setTimeout(() => this.sendSummary(), SUMMARY_MS);
  }

  /**
   * Writes a watcher's events from its cursor on, in file order, until its buffer is full (then it
   * goes on when the buffer drains) or it has them all; a watcher that caught up gets the summary and
   * state it missed while behind.
   */
  private pump(w: Watcher): void {
    if (w.waiting || !this.watchers.has(w)) return;
    while (w.cursor < this.events.length) {
      const seq = w.cursor++;
      if (!w.sink.write(toStream(this.events[seq]!, seq))) {
        w.waiting = true;
        w.behind = true;
        w.sink.onDrain(() => {
          w.waiting = false;
          this.pump(w);
        });
        return;
      }
    }
    if (w.behind) {
      w.behind = false;
      w.sink.write({ type: "summary", data: this.currentSummary() });
      w.sink.write({ type: "state", data: this.state() });
    }
  }

  /** The run's measurements now. */
  currentSummary(): ApiSummary {
    if (this.summaryStale || !this.summary) {
      this.summary = summarizeRun(storedRunInput(this.dir, this.record, this.events));
      this.summaryStale = false;
    }
    return this.summary;
  }

  private sendSummary(): void {
    if (this.summaryTimer) clearTimeout(this.summaryTimer);
    this.summaryTimer = undefined;
    if (this.watchers.size === 0) return;
    this.broadcast({ type: "summary", data: this.currentSummary() });
  }

  /** A summary or state to every watcher that is up to date (one still catching up gets the current ones when it is). */
  private broadcast(msg: ApiStreamEvent): void {
    for (const w of this.watchers) if (!w.behind && !w.waiting) w.sink.write(msg);
  }

  /** Tells watchers when the run's state changed, also when another process started or ended it. */
  private checkState(): void {
    if (this.watchers.size === 0) return;
    const state = this.state();
    const key = JSON.stringify(state);
    if (key === this.lastState) return;
    this.lastState = key;
    this.broadcast({ type: "state", data: state });
  }

  /** Tells watchers that the run started or stopped in this server. */
  sendState(): void {
    this.poll();
    this.checkState();
  }

  /**
   * Sends the events from position `from` on (0 = all; a reconnecting EventSource passes the
   * position after its Last-Event-ID), then the current summary and state, then every new event;
   * written as fast as the watcher reads, no faster. Returns the function that ends the watch.
   */
  subscribe(sink: FeedSink, from = 0): () => void {
    this.poll();
    // Bring the watchers already here up to date first, so every watcher has seen the same states.
    this.checkState();
    if (this.watchers.size === 0) this.lastState = JSON.stringify(this.state());
    const w = new Watcher(sink, Math.max(0, from));
    this.watchers.add(w);
    this.timer ??= setInterval(() => this.poll(), POLL_MS);
    this.pump(w);
    return () => {
      this.watchers.delete(w);
      if (this.watchers.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.summaryTimer) clearTimeout(this.summaryTimer);
    this.timer = undefined;
    this.summaryTimer = undefined;
  }
}
