import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRun, run } from "../../src/api.js";
import type { ApiStreamEvent } from "../../src/server/api-types.js";
import { EventFeed, type FeedSink } from "../../src/server/feed.js";
import { tempDir } from "./helpers.js";

/** A watcher whose buffer holds `room` messages: write returns false once it is full, until drain() empties it. */
function slowSink(room: number): FeedSink & { got: ApiStreamEvent[]; buffered: number; maxBuffered: number; drain(): void; resumes: (() => void)[] } {
  const s = {
    got: [] as ApiStreamEvent[],
    buffered: 0,
    maxBuffered: 0,
    resumes: [] as (() => void)[],
    write(e: ApiStreamEvent): boolean {
      s.got.push(e);
      s.buffered += 1;
      s.maxBuffered = Math.max(s.maxBuffered, s.buffered);
      return s.buffered < room;
    },
    onDrain(resume: () => void): void {
      s.resumes.push(resume);
    },
    drain(): void {
      s.buffered = 0;
      for (const r of s.resumes.splice(0)) r();
    },
  };
  return s;
}

const seqs = (events: ApiStreamEvent[]): number[] => events.filter((e) => e.type === "attempt" || e.type === "end").map((e) => e.data.seq);

describe("EventFeed: a late watcher gets the replay only as fast as it reads it", () => {
  let dir: string;
  let feed: EventFeed;
  let total: number;

  beforeAll(async () => {
    const out = tempDir();
    const { summary } = await run({ prompt: "a photo of a nurse", n: 60, attributes: ["gender"], seed: 2, concurrency: 1, out, sim: { render: false } });
    dir = summary.runDir;
    const loaded = loadRun(dir);
    total = loaded.events.length;
    feed = new EventFeed("r", dir, loaded.record, () => ({ state: "idle" }));
  });
  afterAll(() => feed.stop());

  it("writes nothing more to a stalled watcher than its buffer takes, then goes on in order after each drain", () => {
    const stalled = Array.from({ length: 200 }, () => slowSink(8));
    const stops = stalled.map((s) => feed.subscribe(s));
    for (const s of stalled) {
      // Stalled: one buffer's worth, not the run.
      expect(s.got.length).toBe(8);
      expect(s.resumes).toHaveLength(1);
    }
    const one = stalled[0]!;
    let rounds = 0;
    while (one.resumes.length > 0 && rounds++ < 1000) one.drain();
    expect(one.maxBuffered).toBeLessThanOrEqual(8);
    // Every event once, in file order, then the summary and the state.
    expect(seqs(one.got)).toEqual([...Array(total).keys()]);
    expect(one.got.slice(-2).map((e) => e.type)).toEqual(["summary", "state"]);
    // The others still hold only their first buffer.
    expect(stalled[1]!.got.length).toBe(8);
    stops.forEach((stop) => stop());
  });

  it("a watcher that reads as fast as it is written gets the replay at once, and a reconnect from a position gets the rest", () => {
    const fast = slowSink(Number.POSITIVE_INFINITY);
    const stop = feed.subscribe(fast);
    expect(seqs(fast.got)).toEqual([...Array(total).keys()]);
    stop();
    const rest = slowSink(Number.POSITIVE_INFINITY);
    feed.subscribe(rest, total - 5)();
    expect(seqs(rest.got)).toEqual([total - 5, total - 4, total - 3, total - 2, total - 1]);
  });
});
