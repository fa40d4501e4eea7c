import { hasRunImage, readRunImage } from "../../src/store/images.js";
import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, tempDir } from "../cli/helpers.js";
import { runConfig, SMALL } from "../experiments/helpers.js";

/** Rows of a CSV without quoted fields containing commas or line breaks (what these tests write). */
function csvRows(text: string): Record<string, string>[] {
  const [head, ...lines] = text.trim().split("\r\n");
  const cols = head!.split(",");
  return lines.map((l) => {
    const fields = l.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((f) => f.replace(/,$/, "").replace(/^"|"$/g, "").replace(/""/g, '"'));
    return Object.fromEntries(cols.map((c, i) => [c, fields[i] ?? ""]));
  });
}

/** A joint run on a model that honours half of the race requests, so images land in full bins and are set apart. */
async function jointRun(): Promise<string> {
  const dir = tempDir();
  writeFileSync(join(dir, "run.yaml"), "sim:\n  compliance: { attributes: { race: 0.5 } }\n");
  const r = await cli("run", "A chef plates a dessert", "--config", join(dir, "run.yaml"), "--joint", "race+gender", "--n", "14", "--seed", "2", "--concurrency", "1", "--out", dir, "--json", "--no-progress");
  return (JSON.parse(r.stdout) as { runDir: string }).runDir;
}

describe("export --images (issue 15 item 3)", () => {
  it("copies the kept images with readable names, the set-apart ones under set-apart/, and a manifest", async () => {
    const runDir = await jointRun();
    const shown = JSON.parse((await cli("show", runDir, "--json")).stdout) as { kept: number; discarded: { overflow: number; unknown: number; surplus: number } };
    const out = join(tempDir(), "set");
    const r = await cli("export", runDir, "--images", out);
    expect(r.code, r.stderr).toBe(0);
    const apart = shown.discarded.overflow + shown.discarded.unknown + shown.discarded.surplus;
    expect(apart).toBeGreaterThan(0); // both kinds are exercised
    expect(r.stdout).toMatch(new RegExp(`^copied 14 kept images and ${apart} set apart \\(in set-apart/\\) to `));

    const keptFiles = readdirSync(out).filter((f) => f.endsWith(".png")).sort();
    expect(keptFiles).toHaveLength(14);
    expect(keptFiles[0]).toMatch(/^01-[a-z_]+-(female|male)\.png$/);
    expect(keptFiles[13]).toMatch(/^14-[a-z_]+-(female|male)\.png$/);
    const apartFiles = readdirSync(join(out, "set-apart"));
    expect(apartFiles).toHaveLength(apart);
    for (const f of apartFiles) expect(f).toMatch(/^\d{2}-(overflow|unknown|surplus)-[a-z_]+-[a-z_]+\.png$/);

    const rows = csvRows(readFileSync(join(out, "manifest.csv"), "utf8"));
    expect(rows).toHaveLength(14 + apart);
    expect(rows.filter((x) => x.set === "kept")).toHaveLength(14);
    for (const row of rows) {
      // The name says what the manifest says was seen; the copy is the run's image byte for byte (sim's are drawn from their names).
      const name = row.file!.split("/").pop()!;
      if (row.set === "kept") expect(name).toBe(`${name.slice(0, 2)}-${row["observed.race"]}-${row["observed.gender"]}.png`);
      else expect(row.file).toMatch(/^set-apart\//);
      expect(row.source).toMatch(/^images\/[^/]+\.png$/);
      expect(readFileSync(join(out, row.file!)).equals(Buffer.from(readRunImage(runDir, row.source!)!.bytes))).toBe(true);
    }
  });

  it("an experiment gets a folder per cell; a non-empty folder and a missing kept image are refused (exit 2)", async () => {
    // Image files, as a real provider's: a kept file can then go missing (a drawing cannot).
    const { outcome } = await runConfig({ ...SMALL, settings: { ...SMALL.settings, sim: { imageFiles: true } } });
    const out = join(tempDir(), "exp");
    expect((await cli("export", outcome.dir, "--images", out)).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([...outcome.manifest.cells.map((c) => c.id), "manifest.csv"].sort());
    for (const c of outcome.manifest.cells) expect(readdirSync(join(out, c.id)).filter((f) => f.endsWith(".png"))).toHaveLength(14);

    const again = await cli("export", outcome.dir, "--images", out);
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toMatch(/--images .*: the folder exists and is not empty; give a new or empty folder$/);

    const runDir = outcome.input.runs[0]!.runDir;
    unlinkSync(join(runDir, "images", readdirSync(join(runDir, "images"))[0]!));
    const fresh = join(tempDir(), "x");
    mkdirSync(fresh);
    const missing = await cli("export", runDir, "--images", fresh);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/kept image file is missing/);
  });

  it("the tables use run-relative paths: run_dir relative to the exported folder, image relative to the run", async () => {
    const { outcome } = await runConfig(SMALL);
    const out = tempDir();
    expect((await cli("export", outcome.dir, "--out", out)).code).toBe(0);
    const runs = csvRows(readFileSync(join(out, "runs.csv"), "utf8"));
    for (const r of runs) expect(r.run_dir).toBe(`runs/${r.run_id}`);
    const images = csvRows(readFileSync(join(out, "images.csv"), "utf8")).filter((x) => x.image);
    expect(images.length).toBeGreaterThan(0);
    for (const row of images) {
      expect(row.image).toMatch(/^images\//);
      expect(hasRunImage(join(outcome.dir, "runs", row.run_id!), row.image!)).toBe(true);
    }
    const lone = tempDir();
    expect((await cli("export", outcome.input.runs[0]!.runDir, "--out", lone)).code).toBe(0);
    expect(csvRows(readFileSync(join(lone, "runs.csv"), "utf8"))[0]!.run_dir).toBe(".");
  });
});
