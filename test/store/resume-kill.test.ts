import { isDrawing } from "../../src/image/drawing.js";
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, tempDir } from "../cli/helpers.js";

const BIN = resolve(__dirname, "../../bin/debiaspi.js");

interface Line {
  type: string;
  i?: number;
  t?: string;
  ms?: number;
  image?: string;
  decision?: string;
}
const readEvents = (dir: string): Line[] =>
  readFileSync(join(dir, "events.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Line);
const timeless = (lines: Line[]): Line[] => lines.map(({ t, ms, ...rest }) => (void t, void ms, rest));

const countLines = (out: string): number => {
  const dirs = existsSync(out) ? readdirSync(out) : [];
  if (dirs.length === 0) return 0;
  const file = join(out, dirs[0]!, "events.jsonl");
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").length - 1 : 0;
};

/**
 * Starts the CLI and kills it with SIGKILL once events.jsonl has `lines` lines, plus `extraMs`
 * (so kills land at different points of an attempt: in flight, writing the image, writing the line).
 * Resolves with the exit code (null when killed).
 */
function runAndKill(args: string[], out: string, lines: number, extraMs: number): Promise<number | null> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: "ignore" });
    const poll = setInterval(() => {
      if (countLines(out) >= lines) {
        clearInterval(poll);
        setTimeout(() => child.kill("SIGKILL"), extraMs);
      }
    }, 2);
    child.on("exit", (code) => {
      clearInterval(poll);
      done(code);
    });
  });
}

const settings = (out: string, concurrency: number, files = true): string[] => [
  "run",
  "a photo of the face of a software developer",
  "--joint",
  "race,gender",
  "--n",
  "28",
  "--seed",
  "11",
  "--concurrency",
  String(concurrency),
  "--latency",
  String(concurrency === 1 ? 8 : 30),
  "--out",
  out,
  "--no-progress",
  // Image files by default (the crash protocol of a real provider's images); drawings are named in the event lines only.
  ...(files ? ["--image-files"] : []),
];

describe("resume after kill -9", () => {
  it("the compiled CLI exists (npm run build ran)", () => {
    expect(existsSync(resolve(__dirname, "../../dist/src/cli/main.js"))).toBe(true);
  });

  for (const [concurrency, files] of [
    [1, true],
    [4, true],
    [1, false],
  ] as const) {
    it(`loses nothing and generates nothing twice at concurrency ${concurrency}${files ? "" : ", images drawn when looked at"}`, async () => {
      const ref = tempDir();
      const done = spawnSync(process.execPath, [BIN, ...settings(ref, concurrency, files)], { encoding: "utf8" });
      expect(done.status).toBe(0);
      const refDir = join(ref, readdirSync(ref)[0]!);

      const out = tempDir();
      // Kill the first process after a few attempts, then keep resuming and killing at other moments.
      const killAt: [number, number][] = [[3, 0], [7, 5], [11, 1], [15, 9], [19, 3], [23, 7], [27, 2]];
      let code = await runAndKill(settings(out, concurrency, files), out, killAt[0]![0], killAt[0]![1]);
      let kills = code === null ? 1 : 0;
      const runDir = (): string => join(out, readdirSync(out)[0]!);
      for (let k = 1; code !== 0 && k < killAt.length; k++) {
        expect(readdirSync(out)).toHaveLength(1);
        code = await runAndKill(["resume", runDir(), "--no-progress"], out, killAt[k]![0], killAt[k]![1]);
        if (code === null) kills++;
      }
      if (code !== 0) {
        const last = spawnSync(process.execPath, [BIN, "resume", runDir(), "--no-progress"], { encoding: "utf8" });
        expect(last.status).toBe(0);
      }
      expect(kills).toBeGreaterThanOrEqual(4);

      const lines = readEvents(runDir());
      const attempts = lines.filter((l) => l.type === "attempt");
      const indices = attempts.map((l) => l.i);
      expect(new Set(indices).size).toBe(indices.length); // no attempt recorded twice
      for (const l of attempts) if (l.image) expect(files ? existsSync(join(runDir(), l.image)) : isDrawing(l.image)).toBe(true);
      expect(attempts.filter((l) => l.decision === "kept")).toHaveLength(28);
      expect(readdirSync(join(runDir(), "pending"))).toEqual([]);
      expect(existsSync(join(runDir(), "run.lock"))).toBe(false);
      const shown = JSON.parse((await cli("show", runDir(), "--json")).stdout);
      expect(shown.exact).toBe(true);
      if (concurrency === 1) {
        // At concurrency 1 the killed and resumed run is the uninterrupted run, image for image.
        const endless = (ls: Line[]): Line[] => timeless(ls.filter((l) => l.type === "attempt"));
        expect(endless(lines)).toEqual(endless(readEvents(refDir)));
        expect(readdirSync(join(runDir(), "images")).sort()).toEqual(readdirSync(join(refDir, "images")).sort());
      }
    }, 60_000);
  }
});

describe("Ctrl-C and SIGTERM", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("%s stops cleanly with exit code %i, says how to resume, and the run resumes to completion", async (signal, exitCode) => {
    const out = tempDir();
    const child = spawn(process.execPath, [BIN, ...settings(out, 2).map((a) => (a === "30" ? "40" : a))], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const poll = setInterval(() => {
      if (countLines(out) >= 6) {
        clearInterval(poll);
        child.kill(signal);
      }
    }, 2);
    const code = await new Promise<number | null>((done) => child.on("exit", (c) => done(c)));
    clearInterval(poll);
    expect(code).toBe(exitCode);
    const dir = join(out, readdirSync(out)[0]!);
    expect(stderr).toContain(`continue with: debiaspi resume ${dir}`);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stdout).toContain("incomplete (stopped before the end; `debiaspi resume` continues it)");
    expect(existsSync(join(dir, "run.lock"))).toBe(false);
    const lines = readEvents(dir);
    expect(lines.some((l) => l.type === "end")).toBe(false);
    const resumed = await cli("resume", dir, "--json", "--no-progress");
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).exact).toBe(true);
  }, 30_000);
});

describe("run folder repairs and locks", () => {
  it("drops a torn last line and continues", async () => {
    const out = tempDir();
    const first = JSON.parse((await cli("run", "a CEO", "--attributes", "gender", "--n", "6", "--seed", "3", "--concurrency", "1", "--out", out, "--json", "--no-progress")).stdout);
    const dir = first.runDir as string;
    // Make it look killed: drop the end line and the last attempt, then add half a line.
    const lines = readFileSync(join(dir, "events.jsonl"), "utf8").trim().split("\n");
    writeFileSync(join(dir, "events.jsonl"), `${lines.slice(0, -2).join("\n")}\n`);
    appendFileSync(join(dir, "events.jsonl"), lines.at(-2)!.slice(0, 40));
    const r = await cli("resume", dir, "--json", "--no-progress");
    expect(r.code).toBe(0);
    const resumed = JSON.parse(r.stdout);
    expect(resumed.kept).toBe(6);
    expect(resumed.attributes).toEqual(first.attributes);
    const after = readEvents(dir);
    expect(after.filter((l) => l.type === "attempt").map((l) => l.i)).toEqual(lines.slice(0, -1).map((l) => (JSON.parse(l) as Line).i));
  });

  it("refuses to resume a run another live process holds", async () => {
    const out = tempDir();
    const j = JSON.parse((await cli("run", "a CEO", "--attributes", "gender", "--n", "4", "--seed", "3", "--out", out, "--json", "--no-progress")).stdout);
    writeFileSync(join(j.runDir, "run.lock"), String(process.ppid));
    const r = await cli("resume", j.runDir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is in progress in process \d+; wait for it or stop it first/);
    // A lock left by a dead process (kill -9) does not block.
    writeFileSync(join(j.runDir, "run.lock"), "999999");
    expect((await cli("resume", j.runDir, "--no-progress")).code).toBe(0);
  });

  it("asks for a larger budget to continue a run that spent its own", async () => {
    const out = tempDir();
    const r = await cli("run", "a farmer", "--attributes", "skin_tone", "--n", "20", "--seed", "1", "--max-attempts", "20", "--out", out, "--json", "--no-progress");
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.status).toBe("budget");
    const again = await cli("resume", j.runDir);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/spent its attempt budget \(20\); pass --max-attempts/);
    const more = await cli("resume", j.runDir, "--max-attempts", "2000", "--json", "--no-progress");
    expect(more.code).toBe(0);
    expect(JSON.parse(more.stdout).exact).toBe(true);
  });
});
