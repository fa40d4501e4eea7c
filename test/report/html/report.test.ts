import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildReport, renderReportSections } from "../../../src/report/html/index.js";
import type { Finding, ReportInput } from "../../../src/analysis/model.js";
import { cli } from "../../cli/helpers.js";
import { multiPolicyInput, SCRIPT_PROMPT, simRun, tempDir } from "./fixtures.js";

/** The HTML of one section, by its id. */
function section(page: string, id: string): string {
  const start = page.indexOf(`<section id="dbp-${id}"`);
  if (start < 0) return "";
  return page.slice(start, page.indexOf("</section>", start));
}

const count = (text: string, re: RegExp): number => [...text.matchAll(re)].length;
const imgSources = (page: string): string[] => [...page.matchAll(/<img [^>]*src="([^"]+)"/g)].map((m) => m[1]!);

/** Every URL the page would load or link: src, href (anchors excluded), url(...). */
function references(page: string): string[] {
  return [...page.matchAll(/(?:src|href)="([^"#][^"]*)"|url\(([^)#][^)]*)\)/g)].map((m) => m[1] ?? m[2]!);
}

const FINDINGS: Finding[] = [
  { id: "joint", claim: "Balancing race and gender jointly works for news headlines.", reproduced: "yes", evidence: "debiaspi: 12 of 12 runs exact, mean TV 0.000; none: mean TV 0.41." },
  { id: "palest", claim: "Models struggle to produce the palest skin tones.", reproduced: "partly", evidence: "Monk 1 honoured in 12 % of requests." },
  { id: "drift", claim: "Without control the model drifts to young men.", reproduced: "no", evidence: "48 % men." },
];

describe("HTML report of a single sim run", () => {
  let input: ReportInput;
  let page: string;
  let file: string;
  let images: number;

  beforeAll(async () => {
    const out = tempDir();
    const r = await simRun(out, { prompt: "a photo of the face of a CEO", joint: [["race", "gender"]], n: 14, checks: ["skin-tone"], sim: { reportMismatch: 0.4 } });
    input = { kind: "run", title: "CEO", dir: r.runDir, createdAt: r.record.createdAt, version: r.record.version, runs: [r] };
    const result = await buildReport(input, { now: () => new Date("2026-01-02T00:00:00Z") });
    file = result.file;
    page = readFileSync(file, "utf8");
    const withImage = r.events.filter((e) => e.type === "attempt" && e.image).length;
    expect(withImage).toBeGreaterThanOrEqual(14);
    expect(result.images).toBe(withImage);
    expect(result.thumbnails).toBe(new Set(r.events.flatMap((e) => (e.type === "attempt" && e.image ? [e.image] : []))).size);
    images = withImage;
  });

  it("writes report.html into the run folder, with its thumbnails in report-assets/ next to it", () => {
    expect(file).toBe(join(input.dir, "report.html"));
    const thumbs = imgSources(page).filter((s) => s.startsWith("report-assets/thumbs/"));
    expect(thumbs).toHaveLength(images);
    for (const src of thumbs) expect(existsSync(join(input.dir, decodeURIComponent(src)))).toBe(true);
    // Each thumbnail links to its full image in the run folder.
    const links = [...page.matchAll(/<a class="thumb" href="([^"]+)"/g)].map((m) => m[1]!);
    expect(links).toHaveLength(images);
    for (const href of links) {
      expect(href).toMatch(/^images\//);
      expect(existsSync(join(input.dir, decodeURIComponent(href)))).toBe(true);
    }
  });

  it("opens offline: no http(s) reference, no external script, stylesheet or font", () => {
    expect(page).not.toMatch(/https?:\/\//);
    expect(page).not.toMatch(/<script[^>]+src=/);
    expect(page).not.toMatch(/<link\b/);
    expect(page).not.toMatch(/@import|@font-face/);
    for (const ref of references(page)) expect(ref).not.toMatch(/^[a-z]+:/i);
  });

  it("has the sections in order, the summary row and a chart per attribute, joint heatmap and convergence", () => {
    const order = ["summary", "attributes", "joint", "convergence", "effects", "cost", "gallery"].map((id) => page.indexOf(`<section id="dbp-${id}"`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(page).not.toContain('id="dbp-findings"');
    const summary = section(page, "summary");
    expect(summary).toContain("a photo of the face of a CEO");
    expect(summary).toMatch(/14\/14/);
    expect(count(summary, /<tbody>[\s\S]*?<\/tbody>/g)).toBe(1);
    // gender and race controlled: two charts; the others (age, skin tone, body type) under "not controlled".
    const attributes = section(page, "attributes");
    expect(count(attributes, /<svg class="chart"/g)).toBe(5);
    expect(attributes).toContain('aria-label="Gender: target and achieved share per category"');
    expect(count(section(page, "joint"), /<svg class="chart"/g)).toBe(1);
    expect(count(section(page, "convergence"), /<svg class="chart"/g)).toBe(1);
    // Chart ids are unique across the page (several charts have clip paths).
    const ids = [...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("shows in the gallery where the pixel checker and the model's self-report disagree", () => {
    const gallery = section(page, "gallery");
    const disagreeing = input.runs[0]!.summary.agreement.find((a) => a.checker === "skin-tone")!;
    const tiles = count(gallery, /data-state="kept" data-disagree="1"/g);
    expect(tiles).toBe(disagreeing.n - disagreeing.agree);
    expect(tiles).toBeGreaterThan(0);
    expect(gallery).toMatch(/<ul class="disagree"><li><strong>Skin tone[^<]*<\/strong>: Monk \d+ <span class="who">\(self-report\)<\/span> vs Monk \d+ <span class="who">\(skin-tone\)<\/span>/);
    expect(gallery).toContain("Checking observers against the driving one");
  });
});

describe("HTML report of several policies on the same prompts", () => {
  let input: ReportInput;
  let page: string;
  let out: string;

  beforeAll(async () => {
    out = tempDir();
    input = await multiPolicyInput(out, FINDINGS);
    const result = await buildReport(input, { outFile: join(out, "site", "index.html"), galleryCap: { kept: 5, setApart: 3 } });
    page = readFileSync(result.file, "utf8");
  });

  it("states the findings first, each with its verdict and evidence", () => {
    const findings = section(page, "findings");
    expect(page.indexOf('id="dbp-findings"')).toBeLessThan(page.indexOf('id="dbp-summary"'));
    expect(count(findings, /<li class="finding/g)).toBe(3);
    expect(findings).toContain('<span class="badge v-yes">reproduced</span>');
    expect(findings).toContain('<span class="badge v-partly">partly reproduced</span>');
    expect(findings).toContain('<span class="badge v-no">not reproduced</span>');
    expect(findings).toContain("12 of 12 runs exact, mean TV 0.000");
    expect(findings).toContain("1 reproduced, 1 partly reproduced, 1 not reproduced");
  });

  it("has one summary row per run and a per-policy table", () => {
    const summary = section(page, "summary");
    const tables = [...summary.matchAll(/<tbody>([\s\S]*?)<\/tbody>/g)].map((m) => m[1]!);
    expect(tables).toHaveLength(2);
    expect(count(tables[0]!, /<tr>/g)).toBe(3);
    expect(count(tables[1]!, /<tr>/g)).toBe(6);
    for (const policy of ["none", "eip", "debiaspi"]) expect(tables[1]!).toContain(`<td>${policy}</td>`);
  });

  it("pools counts per policy and says so; one chart per attribute with every policy in it", () => {
    const attributes = section(page, "attributes");
    expect(attributes).toContain("Counts pooled over the prompts of each policy");
    const race = /<figure class="fig[^"]*"><svg class="chart"[^>]*aria-label="Race: target and achieved share per category, pooled over prompts"[\s\S]*?<\/figure>/.exec(attributes);
    expect(race).not.toBeNull();
    for (const policy of ["none", "eip", "debiaspi"]) expect(race![0]).toContain(`>${policy}<`);
    expect(count(section(page, "convergence"), /<svg class="chart"/g)).toBe(1);
  });

  it("has the side-effects table against none and the cost table with refusals", () => {
    const effects = section(page, "effects");
    const rows = [...effects.matchAll(/<tr><th scope="row">(\w+)<\/th>/g)].map((m) => m[1]);
    expect(new Set(rows)).toEqual(new Set(["eip", "debiaspi"]));
    expect(effects).toMatch(/Skin tone \(Monk\)/);
    const cost = section(page, "cost");
    const refusals = input.runs.reduce((s, r) => s + r.summary.refusals, 0);
    expect(refusals).toBeGreaterThan(0);
    expect(cost).toContain("Refusals by requested cell");
  });

  it("caps the gallery per cell with a note, marks refused and set-apart attempts, and links files that exist", () => {
    const gallery = section(page, "gallery");
    expect(count(gallery, /<details class="cell"/g)).toBe(6);
    expect(gallery).toContain("showing 5 of 12 kept images");
    expect(count(gallery, /data-state="kept"/g)).toBe(30);
    expect(gallery).toMatch(/<li class="tile is-refused" data-state="refused"/);
    expect(gallery).toMatch(/class="badge b-refused">attempt \d+ · refused</);
    const base = join(out, "site");
    for (const src of imgSources(page)) {
      expect(src).toMatch(/^report-assets\/thumbs\//);
      expect(existsSync(resolve(base, decodeURIComponent(src)))).toBe(true);
    }
    for (const href of [...page.matchAll(/<a class="thumb" href="([^"]+)"/g)].map((m) => m[1]!)) {
      expect(href.startsWith("../")).toBe(true);
      expect(existsSync(resolve(base, decodeURIComponent(href)))).toBe(true);
    }
  });

  it("escapes a prompt with markup in it everywhere", () => {
    expect(page).not.toContain("<script>alert");
    expect(page).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;CEO&quot; at work");
    // The only script element is the report's own.
    expect(count(page, /<script>/g)).toBe(1);
    expect(page).not.toMatch(/https?:\/\//);
  });
});

describe("renderReportSections", () => {
  it("takes its image and thumbnail URLs from the caller (the dashboard embeds it)", async () => {
    const out = tempDir();
    const r = await simRun(out, { prompt: SCRIPT_PROMPT, attributes: ["gender"], n: 4 });
    const input: ReportInput = { kind: "run", title: "t", dir: r.runDir, createdAt: r.record.createdAt, version: "x", runs: [r] };
    const body = await renderReportSections(input, {
      imageUrl: (run, rel) => `/api/runs/${encodeURIComponent(run.id)}/${rel}`,
      thumbnailUrl: (run, rel) => `/api/thumbs/${encodeURIComponent(run.id)}/${rel}`,
      idPrefix: "x-",
    });
    expect(body.startsWith('<div class="dbp-report">')).toBe(true);
    expect(body).not.toContain("<html");
    const srcs = imgSources(body);
    expect(srcs).toHaveLength(4);
    for (const s of srcs) expect(s.startsWith(`/api/thumbs/${encodeURIComponent(r.id)}/images/`)).toBe(true);
    expect(body).toContain('id="x-summary"');
    expect(body).not.toContain('id="dbp-');
  });
});

describe("debiaspi report", () => {
  it("writes the report of a run folder and says where", async () => {
    const out = tempDir();
    const r = await simRun(out, { prompt: "a farmer", attributes: ["gender"], n: 4 });
    const res = await cli("report", r.runDir, "--no-thumbnails");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(join(r.runDir, "report.html"));
    const page = readFileSync(join(r.runDir, "report.html"), "utf8");
    expect(imgSources(page).every((s) => s.startsWith("images/"))).toBe(true);
    expect(existsSync(join(r.runDir, "report-assets"))).toBe(false);
    const to = join(out, "elsewhere.html");
    expect((await cli("report", r.runDir, "--out", to)).code).toBe(0);
    expect(existsSync(to)).toBe(true);
    expect(existsSync(join(dirname(to), "report-assets", "thumbs"))).toBe(true);
  });

  it("refuses a folder that is neither a run nor an experiment, and a bad --out, in one line with exit 2", async () => {
    const out = tempDir();
    const res = await cli("report", out);
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).toMatch(/neither a run folder/);
    const r = await simRun(out, { prompt: "a farmer", attributes: ["gender"], n: 2 });
    const bad = await cli("report", r.runDir, "--out", join(out, "report.txt"));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--out .*\.html/);
    expect(existsSync(join(r.runDir, "report.html"))).toBe(false);
  });
});
