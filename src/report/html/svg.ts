/**
 * Renders a Vega-Lite spec to an SVG string in Node (no browser, no canvas: text widths come from a
 * font metrics table, see text-width.ts), made fit for inlining in an HTML page: no namespace URLs, ids unique per chart, scales to
 * its container, labelled for screen readers.
 */
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { escapeHtml } from "./markup.js";
import { installTextMetrics } from "./text-width.js";

let counter = 0;

/** A chart is never drawn smaller than this share of its size (text stays legible); a narrower screen scrolls it. */
const MIN_SCALE = 0.7;

export interface RenderedChart {
  svg: string;
  width: number;
  height: number;
}

/** Compiles and renders a spec; `label` becomes the SVG's accessible name. */
export async function renderChart(spec: TopLevelSpec, label: string, idPrefix = `c${++counter}`): Promise<RenderedChart> {
  installTextMetrics();
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    return inlineSvg(svg, label, idPrefix);
  } finally {
    view.finalize();
  }
}

/** Makes Vega's standalone SVG document safe and responsive as inline markup. */
export function inlineSvg(svg: string, label: string, idPrefix: string): RenderedChart {
  const open = /^<svg\b[^>]*>/.exec(svg);
  if (!open) throw new Error("vega did not return an <svg> element");
  const attrs = open[0];
  const width = Number(/\swidth="([\d.]+)"/.exec(attrs)?.[1] ?? 0);
  const height = Number(/\sheight="([\d.]+)"/.exec(attrs)?.[1] ?? 0);
  const viewBox = /\sviewBox="([^"]*)"/.exec(attrs)?.[1] ?? `0 0 ${width} ${height}`;
  const root =
    `<svg class="chart" viewBox="${viewBox}" width="${width}" height="${height}" style="max-width:${width}px;min-width:${Math.round(width * MIN_SCALE)}px" ` +
    `role="img" aria-label="${escapeHtml(label)}" preserveAspectRatio="xMinYMin meet"><title>${escapeHtml(label)}</title>`;
  let body = svg.slice(attrs.length);
  // Ids must be unique in the page: several charts each have a "clip1".
  const ids = [...body.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);
  for (const id of new Set(ids)) {
    const safe = id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    body = body
      .replace(new RegExp(`\\sid="${safe}"`, "g"), ` id="${idPrefix}-${id}"`)
      .replace(new RegExp(`url\\(#${safe}\\)`, "g"), `url(#${idPrefix}-${id})`)
      .replace(new RegExp(`href="#${safe}"`, "g"), `href="#${idPrefix}-${id}"`);
  }
  // Namespace declarations are not needed inline and are the only URLs Vega writes.
  body = body.replace(/\sxmlns(:\w+)?="[^"]*"/g, "");
  return { svg: root + body, width, height };
}
