import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { cellProgress, formatDuration, pace, progressReporter, type ProgressOutput } from "../../src/cli/progress.js";
import type { CellReport } from "../../src/experiments/runner.js";

/** A captured output with a clock the test moves. */
function capture(isTTY: boolean): { out: ProgressOutput; text: () => string; tick: (ms: number) => void } {
  let text = "";
  let t = 1_000_000;
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  }) as Writable & { isTTY?: boolean; columns?: number; cursorTo?: () => boolean; clearLine?: () => boolean; moveCursor?: () => boolean };
  if (isTTY) {
    stream.isTTY = true;
    stream.columns = 200;
    stream.cursorTo = () => true;
    stream.clearLine = () => true;
    stream.moveCursor = () => true;
  }
  return { out: { stream, isTTY, now: () => t }, text: () => text, tick: (ms) => (t += ms) };
}

const progress = (kept: number, attempts: number) => ({ kept, n: 40, attempts, inFlight: 2, tv: 0.25 });

describe("progress", () => {
  it("formats durations and pace: elapsed, rate per second or per minute, ETA", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(75)).toBe("1:15");
    expect(formatDuration(3725)).toBe("1:02:05");
    expect(formatDuration(Infinity)).toBe("-");
    // 10 kept in 5 s: 2 per second, 30 to go: 15 s.
    expect(pace(10, 40, 0, 5000, "kept")).toEqual({ elapsed: "0:05", rate: "2.0 kept/s", left: "0:15" });
    // A resumed run that started at 30: 2 more in 60 s is 2 per minute, 8 to go: 4 minutes.
    expect(pace(32, 40, 30, 60_000, "kept")).toEqual({ elapsed: "1:00", rate: "2.0 kept/min", left: "4:00" });
    expect(pace(0, 40, 0, 1000, "kept")).toEqual({ elapsed: "0:01", rate: "- kept/s", left: "-" });
  });

  it("off a terminal, writes a line every 5 % of the set (not one per image), with elapsed time, rate and ETA", () => {
    const c = capture(false);
    const bar = progressReporter(true, c.out);
    for (let k = 0; k <= 40; k++) {
      c.tick(500);
      bar.update(progress(k, k + 3));
      bar.update(progress(k, k + 4)); // a generation that kept nothing: no new line
    }
    bar.stop();
    const lines = c.text().trim().split("\n");
    // 0 %, then every 2 of 40 images (5 %): 21 lines, not 82 updates.
    expect(lines).toHaveLength(21);
    expect(lines[0]).toBe("progress: 0/40 kept (0 %), 3 generations, TV 0.250, 0:01 elapsed, - kept/s, ETA -");
    expect(lines[10]).toBe("progress: 20/40 kept (50 %), 23 generations, TV 0.250, 0:11 elapsed, 1.9 kept/s, ETA 0:11");
    expect(lines.at(-1)).toMatch(/^progress: 40\/40 kept \(100 %\), .* ETA 0:00$/);
  });

  it("on a terminal, draws one bar with elapsed time, rate and ETA", () => {
    const c = capture(true);
    const bar = progressReporter(true, c.out);
    c.tick(2000);
    bar.update(progress(4, 5));
    c.tick(2000);
    bar.update(progress(8, 9));
    bar.stop();
    // The first update (4 kept, no kept event with it) is where this invocation started: 4 more in 4 s.
    expect(c.text()).toMatch(/ 8\/40 kept, 9 gen, TV 0\.250 \| 0:04, 1\.0 kept\/s, ETA 0:32/);
    expect(c.text()).not.toMatch(/^progress:/m);
  });

  it("writes nothing when disabled (--no-progress, --json)", () => {
    const c = capture(false);
    const bar = progressReporter(false, c.out);
    bar.update(progress(1, 1));
    expect(c.text()).toBe("");
  });

  it("an experiment logs cells every 5 %; cells finished before (skipped) do not count towards the rate", () => {
    const c = capture(false);
    const cells = cellProgress(true, c.out);
    cells.start(4);
    const report = (done: number, action: CellReport["action"]): CellReport =>
      ({ cell: { id: `cell-${done}`, labels: {}, settings: {} }, action, summary: { status: "complete" }, ms: 1, done, total: 4 }) as unknown as CellReport;
    cells.cell(report(1, "skipped"));
    c.tick(10_000);
    cells.cell(report(2, "ran"));
    c.tick(10_000);
    cells.cell(report(3, "ran"));
    const lines = c.text().trim().split("\n");
    expect(lines[0]).toBe("progress: 0/4 cells");
    expect(lines[1]).toMatch(/^progress: 1\/4 cells \(25 %\)/);
    // 2 cells run in 20 s: 6 per minute, 1 to go: 10 s.
    expect(lines[3]).toBe("progress: 3/4 cells (75 %), 0:20 elapsed, 6.0 cells/min, ETA 0:10; last cell-3: complete");
  });
});
