import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, tempDir } from "../cli/helpers.js";

const FIX = join(import.meta.dirname, "..", "fixtures", "fairface");
const HELD = join(FIX, "heldout");
const LABELS = join(FIX, "heldout-labels.csv");

describe("audit an auditor can act on", () => {
  const dir = tempDir();

  it("--json lists every image with what was seen, and with --labels the misread images", async () => {
    const r = await cli("audit", HELD, "--observer", "skin-tone", "--labels", LABELS, "--json");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { images: { file: string; people: Record<string, string | null>[]; labels: Record<string, string | null>; truth?: Record<string, string> }[]; misread: unknown[] };
    expect(out.images).toHaveLength(16);
    expect(out.images[0]!.file).toMatch(/^fairface_\d+\.jpg$/);
    expect(out.images[0]!.labels.skin_tone).toMatch(/^monk_\d+$/);
    expect(out.images[0]!.truth?.gender).toMatch(/^(female|male)$/);
    // skin-tone sees no gender: its unread gender is not called a misreading.
    expect(out.misread).toEqual([]);
  }, 180_000);

  it("speaks of images found, not of a generated set", async () => {
    const r = await cli("audit", HELD, "--observer", "self-report", "--no-progress");
    expect(r.stdout).toMatch(/^audit of 16 images found in /);
    expect(r.stdout).not.toMatch(/every bin met|generated/);
  });

  it("--out writes an audit folder that show, export, report and check read", async () => {
    const out = join(dir, "audit1");
    const r = await cli("audit", HELD, "--observer", "self-report", "--out", out, "--no-progress");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/audit folder: /);
    expect(readdirSync(join(out, "images"))).toHaveLength(16);
    const show = await cli("show", out, "--json");
    expect((JSON.parse(show.stdout) as { kept: number }).kept).toBe(16);
    const exp = await cli("export", out, "--out", join(dir, "exp"));
    expect(exp.code).toBe(0);
    expect(existsSync(join(dir, "exp", "images.csv"))).toBe(true);
    const rep = await cli("report", out, "--out", join(dir, "a.html"), "--no-thumbnails");
    expect(rep.code).toBe(0);
    const check = await cli("check", out);
    expect([0, 1]).toContain(check.code);
    const again = await cli("audit", HELD, "--observer", "self-report", "--out", out);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  }, 60_000);

  it("with --labels, the report's gallery marks every misread image against its label (issue 15: a gallery of misreads)", async () => {
    const out = join(dir, "audit-labels");
    // skin-tone sees no gender: every labelled woman and man is misread as unknown on gender.
    const r = await cli("audit", HELD, "--observer", "skin-tone", "--labels", LABELS, "--out", out, "--no-progress");
    expect(r.code).toBe(0);
    const rep = await cli("report", out, "--out", join(dir, "labels.html"), "--no-thumbnails");
    expect(rep.code).toBe(0);
    const html = readFileSync(join(dir, "labels.html"), "utf8");
    const misread = html.match(/<li class="tile is-kept" data-state="kept" data-disagree="1"/g) ?? [];
    expect(misread).toHaveLength(16);
    expect(html).toMatch(/<strong>Gender<\/strong>: unknown <span class="who">\(skin-tone\)<\/span> vs Female <span class="who">\(labels\)<\/span>/);
    expect(html).toMatch(/<strong>Gender<\/strong>: unknown <span class="who">\(skin-tone\)<\/span> vs Male <span class="who">\(labels\)<\/span>/);
  }, 60_000);
});
