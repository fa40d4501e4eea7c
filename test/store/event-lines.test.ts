import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { resume, run } from "../../src/api.js";
import { forEachLine, replayTally, type AttemptEvent } from "../../src/store/events.js";
import { RunFolder } from "../../src/store/run-folder.js";
import { tempDir } from "../cli/helpers.js";

/** A run folder written by the version whose lines carried the whole tally (sim, race x gender, N = 28, complete). */
const OLD_RUN = resolve(__dirname, "../fixtures/run-tally-lines");

const lines = (dir: string): string[] => readFileSync(join(dir, "events.jsonl"), "utf8").trim().split("\n");
const attemptsOf = (dir: string): AttemptEvent[] =>
  RunFolder.load(dir).events.filter((e): e is AttemptEvent => e.type === "attempt");

describe("forEachLine", () => {
  it("gives every line whole, across chunk boundaries and split UTF-8 characters, with its end offset", () => {
    const dir = tempDir();
    const path = join(dir, "f.jsonl");
    const text = `{"a":"é👩🏽‍⚕️"}\n\n{"b":2}\n{"torn":`;
    writeFileSync(path, text);
    for (const chunk of [1, 2, 3, 7, 64]) {
      const got: [string, number, boolean][] = [];
      const size = forEachLine(path, (line, end, terminated) => got.push([line, end, terminated]), chunk);
      expect(size).toBe(Buffer.byteLength(text));
      expect(got.map((g) => g[0])).toEqual([`{"a":"é👩🏽‍⚕️"}`, "", `{"b":2}`, `{"torn":`]);
      expect(got.map((g) => g[2])).toEqual([true, true, true, false]);
      const firstEnd = Buffer.byteLength(`{"a":"é👩🏽‍⚕️"}\n`);
      expect(got.map((g) => g[1])).toEqual([firstEnd, firstEnd + 1, firstEnd + 1 + 8, Buffer.byteLength(text)]);
    }
  });

  it("refuses a damaged line that is not the last one, and drops a torn last line", () => {
    const dir = tempDir();
    cpSync(OLD_RUN, dir, { recursive: true });
    const all = lines(dir);
    writeFileSync(join(dir, "events.jsonl"), `${all[0]}\n{"broken\n${all[1]}\n`);
    expect(() => RunFolder.load(dir)).toThrow(/events.jsonl line 2 is not valid JSON/);
    writeFileSync(join(dir, "events.jsonl"), `${all[0]}\n${all[1]}\n${all[2]!.slice(0, 30)}`);
    const folder = RunFolder.at(dir);
    folder.lock();
    const loaded = folder.read(true);
    folder.unlock();
    expect(loaded.events).toHaveLength(2);
    expect(loaded.dropped).toBe(1);
    expect(readFileSync(join(dir, "events.jsonl"), "utf8")).toBe(`${all[0]}\n${all[1]}\n`);
  });
});

describe("event lines", () => {
  it("reads the old line shape: replaying the decisions gives every line's recorded tally", () => {
    const attempts = attemptsOf(OLD_RUN);
    expect(attempts).toHaveLength(28);
    const record = RunFolder.load(OLD_RUN).run as unknown as { target: import("../../src/core/target.js").Target };
    attempts.forEach((e, k) => {
      expect(e.tally).toBeDefined();
      expect(replayTally(record.target, attempts.slice(0, k + 1)).snapshot()).toEqual(e.tally);
    });
  });

  it("resumes a run written with the old line shape; new lines record no tally and replay to the bins", async () => {
    const dir = tempDir();
    cpSync(OLD_RUN, dir, { recursive: true });
    const old = lines(dir);
    // Cut the end line and the last 10 attempts: the run is incomplete, as after a kill.
    writeFileSync(join(dir, "events.jsonl"), `${old.slice(0, -11).join("\n")}\n`);
    const outcome = await resume(dir);
    expect(outcome.summary.status).toBe("complete");
    expect(outcome.summary.exact).toBe(true);
    const attempts = attemptsOf(dir);
    expect(attempts.slice(0, 18).every((e) => e.tally !== undefined)).toBe(true);
    expect(attempts.slice(18).length).toBeGreaterThanOrEqual(10);
    expect(attempts.slice(18).every((e) => e.tally === undefined)).toBe(true);
    const record = RunFolder.load(dir).run as unknown as { target: import("../../src/core/target.js").Target };
    const factor = record.target.factors[0]!;
    const tally = replayTally(record.target, attempts);
    expect(tally.counts[0]).toEqual(factor.bins);
    expect(attempts.at(-1)!.kept).toBe(28);
  });

  it("do not grow with the number of cells", async () => {
    const longest = async (joint: string[]): Promise<number> => {
      const dir = tempDir();
      const { summary } = await run(
        { prompt: "a photo of the face of a CEO", n: 60, seed: 3, joint: [joint], sim: { render: false, latencyMs: 0 } },
        { dir: join(dir, "r") },
      );
      expect(summary.status).toBe("complete");
      return Math.max(...lines(summary.runDir).map((l) => Buffer.byteLength(l)));
    };
    const few = await longest(["race", "gender"]); // 14 cells
    const many = await longest(["race", "gender", "age", "body_type"]); // 224 cells
    // With a whole tally per line the 224-cell lines were several times longer; now only the labels differ.
    expect(many).toBeLessThan(few * 1.15);
    expect(many).toBeLessThan(1500);
  });
});
