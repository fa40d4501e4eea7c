/**
 * The gallery: per run (cell), its images as thumbnails with what the driving observer saw, where a
 * checking observer saw something else both labels, and every refused or set-apart attempt marked.
 * Large runs are capped per cell, with a note saying how many images are not shown.
 */
import { mainSubject } from "../../core/request.js";
import type { AttemptEvent } from "../../store/events.js";
import type { ReportRun } from "../../analysis/model.js";
import { AUDIT_PROVIDER } from "../../analysis/summary.js";
import { attributeLabel, categoryLabel, type Catalog } from "./data.js";
import { html, join, slug, type SafeHtml } from "./markup.js";

export interface GalleryCap {
  /** Kept images shown per cell. */
  kept: number;
  /** Attempts that were set apart, refused or failed, shown per cell. */
  setApart: number;
}

export const DEFAULT_CAP: GalleryCap = { kept: 60, setApart: 24 };

/** Tiles a whole gallery aims to stay under, so a report of a thousand runs still opens quickly. */
export const GALLERY_BUDGET = 6000;

/** The cap per cell for a gallery of `cells` cells: the default, lowered for many cells (at least 4 kept and 2 others). */
export function capFor(cells: number): GalleryCap {
  const kept = Math.max(4, Math.min(DEFAULT_CAP.kept, Math.floor(GALLERY_BUDGET / Math.max(1, cells))));
  return { kept, setApart: Math.max(2, Math.min(DEFAULT_CAP.setApart, Math.ceil(kept / 2.5))) };
}

export interface GallerySelection {
  kept: AttemptEvent[];
  setApart: AttemptEvent[];
  totalKept: number;
  totalSetApart: number;
}

/** The attempts a cell's gallery shows: kept images in the order they were kept, then the others in attempt order. */
export function selectTiles(run: ReportRun, cap: GalleryCap = DEFAULT_CAP): GallerySelection {
  const attempts = run.events.filter((e): e is AttemptEvent => e.type === "attempt");
  const kept = attempts.filter((e) => e.decision === "kept");
  const others = attempts.filter((e) => e.decision !== "kept").sort((a, b) => a.i - b.i);
  return { kept: kept.slice(0, cap.kept), setApart: others.slice(0, cap.setApart), totalKept: kept.length, totalSetApart: others.length };
}

/** Run-relative image paths the gallery of these runs shows (the thumbnails a report needs). */
export function galleryImages(runs: readonly ReportRun[], cap: GalleryCap = DEFAULT_CAP): { run: ReportRun; image: string }[] {
  return runs.flatMap((run) => {
    const s = selectTiles(run, cap);
    return [...s.kept, ...s.setApart].flatMap((e) => (e.image ? [{ run, image: e.image }] : []));
  });
}

export interface ImageLinks {
  imageUrl: (run: ReportRun, relPath: string) => string;
  thumbnailUrl: (run: ReportRun, relPath: string) => string;
  thumbnailSize?: (run: ReportRun, relPath: string) => { width: number; height: number } | undefined;
}

const DECISION_WORDS: Record<AttemptEvent["decision"], string> = {
  kept: "kept",
  overflow: "set apart: bin full",
  unknown: "set apart: not observed",
  surplus: "set apart: set already full",
  refused: "refused",
  error: "error",
};

/** What a request asked for, in words. */
function requestWords(catalog: Catalog, e: AttemptEvent): string | undefined {
  const r = e.request;
  const cell = (cells: Record<string, string>): string =>
    Object.entries(cells)
      .map(([a, c]) => categoryLabel(catalog, a, c))
      .join(" \u00b7 ");
  if (r.kind === "direct") return cell(r.cells);
  if (r.kind === "choice") return `one of ${r.options.length} open cells`;
  if (r.kind === "eip") return "ethical intervention phrase";
  return undefined;
}

/** Attributes in display order: the controlled ones, then the rest in taxonomy order. */
function attributeOrder(catalog: Catalog, run: ReportRun): string[] {
  const controlled = run.record.target.attributes;
  return [...controlled, ...catalog.attributes.map((a) => a.id).filter((a) => !controlled.includes(a))];
}

interface Disagreement {
  attribute: string;
  driver: string | null;
  checker: string;
  seen: string;
}

/** Who the labels of an audit with `--labels` are, in a disagreement: the image's known truth. */
export const LABELS_CHECKER = "labels";

/**
 * Where a checking observer gave a category the driving observer did not, and, in an audit made with
 * `--labels`, where the driving observer misread the labelled truth (unknown included): the gallery of
 * misread images an auditor acts on.
 */
export function disagreements(e: AttemptEvent): Disagreement[] {
  if (!e.observation) return [];
  const driver = mainSubject(e.observation);
  const out: Disagreement[] = [];
  // An audited file's labels (audit --labels writes them beside the file name; sim's rendered truth is not a label).
  const truth = typeof e.meta?.file === "string" ? e.meta.truth : undefined;
  if (truth && typeof truth === "object") {
    for (const [attribute, seen] of Object.entries(truth as Record<string, unknown>)) {
      if (typeof seen !== "string") continue;
      const d = driver[attribute] ?? null;
      if (d !== seen) out.push({ attribute, driver: d, checker: LABELS_CHECKER, seen });
    }
  }
  for (const check of e.checks ?? []) {
    for (const [attribute, seen] of Object.entries(mainSubject(check))) {
      if (seen === null || seen === undefined) continue;
      const d = driver[attribute] ?? null;
      if (d !== seen) out.push({ attribute, driver: d, checker: check.observer, seen });
    }
  }
  return out;
}

/** A cell's gallery, worked out once: the tiles shown and where the observers disagree. */
export interface CellTiles extends GallerySelection {
  run: ReportRun;
  /** Where a checking observer saw something else, for every kept attempt and each attempt set apart that is shown. */
  disagreements: Map<AttemptEvent, Disagreement[]>;
  /** Kept images the observers disagree on, shown or not. */
  keptDisagreeing: number;
}

/** The tiles of a cell's gallery (see selectTiles), with the disagreements of each computed once. */
export function cellTiles(run: ReportRun, cap: GalleryCap): CellTiles {
  const sel = selectTiles(run, cap);
  const kept = run.events.filter((e): e is AttemptEvent => e.type === "attempt" && e.decision === "kept");
  const found = new Map([...kept, ...sel.setApart].map((e) => [e, disagreements(e)]));
  return { ...sel, run, disagreements: found, keptDisagreeing: kept.filter((e) => found.get(e)!.length > 0).length };
}

/** Where the observers disagree on an attempt the cell shows. */
const disagreementsIn = (cell: CellTiles, e: AttemptEvent): Disagreement[] => cell.disagreements.get(e) ?? [];

function tile(catalog: Catalog, run: ReportRun, e: AttemptEvent, dis: readonly Disagreement[], position: string, links: ImageLinks): SafeHtml {
  const state = e.decision === "kept" ? "kept" : e.decision === "refused" || e.decision === "error" ? e.decision : "apart";
  const labels = e.observation ? mainSubject(e.observation) : {};
  const shown = attributeOrder(catalog, run).filter((a) => labels[a] !== undefined);
  const disAttrs = new Set(dis.map((d) => d.attribute));
  const words = shown.map((a) => (labels[a] ? categoryLabel(catalog, a, labels[a]!) : `${attributeLabel(catalog, a)} unknown`));
  const asked = requestWords(catalog, e);
  const observer = e.observation?.observer ?? run.labels.observer;
  const alt = `${position}, ${DECISION_WORDS[e.decision]}${words.length > 0 ? `: ${words.join(", ")}` : ""}`;
  let media: SafeHtml;
  if (e.image) {
    const size = links.thumbnailSize?.(run, e.image);
    media = html`<a class="thumb" href="${links.imageUrl(run, e.image)}"><img src="${links.thumbnailUrl(run, e.image)}" alt="${alt}" loading="lazy" decoding="async"${
      size ? html` width="${size.width}" height="${size.height}"` : ""
    }></a>`;
  } else {
    media = html`<div class="thumb placeholder" role="img" aria-label="${alt}"><span>${e.decision === "refused" ? "refused" : "no image"}</span></div>`;
  }
  const reason = e.refusal ?? e.error;
  return html`<li class="tile is-${state}" data-state="${state}"${dis.length > 0 ? html` data-disagree="1"` : ""} title="${e.prompt}">
${media}<div class="cap"><span class="badge b-${state}">${position} · ${DECISION_WORDS[e.decision]}</span>
${
  shown.length > 0
    ? html`<ul class="labels" aria-label="observed by ${observer}">${shown.map(
        (a) => html`<li${disAttrs.has(a) ? html` class="dis"` : ""}>${labels[a] ? categoryLabel(catalog, a, labels[a]!) : html`<em>${attributeLabel(catalog, a)}?</em>`}</li>`,
      )}</ul>`
    : e.image
      ? html`<p class="muted">no person observed</p>`
      : ""
}${
  dis.length > 0
    ? html`<ul class="disagree">${dis.map(
        (d) =>
          html`<li><strong>${attributeLabel(catalog, d.attribute)}</strong>: ${d.driver ? categoryLabel(catalog, d.attribute, d.driver) : "unknown"} <span class="who">(${observer})</span> vs ${categoryLabel(
            catalog,
            d.attribute,
            d.seen,
          )} <span class="who">(${d.checker})</span></li>`,
      )}</ul>`
    : ""
}${asked ? html`<p class="asked">asked: ${asked}</p>` : ""}${reason ? html`<p class="reason">${reason}</p>` : ""}</div></li>`;
}

/** Whether a cell's shown tiles include attempts set apart (refused, failed) and images the observers disagree on (the gallery filters use it). */
export function cellMarks(cell: CellTiles): { apart: boolean; disagree: boolean } {
  return { apart: cell.setApart.length > 0, disagree: [...cell.kept, ...cell.setApart].some((e) => disagreementsIn(cell, e).length > 0) };
}

/** One cell's gallery block. */
export function cellGallery(catalog: Catalog, cell: CellTiles, links: ImageLinks, opts: { open: boolean; idPrefix: string }): SafeHtml {
  const { run } = cell;
  const s = run.summary;
  const dis = cell.keptDisagreeing;
  const notes: string[] = [];
  if (cell.kept.length < cell.totalKept) notes.push(`showing ${cell.kept.length} of ${cell.totalKept} kept images`);
  if (cell.setApart.length < cell.totalSetApart) notes.push(`showing ${cell.setApart.length} of ${cell.totalSetApart} attempts set apart, refused or failed`);
  const tiles = [
    ...cell.kept.map((e, k) => tile(catalog, run, e, disagreementsIn(cell, e), `#${k + 1}`, links)),
    ...cell.setApart.map((e) => tile(catalog, run, e, disagreementsIn(cell, e), `attempt ${e.i + 1}`, links)),
  ];
  const marks = cellMarks(cell);
  return html`<details class="cell" id="${opts.idPrefix}cell-${slug(run.id)}"${opts.open ? " open" : ""}${marks.apart ? html` data-apart="1"` : ""}${
    marks.disagree ? html` data-disagree="1"` : ""
  }>
${
    s.provider === AUDIT_PROVIDER
      ? html`<summary><span class="cell-title">${run.labels.prompt}</span> <span class="cell-meta">${run.labels.observer} — ${s.kept} images${dis > 0 ? `, ${dis} with observers disagreeing` : ""}</span></summary>`
      : html`<summary><span class="cell-title">“${run.labels.prompt}”</span> <span class="cell-meta">${run.labels.policy} · ${run.labels.target} · ${run.labels.observer}${
          run.labels.provider !== "sim" ? ` · ${run.labels.provider}` : ""
        } — ${s.kept}/${s.n} kept, ${s.generations} generated${s.refusals > 0 ? `, ${s.refusals} refused` : ""}${dis > 0 ? `, ${dis} with observers disagreeing` : ""}</span></summary>`
  }
<p class="cell-id">run <code>${run.id}</code>${notes.length > 0 ? html` — <span class="cap-note">${notes.join("; ")}; every image is in the run folder's <code>images/</code></span>` : ""}</p>
${tiles.length > 0 ? html`<ul class="tiles">${join(tiles, "\n")}</ul>` : html`<p class="muted">No attempts yet.</p>`}
</details>`;
}
