import { appendFileSync, cpSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunRecord } from "../../src/analysis/summary.js";
import { EventFeed } from "../../src/server/feed.js";
import type { ApiStreamEvent } from "../../src/server/api-types.js";
import { tempDir } from "../cli/helpers.js";

const OLD_RUN = resolve(__dirname, "../fixtures/run-tally-lines");

describe("EventFeed", () => {
  it("reads a log longer than its read chunk line by line, and what is appended later", () => {
    const dir = tempDir();
    cpSync(OLD_RUN, dir, { recursive: true });
    const lines = readFileSync(join(dir, "events.jsonl"), "utf8").trim().split("\n");
    const attempt = lines[0]!;
    // About 6 MB of attempt lines (more than one 4 MB chunk), then a half-written line.
    const copies = Math.ceil((6 << 20) / (attempt.length + 1));
    writeFileSync(join(dir, "events.jsonl"), `${Array.from({ length: copies }, (_, i) => attempt.replace('"i":0', `"i":${i}`)).join("\n")}\n${attempt.slice(0, 50)}`);
    const record = JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as RunRecord;
    const feed = new EventFeed("x", dir, record, () => ({ state: "idle" }) as never);
    expect(feed.events).toHaveLength(copies);
    expect(feed.events.map((e) => (e.type === "attempt" ? e.i : -1))).toEqual(Array.from({ length: copies }, (_, i) => i));
    const seen: ApiStreamEvent[] = [];
    const stop = feed.subscribe({ write: (m) => (seen.push(m), true), onDrain: () => undefined }, copies);
    // The rest of the torn line arrives, then the end line.
    appendFileSync(join(dir, "events.jsonl"), `${attempt.slice(50)}\n${lines.at(-1)}\n`);
    feed.poll();
    stop();
    expect(feed.events).toHaveLength(copies + 2);
    expect(seen.filter((m) => m.type === "attempt" || m.type === "end").map((m) => m.type)).toEqual(["attempt", "end"]);
  });
});
