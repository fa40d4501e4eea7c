import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, tempDir } from "../cli/helpers.js";

const FIX = join(import.meta.dirname, "..", "fixtures", "fairface", "heldout");
const PHOTOS = readdirSync(FIX).filter((f) => f.endsWith(".jpg")).sort().slice(0, 3);

/** A folder with three real photographs, a .png of garbage bytes and a JPEG cut short after its header. */
function mixedFolder(): string {
  const dir = tempDir("debiaspi-unreadable-");
  for (const f of PHOTOS) copyFileSync(join(FIX, f), join(dir, f));
  writeFileSync(join(dir, "garbage.png"), "this is not a png at all");
  writeFileSync(join(dir, "cut.jpg"), readFileSync(join(FIX, PHOTOS[0]!)).subarray(0, 400));
  return dir;
}

describe("audit of files that are not decodable images", () => {
  it("reports each unreadable file (path and why) and counts only the readable images", async () => {
    const dir = mixedFolder();
    const r = await cli("audit", dir, "--observer", "self-report", "--attributes", "gender", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { kept: number; n: number; images: { file: string }[]; unreadable: { file: string; reason: string }[]; attributes: { gender: { observed: Record<string, number> } } };
    expect(j.kept).toBe(3);
    expect(j.n).toBe(3);
    expect(j.images.map((i) => i.file)).toEqual(PHOTOS);
    expect(j.unreadable.map((u) => u.file)).toEqual(["cut.jpg", "garbage.png"]);
    for (const u of j.unreadable) expect(u.reason).toMatch(/decode|read/i);
    // The tally covers the 3 photographs only (self-report sees nobody in a plain photo: 3 unknown).
    expect(Object.values(j.attributes.gender.observed).reduce((a, b) => a + b, 0)).toBe(0);
    // One line per unreadable file on stderr, naming it and why.
    const lines = r.stderr.trim().split("\n").filter((l) => l.includes("unreadable"));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/cut\.jpg: could not (read|decode) the (JPEG )?image/i);
    expect(lines[1]).toMatch(/garbage\.png: could not read the image/i);
  });

  it("the table output says how many files were unreadable and left out", async () => {
    const dir = mixedFolder();
    const r = await cli("audit", dir, "--observer", "skin-tone", "--no-progress");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^audit of 3 images found in /);
    expect(r.stdout).toMatch(/2 files unreadable, not counted/);
    expect(r.stderr).toMatch(/garbage\.png/);
  }, 60_000);

  it("an audit folder (--out) holds only the readable images and records the unreadable ones", async () => {
    const dir = mixedFolder();
    const out = join(tempDir(), "audit");
    const r = await cli("audit", dir, "--observer", "self-report", "--out", out, "--no-progress");
    expect(r.code).toBe(0);
    expect(readdirSync(join(out, "images"))).toHaveLength(3);
    expect(existsSync(join(out, "run.lock"))).toBe(false); // the finished audit folder is not held
    const show = JSON.parse((await cli("show", out, "--json")).stdout) as { kept: number };
    expect(show.kept).toBe(3);
    const meta = JSON.parse(readFileSync(join(out, "audit.json"), "utf8")) as { unreadable: { file: string }[] };
    expect(meta.unreadable.map((u) => u.file)).toEqual(["cut.jpg", "garbage.png"]);
  });

  it("a folder where every file is unreadable is bad input: exit 2, one line, no folder written", async () => {
    const dir = tempDir("debiaspi-unreadable-");
    writeFileSync(join(dir, "a.png"), "garbage");
    writeFileSync(join(dir, "b.jpg"), "");
    const out = join(tempDir(), "audit");
    const r = await cli("audit", dir, "--observer", "self-report", "--out", out);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/none of the 2 files .* is a readable image/);
    expect(existsSync(out)).toBe(false);
  });
});
