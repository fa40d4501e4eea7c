import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lastEndReason } from "../../src/store/run-folder.js";
import { tempDir } from "../cli/helpers.js";

const attempt = (i: number, meta?: Record<string, unknown>): string =>
  JSON.stringify({ type: "attempt", i, prompt: `a photo number ${i} ${"x".repeat(80)}`, ...(meta ? { meta } : {}), decision: "kept" });
const end = (reason: string): string => JSON.stringify({ type: "end", t: "2026-01-01T00:00:00.000Z", reason });

function logOf(lines: string[], tail = "\n"): string {
  const dir = join(tempDir(), "r");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "events.jsonl"), lines.join("\n") + (lines.length > 0 ? tail : ""));
  return dir;
}

describe("lastEndReason: a run's status from the end of its log", () => {
  it("is the reason of the last end line, attempts after it included, across many read chunks", () => {
    const many = Array.from({ length: 3000 }, (_, i) => attempt(i)); // about 300 KB: several 64 KB chunks
    expect(lastEndReason(logOf([...many, end("complete")]))).toBe("complete");
    // A resumed budget run that was killed again: its last end line is far from the end of the file.
    expect(lastEndReason(logOf([attempt(0), end("budget"), ...many]))).toBe("budget");
    expect(lastEndReason(logOf([end("budget"), ...many.slice(0, 5), end("provider-errors"), ...many]))).toBe("provider-errors");
  });

  it("is undefined without an end line, for an empty log and without a log", () => {
    expect(lastEndReason(logOf(Array.from({ length: 2000 }, (_, i) => attempt(i))))).toBeUndefined();
    expect(lastEndReason(logOf([]))).toBeUndefined();
    const none = join(tempDir(), "none");
    mkdirSync(none);
    expect(lastEndReason(none)).toBeUndefined();
  });

  it("ignores a torn last line and an attempt whose meta holds type end", () => {
    expect(lastEndReason(logOf([attempt(0), end("cost"), attempt(1)], '\n{"type":"end","t":"2026'))).toBe("cost");
    expect(lastEndReason(logOf([end("complete"), attempt(1, { type: "end", reason: "budget" })]))).toBe("complete");
    expect(lastEndReason(logOf([end("budget")], ""))).toBe("budget");
  });
});
