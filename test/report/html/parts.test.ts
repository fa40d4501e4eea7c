import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { html, raw } from "../../../src/report/html/markup.js";
import { sharesSpec } from "../../../src/report/html/charts.js";
import { inlineSvg, renderChart } from "../../../src/report/html/svg.js";
import { itemTextWidth, textWidth } from "../../../src/report/html/text-width.js";
import * as vega from "vega";
import { makeThumbnails } from "../../../src/report/html/thumbnails.js";
import { tempDir } from "./fixtures.js";

describe("html template", () => {
  it("escapes interpolated text and attributes, and keeps nested markup", () => {
    const evil = `"><script>alert('x')</script>&`;
    const out = html`<p title="${evil}">${evil} ${html`<b>${evil}</b>`} ${[html`<i>1</i>`, "<2>"]} ${raw("<hr>")}</p>`.value;
    expect(out).toBe(
      "<p title=\"&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;\">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp; " +
        "<b>&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</b> <i>1</i>&lt;2&gt; <hr></p>",
    );
  });
});

describe("inlineSvg", () => {
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" class="marks" width="200" height="100" viewBox="0 0 200 100">' +
    '<defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"><text>a &lt; b</text></g></svg>';

  it("drops the namespace URLs, makes ids unique per chart and labels the chart", () => {
    const a = inlineSvg(svg, 'Race "chart"', "p1");
    const b = inlineSvg(svg, "Race", "p2");
    expect(a.svg).not.toMatch(/http/);
    expect(a.svg).toContain('id="p1-clip1"');
    expect(a.svg).toContain("url(#p1-clip1)");
    expect(b.svg).toContain('id="p2-clip1"');
    expect(a.svg).toContain('role="img" aria-label="Race &quot;chart&quot;"');
    expect(a.svg).toContain("<title>Race &quot;chart&quot;</title>");
    expect(a.svg).toContain('viewBox="0 0 200 100"');
    expect([a.width, a.height]).toEqual([200, 100]);
  });
});

describe("makeThumbnails", () => {
  it("scales a large image into the box, copies a small one, and maps an unreadable file to null", async () => {
    const dir = tempDir();
    const big = join(dir, "0123456789abcdef0123456789abcdef.png");
    const small = join(dir, "small.png");
    const broken = join(dir, "broken.png");
    await sharp({ create: { width: 800, height: 1000, channels: 3, background: "#a07e56" } }).png().toFile(big);
    await sharp({ create: { width: 64, height: 80, channels: 3, background: "#292420" } }).png().toFile(small);
    writeFileSync(broken, "not an image");
    const out = join(dir, "thumbs");
    const thumbs = await makeThumbnails([big, small, broken, big], out, { size: 160 });
    expect(thumbs.size).toBe(3);
    const t = thumbs.get(big)!;
    expect(t.file).toBe(join(out, "0123456789abcdef0123456789abcdef-160.jpg"));
    expect([t.width, t.height]).toEqual([128, 160]);
    expect((await sharp(t.file).metadata()).height).toBe(160);
    const s = thumbs.get(small)!;
    expect([s.width, s.height]).toEqual([64, 80]);
    expect(s.file.endsWith(".png")).toBe(true);
    expect(existsSync(s.file)).toBe(true);
    expect(thumbs.get(broken)).toBeNull();
  });
});

describe("charts rendered without a canvas", () => {
  it("measure text closely enough that category labels are not cut", async () => {
    // Vega's own canvas-less guess (0.8 em per character) would make this 144 px and cut it at a 120 px limit.
    expect(textWidth("Latino/Hispanic", 12)).toBeGreaterThan(75);
    expect(textWidth("Latino/Hispanic", 12)).toBeLessThan(110);
    const labels = ["White", "Black", "Latino/Hispanic", "East Asian", "Southeast Asian", "Indian", "Middle Eastern"];
    const rows = labels.map((label, i) => ({ series: "none", category: `c${i}`, label, count: 1, n: 7, share: 1 / 7, low: 0.02, high: 0.5, target: 1 / 7 }));
    const chart = await renderChart(sharesSpec({ title: "Race", axisTitle: "Race", categories: labels, rows, series: ["none"] }), "Race");
    for (const label of labels) expect(chart.svg).toContain(`>${label}</text>`);
    // Rendering installed the table-based measure in Vega (Vega calls a user-defined textMetrics.width).
    expect((vega as unknown as { textMetrics: { width: unknown } }).textMetrics.width).toBe(itemTextWidth);
    expect(itemTextWidth({ fontSize: 12, limit: 50 }, "Latino/Hispanic")).toBe(50);
  });
});
