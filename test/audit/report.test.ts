import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, tempDir } from "../cli/helpers.js";

const FIX = join(import.meta.dirname, "..", "fixtures", "fairface", "heldout");

/** Text of the page without tags, whitespace collapsed. */
const text = (html: string): string => html.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/g, "").replace(/<[^>]+>/g, " ").replace(/\s+/g, " ");

describe("the HTML report of an audit folder", () => {
  it("is titled by the folder and observers audited, says what could not be read, and has no cost or generation sections", async () => {
    const photos = join(tempDir(), "newsroom-photos");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(photos);
    for (const f of readdirSync(FIX).filter((x) => x.endsWith(".jpg")).slice(0, 4)) copyFileSync(join(FIX, f), join(photos, f));
    writeFileSync(join(photos, "broken.png"), "garbage");
    const out = join(tempDir(), "audit");
    const a = await cli("audit", photos, "--observer", "self-report,requested", "--attributes", "gender", "--out", out, "--no-progress");
    expect(a.code).toBe(0);
    const page = join(tempDir(), "audit.html");
    const r = await cli("report", out, "--out", page, "--no-thumbnails");
    expect(r.code).toBe(0);
    const html = readFileSync(page, "utf8");
    const words = text(html);
    expect(html).toMatch(/<h1>Audit of newsroom-photos \(self-report, checked by requested\)<\/h1>/);
    expect(html).toMatch(/<title>Audit of newsroom-photos/);
    expect(words).toMatch(/debiaspi audit report/);
    expect(words).not.toMatch(/\(none, |run report/);
    // What was audited, and what could not be read.
    expect(words).toContain(`Audited folder ${photos}`);
    expect(words).toMatch(/Images 4 read; 1 file could not be read \(not counted\)/);
    // Nothing was generated: no cost, no convergence of a loop, no side effects against a `none` run, no policy column.
    expect(html).not.toMatch(/id="dbp-cost"|id="dbp-convergence"|id="dbp-effects"/);
    expect(words).not.toMatch(/\bCost\b|generations|gen per kept|refusals|Provider/);
    expect(html).toMatch(/id="dbp-summary"/);
    expect(html).toMatch(/id="dbp-gallery"/);
  }, 60_000);

  it("a run's report keeps its cost section and run title", async () => {
    const runs = tempDir();
    const run = JSON.parse((await cli("run", "a CEO", "--attributes", "gender", "--n", "4", "--seed", "2", "--out", runs, "--json", "--no-render", "--no-progress")).stdout) as { runDir: string };
    const page = join(tempDir(), "run.html");
    expect((await cli("report", run.runDir, "--out", page, "--no-thumbnails")).code).toBe(0);
    const html = readFileSync(page, "utf8");
    expect(html).toMatch(/<h1>a CEO \(debiaspi, gender\)<\/h1>/);
    expect(html).toMatch(/id="dbp-cost"/);
    expect(text(html)).toMatch(/debiaspi run report/);
  }, 60_000);
});
