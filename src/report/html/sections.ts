/**
 * The report's body: every section as HTML, for a run or an experiment. The page builder wraps it in
 * a document; the dashboard embeds it as it is, with its own image URLs.
 */
import type { TopLevelSpec } from "vega-lite";
import { crossAttributeEffects, summarizeCrossEffects } from "../../analysis/effects.js";
import { verdictLabel } from "../../analysis/finding-basis.js";
import { findingsMatrix, renderedTv } from "../../analysis/findings.js";
import type { AuditReport, CrossEffectRow, Finding, ReportInput, ReportRun } from "../../analysis/model.js";
import { runError } from "../../analysis/summary.js";
import { convergenceSpec, heatmapSpec, sharesSpec } from "./charts.js";
import {
  attributeLabel,
  buildCatalog,
  categoryLabel,
  costRow,
  groupRuns,
  jointCells,
  jointFactors,
  meanConvergence,
  panelAttributes,
  panelOf,
  pooledShares,
  refusalsByCell,
  cellLabel,
  type Catalog,
  type Grouping,
  type RunGroup,
  type ShareRow,
} from "./data.js";
import { fixed, integer, percent, points, signed, usd } from "./format.js";
import { capFor, cellGallery, cellMarks, cellTiles, type CellTiles, type GalleryCap, type ImageLinks } from "./gallery.js";
import { html, join, raw, slug, type SafeHtml } from "./markup.js";
import { renderChart } from "./svg.js";
import { calibrationSection } from "./calibration-section.js";

export interface SectionOptions {
  /** URL of a run's image (run-relative path, e.g. `images/ab12.png`) as the page will load it. */
  imageUrl: (run: ReportRun, relPath: string) => string;
  /** URL of its thumbnail; the image itself when not given. */
  thumbnailUrl?: (run: ReportRun, relPath: string) => string;
  /** Pixel size of the thumbnail, when known (lets the browser lay out the gallery before images load). */
  thumbnailSize?: (run: ReportRun, relPath: string) => { width: number; height: number } | undefined;
  /** Images shown per gallery cell. */
  galleryCap?: GalleryCap;
  /** Prefix of every element id (anchors), so the sections can sit inside another page. */
  idPrefix?: string;
}

interface Context {
  input: ReportInput;
  catalog: Catalog;
  grouping: Grouping;
  id: (name: string) => string;
  chart: (spec: TopLevelSpec, label: string) => Promise<{ svg: SafeHtml; width: number }>;
}

/** A chart in a figure with its caption; a chart wider than a grid column takes the whole row. */
function figure(chart: { svg: SafeHtml; width: number }, caption: string | SafeHtml, extra?: SafeHtml): SafeHtml {
  return html`<figure class="fig${chart.width > 560 ? " wide" : ""}">${chart.svg}<figcaption>${caption}</figcaption>${extra ?? ""}</figure>`;
}


function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

const plural = (n: number, word: string, many = `${word}s`): string => `${integer(n)} ${n === 1 ? word : many}`;

function distinctLabels(runs: readonly ReportRun[], key: "policy" | "target" | "observer" | "provider" | "prompt"): string[] {
  return [...new Set(runs.map((r) => r.labels[key]))];
}

/** Sections in the order they appear, with their navigation titles. */
const SECTIONS = [
  ["findings", "Findings"],
  ["summary", "Summary"],
  ["attributes", "Target vs achieved"],
  ["calibration", "Calibration"],
  ["joint", "Joint targets"],
  ["convergence", "Convergence"],
  ["effects", "Side effects"],
  ["cost", "Cost"],
  ["gallery", "Gallery"],
] as const;

/** The facts of an audit: what was audited, by whom, what was read and what could not be (no policy, provider or seed). */
function auditFacts(ctx: Context, audit: AuditReport): [string, SafeHtml | string][] {
  const { input } = ctx;
  const run = input.runs[0];
  const missed = audit.unreadable.length;
  const facts: [string, SafeHtml | string][] = [
    ["Audited folder", html`<code>${audit.source}</code>`],
    ["Audit folder", html`<code>${input.dir}</code>`],
    ["Created", when(input.createdAt)],
    ["debiaspi", input.version],
    ["Images", `${integer(audit.images)} read${missed > 0 ? `; ${plural(missed, "file")} could not be read (not counted)` : ""}`],
    ["Observer", audit.observers[0] ?? ""],
  ];
  if (audit.observers.length > 1) facts.push(["Checked by", audit.observers.slice(1).join(", ")]);
  if (run && run.record.target.factors.length > 0) facts.push(["Compared with target", run.labels.target]);
  return facts;
}

/** The files of an audited folder that were not readable images, each with why. */
function unreadableList(audit: AuditReport): SafeHtml | string {
  if (audit.unreadable.length === 0) return "";
  return html`<details class="more"><summary>${plural(audit.unreadable.length, "file")} not counted: not readable images</summary><ul>${audit.unreadable.map(
    (u) => html`<li><code>${u.file}</code>: ${u.reason}</li>`,
  )}</ul></details>`;
}

function header(ctx: Context, present: Set<string>): SafeHtml {
  const { input, grouping } = ctx;
  const runs = input.runs;
  if (input.audit) {
    return html`<header class="head" id="${ctx.id("top")}">
<p class="kicker">debiaspi audit report</p>
<h1>${input.title}</h1>
<dl class="facts">${auditFacts(ctx, input.audit).map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>
${unreadableList(input.audit)}
<nav class="toc" aria-label="Sections"><ol>${SECTIONS.filter(([k]) => present.has(k)).map(([k, t]) => html`<li><a href="#${ctx.id(k)}">${t}</a></li>`)}</ol></nav>
</header>`;
  }
  const facts: [string, SafeHtml | string][] = [
    ["Folder", html`<code>${input.dir}</code>`],
    ["Created", when(input.createdAt)],
    ["debiaspi", input.version],
    [
      "Runs",
      input.kind === "run"
        ? "1"
        : `${integer(runs.length)}: ${plural(grouping.prompts, "prompt")}, ${plural(distinctLabels(runs, "policy").length, "policy", "policies")}, ${plural(
            distinctLabels(runs, "target").length,
            "target",
          )}${grouping.panels.length > distinctLabels(runs, "target").length ? ` in ${grouping.panels.length} parts` : ""}`,
    ],
    ["Policies", distinctLabels(runs, "policy").join(", ")],
    ["Targets", distinctLabels(runs, "target").join(", ")],
    ["Provider", distinctLabels(runs, "provider").join(", ")],
    ["Observer (drives the loop)", distinctLabels(runs, "observer").join(", ")],
  ];
  if (input.kind === "run" && runs[0]) {
    const s = runs[0].summary;
    facts.splice(4, 0, ["Prompt", runs[0].labels.prompt], ["N, seed", `${s.n}, seed ${s.seed}`], ["Overflow, mode", `${s.overflow}, ${s.mode}`]);
  }
  const incomplete = input.incomplete ?? [];
  const live = runs.filter((r) => r.inProgress).length;
  return html`<header class="head" id="${ctx.id("top")}">
<p class="kicker">debiaspi ${input.kind === "run" ? "run" : "experiment"} report</p>
<h1>${input.title}</h1>
<dl class="facts">${facts.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>
${
  incomplete.length > 0
    ? html`<p class="warn" role="status"><strong>Partial:</strong> ${plural(incomplete.length, "cell")} not finished yet${live > 0 ? ` (${live} being generated now)` : ""}; the numbers below cover the finished runs only${
        input.findings ? " and the findings may change" : ""
      }.</p>`
    : ""
}
<nav class="toc" aria-label="Sections"><ol>${SECTIONS.filter(([k]) => present.has(k)).map(([k, t]) => html`<li><a href="#${ctx.id(k)}">${t}</a></li>`)}</ol></nav>
</header>`;
}

function findingsSection(ctx: Context, findings: readonly Finding[]): SafeHtml {
  const labels = findings.map(verdictLabel);
  const order = [...new Set((["yes", "partly", "no", "not measured"] as const).flatMap((v) => findings.filter((f) => f.reproduced === v).map(verdictLabel)))];
  const tally = order.map((l) => `${labels.filter((x) => x === l).length} ${l}`);
  const matrix = findingsMatrix(findings);
  const byProvider =
    matrix.providers.length > 1
      ? table("Which finding holds on which provider (on sim, a finding shows what the simulated model's parameters encode)", ["finding", ...matrix.providers], matrix.rows.map((r) => [r.id, ...r.verdicts]))
      : "";
  return html`<section id="${ctx.id("findings")}"><h2>Findings of the paper, checked</h2>
<p class="lead">Each claim of DebiasPI (Bonna et al. 2025), as measured in this experiment: ${tally.join(", ")}.</p>${byProvider}
<ol class="findings">${findings.map(
    (f) => html`<li class="finding v-${slug(f.reproduced)}"><p class="verdict"><span class="badge v-${slug(f.reproduced)}">${verdictLabel(f)}</span>${matrix.providers.length > 1 && f.provider ? html` <span class="provider">${f.provider}</span>` : ""}</p>
<p class="claim">${f.claim}</p><div class="evidence">${f.evidence.split(/\n+/).map((p) => html`<p>${p}</p>`)}${f.wording ? html`<p class="basis">${f.wording}</p>` : ""}</div></li>`,
  )}</ol></section>`;
}

function table(caption: string | SafeHtml, head: readonly (string | SafeHtml)[], rows: readonly (readonly (string | number | SafeHtml)[])[], numeric: readonly number[] = []): SafeHtml {
  // The title sits above the scrolling box so it stays readable when a wide table scrolls on a phone;
  // the caption (visually hidden) keeps the table named for screen readers.
  return html`<p class="table-title" aria-hidden="true">${caption}</p><div class="table-wrap"><table><caption class="vh">${caption}</caption>
<thead><tr>${head.map((h, i) => html`<th scope="col"${numeric.includes(i) ? html` class="num"` : ""}>${h}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${r.map((c, i) => (i === 0 ? html`<th scope="row">${c}</th>` : html`<td${numeric.includes(i) ? html` class="num"` : ""}>${c}</td>`))}</tr>\n`)}</tbody></table></div>`;
}

const yesNo = (b: boolean): SafeHtml => (b ? html`<span class="ok">yes</span>` : html`<span class="no">no</span>`);

/** An audit's summary: the images read and, with a target, how far they are from it (nothing was generated). */
function auditSummarySection(ctx: Context, audit: AuditReport): SafeHtml {
  const run = ctx.input.runs[0]!;
  const hasTarget = run.record.target.factors.length > 0;
  const e = runError(run.summary);
  const row = [
    html`<a href="#${ctx.id(`cell-${slug(run.id)}`)}"><code>${audit.source}</code></a>`,
    audit.observers.join(", "),
    audit.images,
    audit.unreadable.length,
    ...(hasTarget ? [run.labels.target, yesNo(run.summary.exact), fixed(e.tv), fixed(e.maxAbsDiff)] : []),
  ];
  return html`<section id="${ctx.id("summary")}"><h2>Summary</h2>
<p class="lead">Images read and counted, and files that are not readable images (left out of every share).${
    hasTarget ? " Exact means every category's count matches the target's; TV is the total variation distance between observed and target shares, max |p−q| the largest gap of any cell." : ""
  }</p>
${table("The audit", ["audited folder", "observers", "images", "unreadable files", ...(hasTarget ? ["target", "exact", "TV", "max |p−q|"] : [])], [row], hasTarget ? [2, 3, 6, 7] : [2, 3])}</section>`;
}

function summarySection(ctx: Context): SafeHtml {
  const { grouping, input } = ctx;
  if (input.audit) return auditSummarySection(ctx, input.audit);
  const parts: SafeHtml[] = [];
  // On sim the believed TV (the loop's observer) stands beside the TV of what was really rendered: a tracker that
  // believes the request (observer requested) reports 0 while the rendered set is off.
  const rendered = new Map(input.runs.map((r) => [r.id, renderedTv(r)]));
  const hasTruth = [...rendered.values()].some((x) => x !== undefined);
  const renderedMean = (rs: readonly ReportRun[]): number | null => {
    const xs = rs.map((r) => rendered.get(r.id)).filter((x): x is number => x !== undefined);
    return xs.length === rs.length && xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  };
  if (grouping.groups.some((g) => g.runs.length > 1)) {
    const rows = grouping.groups.map((g) => {
      const errs = g.runs.map((r) => runError(r.summary));
      const tvs = errs.map((e) => e.tv).filter((x): x is number => x !== null);
      const mx = errs.map((e) => e.maxAbsDiff).filter((x): x is number => x !== null);
      const c = costRow(g);
      return [
        g.series,
        g.panel,
        g.runs.length,
        `${c.exactRuns} of ${c.runs}`,
        fixed(tvs.length ? tvs.reduce((a, b) => a + b, 0) / tvs.length : null),
        ...(hasTruth ? [fixed(renderedMean(g.runs))] : []),
        fixed(mx.length ? mx.reduce((a, b) => a + b, 0) / mx.length : null),
        fixed(c.kept > 0 ? c.generations / c.kept : null, 2),
        c.refusals,
      ];
    });
    parts.push(
      table(
        `Per policy and target: mean over prompts of the error to the target${hasTruth ? " (believed: as the loop's observer saw it; rendered: what sim really drew)" : ""}`,
        ["policy", "target", "runs", "exact", hasTruth ? "mean TV (believed)" : "mean TV", ...(hasTruth ? ["mean TV (rendered)"] : []), "mean max |p−q|", "gen per kept", "refusals"],
        rows,
        hasTruth ? [2, 4, 5, 6, 7, 8] : [2, 4, 5, 6, 7],
      ),
    );
  }
  const runs = grouping.groups.flatMap((g) => [...g.runs].sort((a, b) => a.labels.prompt.localeCompare(b.labels.prompt)));
  const rows = runs.map((r) => {
    const s = r.summary;
    const e = runError(r.summary);
    return [
      html`<a href="#${ctx.id(`cell-${slug(r.id)}`)}">${r.labels.prompt}</a>`,
      r.labels.policy,
      r.labels.target,
      r.labels.observer,
      html`${s.kept}/${s.n}${s.status !== "complete" ? html` <span class="tag">${r.inProgress ? "running" : s.status}</span>` : ""}`,
      s.generations,
      fixed(s.generationsPerKept, 2),
      s.refusals,
      yesNo(s.exact),
      fixed(e.tv),
      ...(hasTruth ? [fixed(rendered.get(r.id) ?? null)] : []),
      fixed(e.maxAbsDiff),
    ];
  });
  const every = table(
      input.kind === "run" ? "The run" : `Every run (${runs.length})`,
      ["prompt", "policy", "target", "observer", "kept / N", "generations", "gen per kept", "refusals", "exact", hasTruth ? "TV (believed)" : "TV", ...(hasTruth ? ["TV (rendered)"] : []), "max |p−q|"],
      rows,
      hasTruth ? [4, 5, 6, 7, 9, 10, 11] : [4, 5, 6, 7, 9, 10],
    );
  parts.push(runs.length > 60 ? html`<details class="more"><summary>Every run (${runs.length}); the prompt links to its images</summary>${every}</details>` : every);
  return html`<section id="${ctx.id("summary")}"><h2>Summary</h2>
<p class="lead">Kept images against N; generations are images the model produced (set-apart ones included); exact means every bin of the target was met.
TV is the total variation distance between achieved and target shares (mean over the run's independently controlled factors), max |p−q| the largest gap of any cell.</p>
${parts}</section>`;
}

function sharesTable(catalog: Catalog, attribute: string, rows: readonly ShareRow[], series: readonly string[]): SafeHtml {
  const attr = catalog.attributes.find((a) => a.id === attribute)!;
  const hasTarget = rows.some((r) => r.target !== undefined);
  const head = [attr.label, ...series.map((s) => `${s}: count, share (95 % CI)`), ...(hasTarget ? ["target"] : [])];
  const body = attr.categories.map((c) => {
    const cells = series.map((s) => {
      const r = rows.find((x) => x.series === s && x.category === c.id);
      return r ? `${r.count}, ${percent(r.share)} (${percent(r.low)}–${percent(r.high)})` : "–";
    });
    const t = rows.find((x) => x.category === c.id && x.target !== undefined)?.target;
    return [c.label, ...cells, ...(hasTarget ? [percent(t, 1)] : [])];
  });
  return html`<details class="numbers"><summary>numbers</summary>${table(`${attr.label}: counts and shares`, head, body)}</details>`;
}

/** One chart of an attribute for the groups of one variant (observer/provider), bars coloured by policy. */
async function attributeFigure(ctx: Context, groups: readonly RunGroup[], attribute: string, controlled: boolean): Promise<SafeHtml> {
  const { catalog } = ctx;
  const rows = groups.flatMap((g) => pooledShares(catalog, g, attribute));
  const series = ctx.grouping.policies.filter((p) => groups.some((g) => g.policy === p));
  const variant = groups[0]?.variant ?? "";
  const label = attributeLabel(catalog, attribute);
  const categories = catalog.attributes.find((a) => a.id === attribute)!.categories.map((c) => c.label);
  const pooled = groups.some((g) => g.runs.length > 1);
  const caption = controlled
    ? "Bars: achieved share; whiskers: 95 % Wilson interval; black tick: target."
    : "Not controlled. Bars: achieved share; whiskers: 95 % Wilson interval.";
  const chart = await ctx.chart(
    sharesSpec({ title: `${label}${controlled ? ": target vs achieved" : ""}${variant ? ` (${variant})` : ""}`, axisTitle: label, categories, rows, series: ctx.grouping.policies }),
    `${label}: ${controlled ? "target and achieved" : "achieved"} share per category${variant ? `, ${variant}` : ""}${pooled ? ", pooled over prompts" : ""}`,
  );
  return figure(chart, caption, sharesTable(catalog, attribute, rows, series));
}

async function attributesSection(ctx: Context): Promise<SafeHtml> {
  const { grouping } = ctx;
  const blocks: SafeHtml[] = [];
  for (const panel of grouping.panels) {
    const groups = grouping.groups.filter((g) => g.panel === panel);
    const { controlled, other } = panelAttributes(ctx.catalog, groups);
    const pooled = groups.some((g) => g.runs.length > 1);
    const figs: SafeHtml[] = [];
    const variants = [...new Set(groups.map((g) => g.variant))];
    const others: SafeHtml[] = [];
    for (const [list, isControlled, out] of [[controlled, true, figs], [other, false, others]] as const) {
      for (const a of list) {
        for (const v of variants) out.push(await attributeFigure(ctx, groups.filter((g) => g.variant === v), a, isControlled));
      }
    }
    blocks.push(html`<div class="panel">${grouping.panels.length > 1 ? html`<h3>Target: ${panel}</h3>` : ""}
${pooled ? html`<p class="note">Counts pooled over the prompts of each policy (${groups.map((g) => `${g.series}: ${plural(g.runs.length, "run")}`).join(", ")}); the intervals treat the pooled images as independent draws.</p>` : ""}
${figs.length > 0 ? html`<div class="grid">${figs}</div>` : html`<p class="muted">No attribute is controlled in this target.</p>`}
${others.length > 0 ? html`<details class="more"><summary>Attributes not controlled (${others.length})</summary><div class="grid">${others}</div></details>` : ""}</div>`);
  }
  return html`<section id="${ctx.id("attributes")}"><h2>Target vs achieved, per attribute</h2>
<p class="lead">Share of each category among the ${ctx.input.audit ? "images audited" : "kept images"} whose attribute was observed.</p>${blocks}</section>`;
}

async function jointSection(ctx: Context): Promise<SafeHtml | undefined> {
  const { grouping, catalog } = ctx;
  const blocks: SafeHtml[] = [];
  for (const panel of grouping.panels) {
    const groups = grouping.groups.filter((g) => g.panel === panel);
    for (const factor of jointFactors(groups)) {
      const [first, ...rest] = factor.attributes;
      const rowsOrder = catalog.attributes.find((a) => a.id === first)?.categories.map((c) => c.label) ?? [];
      const figs: SafeHtml[] = [];
      const all = groups.map((g) => jointCells(catalog, g, factor.id));
      const extent = Math.max(0.05, ...all.flat().map((c) => Math.abs(c.diff)));
      for (const [gi, g] of groups.entries()) {
        const cells = all[gi]!;
        if (cells.length === 0) continue;
        const columns = [...new Set(cells.map((c) => c.column))];
        const counts = g.runs.length === 1;
        // With the same target in every cell the numbers show what was achieved; the caption gives the target.
        const even = counts ? cells.every((c) => c.bins === cells[0]!.bins) : cells.every((c) => Math.abs(c.target - cells[0]!.target) < 1e-9);
        const title = `${factor.attributes.map((a) => attributeLabel(catalog, a)).join(" × ")}: ${g.series}`;
        const chart = await ctx.chart(
          heatmapSpec({
            title,
            extent,
            even,
            rowTitle: attributeLabel(catalog, first!),
            columnTitle: rest.map((a) => attributeLabel(catalog, a)).join(" · "),
            rows: rowsOrder.filter((r) => cells.some((c) => c.row === r)),
            columns,
            cells,
            counts,
          }),
          `${title}: achieved against target per cell`,
        );
        const numbers = counts
          ? even
            ? `images per cell (target: ${cells[0]!.bins} in every cell)`
            : "achieved / target images per cell"
          : even
            ? `share of the kept images per cell, ${plural(g.runs.length, "run")} pooled (target: ${percent(cells[0]!.target, 1)} in every cell)`
            : `achieved % / target % per cell, ${plural(g.runs.length, "run")} pooled`;
        figs.push(figure(chart, `Colour: achieved minus target share. Numbers: ${numbers}.`));
      }
      if (figs.length > 0) {
        blocks.push(html`<div class="panel">${grouping.panels.length > 1 ? html`<h3>Target: ${panel}</h3>` : ""}<div class="grid">${figs}</div></div>`);
      }
    }
  }
  if (blocks.length === 0) return undefined;
  return html`<section id="${ctx.id("joint")}"><h2>Joint targets</h2>
<p class="lead">Every combination of the jointly controlled attributes is a cell; orange cells got more than their target share, blue cells less.</p>${blocks}</section>`;
}

async function convergenceSection(ctx: Context): Promise<SafeHtml | undefined> {
  const { grouping } = ctx;
  const figs: SafeHtml[] = [];
  for (const panel of grouping.panels) {
    const groups = grouping.groups.filter((g) => g.panel === panel);
    const pts = groups.flatMap((g) => meanConvergence(g).map((p) => ({ series: g.policy, variant: g.variant, kept: p.kept, tv: p.tv })));
    if (pts.length === 0) continue;
    const pooled = groups.some((g) => g.runs.length > 1);
    const title = grouping.panels.length > 1 ? `Convergence, target ${panel}` : "Convergence";
    const chart = await ctx.chart(
      convergenceSpec({
        title,
        points: pts,
        series: grouping.policies,
      }),
      `${title}: error to the target after each kept image, per policy`,
    );
    figs.push(
      figure(
        chart,
        pooled ? "Mean TV to the target after each kept image, averaged over the prompts of each policy." : "Mean TV to the target after each kept image.",
      ),
    );
  }
  if (figs.length === 0) return undefined;
  return html`<section id="${ctx.id("convergence")}"><h2>Convergence</h2>
<p class="lead">How fast each policy approaches the target: the distance (TV, mean over the run's factors) between the images kept so far and the target.</p><div class="grid">${figs}</div></section>`;
}

function effectsSection(ctx: Context): SafeHtml {
  const { input, catalog, grouping } = ctx;
  const rows: CrossEffectRow[] = (input.effectSummary ?? summarizeCrossEffects(crossAttributeEffects(input.runs))).filter((r) => r.policy !== "none");
  const seriesName = (r: CrossEffectRow): string => grouping.seriesOf(r);
  const panelName = (r: CrossEffectRow): string => panelOf(r);
  const order = (r: CrossEffectRow): number => grouping.groups.findIndex((g) => g.series === seriesName(r) && g.panel === panelName(r));
  const sorted = [...rows].sort((a, b) => order(a) - order(b) || catalog.attributes.findIndex((x) => x.id === a.attribute) - catalog.attributes.findIndex((x) => x.id === b.attribute));
  let body: SafeHtml;
  if (sorted.length === 0) {
    body = html`<p class="muted">No comparison: the report has no <code>none</code> run on the same prompt as a controlled run${
      input.kind === "run" ? html` (a single run has nothing to compare with; <code>debiaspi compare</code> or an experiment makes one)` : ""
    }.</p>`;
  } else {
    const trs = sorted.map((r) => {
      const cats = Object.keys(r.meanShares);
      let best: string | undefined;
      for (const c of cats) {
        const d = Math.abs((r.meanShares[c] ?? 0) - (r.meanBaselineShares[c] ?? 0));
        if (!best || d > Math.abs((r.meanShares[best] ?? 0) - (r.meanBaselineShares[best] ?? 0))) best = c;
      }
      const shift =
        best !== undefined
          ? `${categoryLabel(catalog, r.attribute, best)}: ${percent(r.meanBaselineShares[best])} → ${percent(r.meanShares[best])} (${points((r.meanShares[best] ?? 0) - (r.meanBaselineShares[best] ?? 0))})`
          : "–";
      return [
        seriesName(r),
        panelName(r),
        attributeLabel(catalog, r.attribute),
        r.pairs,
        fixed(r.meanTvVsNone),
        html`<span class="${r.meanEntropyChange < -0.02 ? "no" : r.meanEntropyChange > 0.02 ? "ok" : ""}">${signed(r.meanEntropyChange)}</span>`,
        `${Math.round(r.narrowedShare * r.pairs)} of ${r.pairs}`,
        shift,
        `${fixed(r.meanBaselineTvToUniform)} → ${fixed(r.meanTvToUniform)}`,
      ];
    });
    body = table(
      "Attributes each policy did not control, against the none run of the same prompt (mean over prompts)",
      ["policy", "target", "attribute", "prompts", "TV vs none", "Δ entropy", "narrowed", "biggest shift (none → policy)", "TV to uniform (none → policy)"],
      trs,
      [3, 4, 5],
    );
  }
  return html`<section id="${ctx.id("effects")}"><h2>Side effects on attributes not controlled</h2>
<p class="lead">Controlling some attributes moves others: TV vs none is how far an uncontrolled attribute's distribution moved against no control;
Δ entropy is the change of its normalised entropy (negative: less diverse, e.g. a narrower range of skin tones); TV to uniform shows whether it became more or less balanced.</p>${body}</section>`;
}

function costSection(ctx: Context): SafeHtml {
  const { grouping, catalog } = ctx;
  const rows = grouping.groups.map((g) => {
    const c = costRow(g);
    return [
      g.series,
      g.panel,
      c.runs,
      c.attempts,
      c.generations,
      c.kept,
      c.setApart,
      c.refusals,
      c.errors,
      fixed(c.kept > 0 ? c.generations / c.kept : null, 2),
      usd(c.costUsd),
      c.kept > 0 ? usd(c.costUsd / c.kept) : "–",
    ];
  });
  const refusalRows = grouping.groups.flatMap((g) =>
    costRow(g).refusals === 0
      ? []
      : refusalsByCell(g)
          .filter((r) => r.requested > 0)
          .sort((a, b) => b.refused / b.requested - a.refused / a.requested)
          .slice(0, 20)
          .map((r) => {
            const attrs = r.factor.split("+");
            return [g.series, g.panel, cellLabel(catalog, attrs, r.cell), r.requested, r.refused, percent(r.refused / r.requested)];
          }),
  );
  return html`<section id="${ctx.id("cost")}"><h2>Cost</h2>
<p class="lead">Attempts are calls to the model (refusals and errors included); generations are images it returned; set apart are images kept out of the set
(bin already full, attribute not observed, or the set already complete). Money is what the provider reported or its price table says (the simulated model costs nothing).</p>
${table("Per policy and target, summed over runs", ["policy", "target", "runs", "attempts", "generations", "kept", "set apart", "refusals", "errors", "gen per kept", "cost", "cost per kept"], rows, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11])}
${
  refusalRows.length > 0
    ? table("Refusals by requested cell (direct requests): refusal rates that differ by group are a bias finding of their own", ["policy", "target", "requested cell", "requests", "refused", "rate"], refusalRows, [3, 4, 5])
    : ""
}</section>`;
}

function agreementTable(ctx: Context): SafeHtml | undefined {
  const acc = new Map<string, { checker: string; attribute: string; n: number; agree: number; unknown: number }>();
  for (const r of ctx.input.runs) {
    for (const a of r.summary.agreement) {
      const key = `${a.checker}\u0000${a.attribute}`;
      const row = acc.get(key) ?? { checker: a.checker, attribute: a.attribute, n: 0, agree: 0, unknown: 0 };
      row.n += a.n;
      row.agree += a.agree;
      row.unknown += a.checkerUnknown;
      acc.set(key, row);
    }
  }
  if (acc.size === 0) return undefined;
  const observers = distinctLabels(ctx.input.runs, "observer").join(", ");
  return table(
    `Checking observers against the driving one (${observers}), kept images`,
    ["checker", "attribute", "images both labelled", "agree", "rate", "checker could not tell"],
    [...acc.values()].map((a) => [a.checker, attributeLabel(ctx.catalog, a.attribute), a.n, a.agree, percent(a.n > 0 ? a.agree / a.n : null, 1), a.unknown]),
    [2, 3, 4, 5],
  );
}

function gallerySection(ctx: Context, options: SectionOptions): SafeHtml {
  const links: ImageLinks = {
    imageUrl: options.imageUrl,
    thumbnailUrl: options.thumbnailUrl ?? options.imageUrl,
    ...(options.thumbnailSize ? { thumbnailSize: options.thumbnailSize } : {}),
  };
  const cap = options.galleryCap ?? capFor(ctx.input.runs.length);
  const byPrompt = (g: RunGroup): ReportRun[] => [...g.runs].sort((a, b) => a.labels.prompt.localeCompare(b.labels.prompt));
  const cells = ctx.input.runs.length;
  const open = cells <= 6;
  const groups = ctx.grouping.groups;
  const tilesOf = (g: RunGroup): CellTiles[] => byPrompt(g).map((r) => cellTiles(r, cap));
  const galleries = (tiles: readonly CellTiles[]): SafeHtml[] => tiles.map((t) => cellGallery(ctx.catalog, t, links, { open, idPrefix: ctx.id("") }));
  const groupTitle = (g: RunGroup): string => `${g.series}${ctx.grouping.panels.length > 1 ? ` · target ${g.panel}` : ""}`;
  let body: SafeHtml;
  if (groups.length === 1) body = join(galleries(tilesOf(groups[0]!)), "\n");
  else if (cells <= 12) body = join(groups.map((g) => html`<h3>${groupTitle(g)}</h3>${galleries(tilesOf(g))}`));
  else {
    // Many cells: one collapsed block per policy and target, each holding its cells.
    body = join(
      groups.map((g) => {
        const tiles = tilesOf(g);
        const marks = tiles.map(cellMarks);
        return html`<details class="group"${marks.some((m) => m.apart) ? html` data-apart="1"` : ""}${marks.some((m) => m.disagree) ? html` data-disagree="1"` : ""}><summary>${groupTitle(g)} <span class="cell-meta">— ${plural(g.runs.length, "cell")}</span></summary>${galleries(tiles)}</details>`;
      }),
      "\n",
    );
  }
  const agreement = agreementTable(ctx);
  if (ctx.input.audit) {
    return html`<section id="${ctx.id("gallery")}"><h2>Gallery</h2>
<p class="lead">The images audited, in the folder's order. Under each image: what the observer saw; where a checking observer (or a label given with --labels) says something else,
both are shown and highlighted. Click a thumbnail for the full image. At most ${cap.kept} images are shown.</p>
${agreement ?? ""}
<div class="filters" hidden role="group" aria-label="Show in the gallery">
<button type="button" data-filter="all" aria-pressed="true">all</button><button type="button" data-filter="disagree" aria-pressed="false">observers disagree, misread labels</button>
</div>
<div class="gallery" data-filter="all">${body}</div></section>`;
  }
  return html`<section id="${ctx.id("gallery")}"><h2>Gallery</h2>
<p class="lead">Grouped by cell (one run each). Under each image: what the driving observer saw, then what was asked for. Images set apart, refused attempts and errors are marked;
where a checking observer saw something else, both labels are shown and highlighted. Click a thumbnail for the full image. At most ${cap.kept} kept and ${cap.setApart} other attempts are shown per cell.</p>
${agreement ?? ""}
<div class="filters" hidden role="group" aria-label="Show in the gallery">
<button type="button" data-filter="all" aria-pressed="true">all</button><button type="button" data-filter="kept" aria-pressed="false">kept</button><button type="button" data-filter="apart" aria-pressed="false">set apart, refused, errors</button><button type="button" data-filter="disagree" aria-pressed="false">observers disagree, misread labels</button>
</div>
<div class="gallery" data-filter="all">${body}</div></section>`;
}

/** The context of a rendering: catalog, grouping, ids and the chart renderer. */
function reportContext(input: ReportInput, prefix: string): Context {
  let charts = 0;
  return {
    input,
    catalog: buildCatalog(input.runs),
    grouping: groupRuns(input),
    id: (name) => `${prefix}${name}`,
    chart: async (spec, label) => {
      const c = await renderChart(spec, label, `${prefix}ch${++charts}`);
      return { svg: raw(c.svg), width: c.width };
    },
  };
}

/**
 * Only the report's charts (target vs achieved per attribute, joint heatmaps, convergence), with the
 * report's stylesheet scope: the dashboard's comparison shows these for the runs it compares, each run
 * a series of one chart, so the runs share one scale.
 */
export async function renderChartSections(input: ReportInput, options: Pick<SectionOptions, "idPrefix"> = {}): Promise<string> {
  const ctx = reportContext(input, options.idPrefix ?? "dbp-");
  if (input.runs.length === 0) return html`<div class="dbp-report"></div>`.value;
  const parts = [await attributesSection(ctx), await jointSection(ctx), await convergenceSection(ctx)].filter((p): p is SafeHtml => p !== undefined);
  return html`<div class="dbp-report">${join(parts, "\n")}</div>`.value;
}

/**
 * The report's sections as HTML (no document around them): title, findings, summary, charts, side
 * effects, cost and gallery. Charts are rendered to inline SVG here.
 */
export async function renderReportSections(input: ReportInput, options: SectionOptions): Promise<string> {
  const ctx = reportContext(input, options.idPrefix ?? "dbp-");
  if (input.runs.length === 0) {
    const present = new Set<string>();
    return html`<div class="dbp-report">${header(ctx, present)}<p class="muted">No finished run to report yet.</p></div>`.value;
  }
  const findings = input.findings && input.findings.length > 0 ? findingsSection(ctx, input.findings) : undefined;
  const attributes = await attributesSection(ctx);
  const joint = await jointSection(ctx);
  // An audit generated nothing: no loop converged, no policy moved other attributes, nothing cost anything.
  const generated = input.audit === undefined;
  const convergence = generated ? await convergenceSection(ctx) : undefined;
  const calibration = calibrationSection(input.runs, ctx.id("calibration"));
  const present = new Set<string>(["summary", "attributes", "gallery", ...(generated ? ["effects", "cost"] : [])]);
  if (findings) present.add("findings");
  if (joint) present.add("joint");
  if (convergence) present.add("convergence");
  if (calibration) present.add("calibration");
  const parts = [
    header(ctx, present),
    findings,
    summarySection(ctx),
    attributes,
    calibration,
    joint,
    convergence,
    generated ? effectsSection(ctx) : undefined,
    generated ? costSection(ctx) : undefined,
    gallerySection(ctx, options),
  ].filter((p): p is SafeHtml => p !== undefined);
  return html`<div class="dbp-report">${join(parts, "\n")}</div>`.value;
}
