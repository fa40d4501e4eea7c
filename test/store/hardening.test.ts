import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RunFolder } from "../../src/store/run-folder.js";
import { cli, tempDir } from "../cli/helpers.js";

interface Line {
  type: string;
  i?: number;
  image?: string;
  decision?: string;
  outcome?: string;
  observation?: { observer: string; persons: { labels: Record<string, string | null> }[]; note?: string };
  [k: string]: unknown;
}
const eventsPath = (dir: string): string => join(dir, "events.jsonl");
const readLines = (dir: string): string[] => readFileSync(eventsPath(dir), "utf8").split("\n").filter((l) => l.trim() !== "");
const readEvents = (dir: string): Line[] => readLines(dir).map((l) => JSON.parse(l) as Line);

async function smallRun(...extra: string[]): Promise<string> {
  const out = tempDir();
  // Image files, as a real provider's: these tests are about files going missing (drawings cannot).
  const r = await cli("run", "a photo of the face of a nurse", "--n", "6", "--seed", "5", "--concurrency", "1", "--out", out, "--json", "--no-progress", "--image-files", ...extra);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { runDir: string }).runDir;
}

/** Makes a finished run look killed after its last image was saved but before its event line was written. */
function unrecordLastImage(dir: string): Line {
  const lines = readLines(dir);
  const events = lines.map((l) => JSON.parse(l) as Line);
  const lastIdx = events.map((e) => e.outcome).lastIndexOf("image");
  const last = events[lastIdx]!;
  const { observation: _o, checks: _c, decision: _d, kept: _k, tally: _t, ...pending } = last;
  writeFileSync(eventsPath(dir), lines.slice(0, lastIdx).map((l) => `${l}\n`).join(""));
  writeFileSync(join(dir, "pending", `${String(last.i).padStart(8, "0")}.json`), JSON.stringify(pending));
  return last;
}

describe("item 1: an attempt recovered from pending/ is observed with its image", () => {
  it("a pixel observer (skin-tone) sees the recovered image as it saw it in the uninterrupted run", async () => {
    const dir = await smallRun("--attributes", "skin_tone", "--observer", "skin-tone");
    const last = unrecordLastImage(dir);
    expect(last.observation!.persons.length).toBe(1);
    const r = await cli("resume", dir, "--json", "--no-progress");
    expect(r.code, r.stderr).toBe(0);
    const again = readEvents(dir).find((e) => e.i === last.i)!;
    expect(again.observation!.note ?? "").not.toMatch(/no image/);
    expect(again.observation!.persons).toEqual(last.observation!.persons);
    expect(again.decision).toBe(last.decision);
    expect(readdirSync(join(dir, "pending"))).toEqual([]);
  });

  it("a recovered attempt whose image file is gone is an observer failure that says so, not a silent unknown", async () => {
    const dir = await smallRun("--attributes", "skin_tone", "--observer", "skin-tone");
    const last = unrecordLastImage(dir);
    unlinkSync(join(dir, last.image!));
    const r = await cli("resume", dir, "--json", "--no-progress");
    expect(r.code, r.stderr).toBe(0);
    const again = readEvents(dir).find((e) => e.i === last.i)!;
    expect(again.observation!.note).toMatch(/image file .* is missing/);
  });
});

describe("item 3: a run folder is claimed with one mkdir", () => {
  it("a folder id already taken, even by a folder not yet filled, gets the next suffix; an exact path must be new", () => {
    const out = tempDir();
    mkdirSync(join(out, "20260101-000000-a_pilot-debiaspi"));
    const a = RunFolder.createUnique(out, "20260101-000000-a_pilot-debiaspi", (id) => ({ id }));
    const b = RunFolder.createUnique(out, "20260101-000000-a_pilot-debiaspi", (id) => ({ id }));
    expect([a.dir, b.dir].map((d) => d.slice(out.length + 1))).toEqual(["20260101-000000-a_pilot-debiaspi-2", "20260101-000000-a_pilot-debiaspi-3"]);
    expect(JSON.parse(readFileSync(join(b.dir, "run.json"), "utf8")).id).toBe("20260101-000000-a_pilot-debiaspi-3");
    expect(readdirSync(join(out, "20260101-000000-a_pilot-debiaspi"))).toEqual([]);
    // Created folders are locked by their creator until it lets go.
    expect(readFileSync(join(a.dir, "run.lock"), "utf8")).toBe(String(process.pid));
    a.unlock();
    expect(existsSync(join(a.dir, "run.lock"))).toBe(false);
    expect(() => RunFolder.create(join(out, "20260101-000000-a_pilot-debiaspi"), { id: "x" })).toThrow(/already exists/);
    expect(readdirSync(join(out, "20260101-000000-a_pilot-debiaspi"))).toEqual([]);
    b.unlock();
  });

  it("a second lock in the same process is refused, a stale lock is taken over", () => {
    const out = tempDir();
    const a = RunFolder.create(join(out, "r"), { id: "r" });
    expect(() => RunFolder.at(join(out, "r")).lock()).toThrow(/in progress in this process/);
    a.unlock();
    writeFileSync(join(out, "r", "run.lock"), "999999");
    writeFileSync(join(out, "r", "run.lock.claim-999999-1"), "999999");
    const b = RunFolder.at(join(out, "r"));
    b.lock();
    b.cleanTemp();
    expect(readFileSync(join(out, "r", "run.lock"), "utf8")).toBe(String(process.pid));
    b.unlock();
    expect(readdirSync(join(out, "r")).filter((f) => f.startsWith("run.lock"))).toEqual([]);
  });
});

describe("item 2: a second resume checks the lock before touching anything", () => {
  it("refuses and leaves the running process's temp files and torn line alone", async () => {
    const dir = await smallRun("--attributes", "gender");
    const tmp = join(dir, "pending", `00000099.json.tmp-${process.ppid}-1`);
    writeFileSync(tmp, "{}");
    const imgTmp = join(dir, "images", `abc.png.tmp-${process.ppid}-2`);
    writeFileSync(imgTmp, "x");
    writeFileSync(eventsPath(dir), `${readFileSync(eventsPath(dir), "utf8")}{"type":"att`);
    const before = readFileSync(eventsPath(dir), "utf8");
    writeFileSync(join(dir, "run.lock"), String(process.ppid));
    const r = await cli("resume", dir, "--no-progress");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is in progress in process \d+/);
    expect(existsSync(tmp)).toBe(true);
    expect(existsSync(imgTmp)).toBe(true);
    expect(readFileSync(eventsPath(dir), "utf8")).toBe(before);
    expect(readFileSync(join(dir, "run.lock"), "utf8")).toBe(String(process.ppid));
  });

  it("run.lock that is a folder is one clear line, exit 2", async () => {
    const dir = await smallRun("--attributes", "gender");
    mkdirSync(join(dir, "run.lock"));
    const r = await cli("resume", dir, "--no-progress");
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/run\.lock .*is not a file/);
  });
});

describe("item 4: events.jsonl whose last line has no newline", () => {
  it("resume ends the line before appending, so no two events are glued together", async () => {
    const dir = await smallRun("--attributes", "gender");
    const lines = readLines(dir);
    // The end line and the last attempt's newline are gone: a valid last line without "\n".
    writeFileSync(eventsPath(dir), lines.slice(0, -1).join("\n"));
    const r = await cli("resume", dir, "--json", "--no-progress");
    expect(r.code, r.stderr).toBe(0);
    const after = readLines(dir);
    for (const l of after) expect(() => JSON.parse(l)).not.toThrow();
    expect((await cli("show", dir)).code).toBe(0);
    const attempts = after.map((l) => JSON.parse(l) as Line).filter((e) => e.type === "attempt");
    expect(new Set(attempts.map((e) => e.i)).size).toBe(attempts.length);
  });

  it("a glued last line is refused with the line number, never dropped as torn", async () => {
    const dir = await smallRun("--attributes", "gender");
    const lines = readLines(dir);
    const glued = `${lines.slice(0, -2).join("\n")}\n${lines.at(-2)!}${lines.at(-1)!}`;
    writeFileSync(eventsPath(dir), glued);
    const before = readFileSync(eventsPath(dir), "utf8");
    for (const args of [["show", dir], ["resume", dir, "--no-progress"]]) {
      const r = await cli(...args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(`events.jsonl line ${lines.length - 1}`);
      expect(r.stderr).toMatch(/two events glued/);
    }
    expect(readFileSync(eventsPath(dir), "utf8")).toBe(before);
  });
});

describe("item 5: missing data is noticed", () => {
  it("a deleted kept image: show warns and exits 1, resume and audit refuse with one line", async () => {
    const dir = await smallRun("--attributes", "gender");
    const kept = readEvents(dir).filter((e) => e.decision === "kept");
    unlinkSync(join(dir, kept[2]!.image!));
    const show = await cli("show", dir);
    expect(show.code).toBe(1);
    expect(show.stderr).toMatch(/1 of 6 kept images (is|are) missing/);
    expect(show.stderr).toContain(kept[2]!.image!);
    for (const args of [["resume", dir, "--no-progress"], ["audit", dir]]) {
      const r = await cli(...args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/1 of 6 kept images (is|are) missing/);
    }
  });

  it("a deleted images/ folder is named as such", async () => {
    const dir = await smallRun("--attributes", "gender");
    rmSync(join(dir, "images"), { recursive: true });
    const r = await cli("resume", dir, "--no-progress");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/images\/ is missing/);
    expect(existsSync(join(dir, "images"))).toBe(false);
    expect((await cli("show", dir)).stderr).toMatch(/images\/ is missing/);
  });

  it("a deleted events.jsonl: resume does not start again from zero, show says so", async () => {
    const dir = await smallRun("--attributes", "gender");
    unlinkSync(eventsPath(dir));
    for (const cmd of ["resume", "show", "audit"]) {
      const r = await cli(cmd, dir);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/events\.jsonl is missing/);
    }
    expect(existsSync(eventsPath(dir))).toBe(false);
  });

  it("a run killed before its first attempt (empty events, no images) still resumes", async () => {
    const dir = await smallRun("--attributes", "gender");
    writeFileSync(eventsPath(dir), "");
    rmSync(join(dir, "images"), { recursive: true });
    mkdirSync(join(dir, "images"));
    const r = await cli("resume", dir, "--json", "--no-progress");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).kept).toBe(6);
  });
});

describe("item 6: run.json and every event line are checked on load", () => {
  const cases: [string, (dir: string) => void, RegExp][] = [
    ["an event line null", (d) => writeFileSync(eventsPath(d), `null\n${readFileSync(eventsPath(d), "utf8")}`), /events\.jsonl line 1: /],
    ["an attempt without its fields", (d) => writeFileSync(eventsPath(d), `${readFileSync(eventsPath(d), "utf8")}{"type":"attempt"}\n`), /events\.jsonl line \d+: .*\bi\b/],
    ["an unknown event type", (d) => writeFileSync(eventsPath(d), `{"type":"party"}\n${readFileSync(eventsPath(d), "utf8")}`), /events\.jsonl line 1: type/],
    [
      "a malformed target in run.json",
      (d) => {
        const rec = JSON.parse(readFileSync(join(d, "run.json"), "utf8"));
        rec.target.factors[0].q = "half";
        writeFileSync(join(d, "run.json"), JSON.stringify(rec));
      },
      /run\.json: target\.factors\.0\.q/,
    ],
    [
      "a target whose bins do not add up to n",
      (d) => {
        const rec = JSON.parse(readFileSync(join(d, "run.json"), "utf8"));
        rec.target.factors[0].bins = [1, 1];
        writeFileSync(join(d, "run.json"), JSON.stringify(rec));
      },
      /run\.json: target\.factors\.0\.bins/,
    ],
    [
      "run.json a list",
      (d) => writeFileSync(join(d, "run.json"), "[]"),
      /run\.json/,
    ],
  ];
  for (const [what, damage, message] of cases) {
    it(`${what}: show and resume say where, exit 2, one line`, async () => {
      const dir = await smallRun("--attributes", "gender");
      damage(dir);
      for (const cmd of ["show", "resume"]) {
        const r = await cli(cmd, dir);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
        expect(r.stderr).toMatch(message);
      }
    });
  }
});
