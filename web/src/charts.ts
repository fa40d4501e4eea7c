import type { ApiAttributeSummary, ApiFactorSummary } from "../../src/server/api-types.js";
import { h, pct, s } from "./dom.js";

export interface ShareRow {
  /** Category id, or "cat|cat" for a joint cell. */
  key: string;
  label: string;
  achieved: number;
  count: number;
  target?: number;
  bin?: number;
  ci?: [number, number];
}

export type Labels = Record<string, Record<string, string>>;

export const cellLabel = (labels: Labels, attributes: readonly string[], key: string): string =>
  key
    .split("|")
    .map((c, i) => labels[attributes[i] ?? ""]?.[c] ?? c)
    .join(" · ");

/** Target against achieved shares of one controlled factor (one attribute, or the cells of a joint target). */
export function factorRows(f: ApiFactorSummary, attr: ApiAttributeSummary | undefined, labels: Labels): ShareRow[] {
  const keys = Object.keys(f.target);
  const total = keys.reduce((acc, k) => acc + (f.observed[k] ?? 0), 0);
  return keys.map((k) => ({
    key: k,
    label: cellLabel(labels, f.attributes, k),
    achieved: total > 0 ? (f.observed[k] ?? 0) / total : 0,
    count: f.observed[k] ?? 0,
    target: f.target[k] ?? 0,
    bin: f.bins[k] ?? 0,
    ...(f.attributes.length === 1 && attr?.intervals[k] && total > 0 ? { ci: attr.intervals[k] } : {}),
  }));
}

/** Shares of an attribute that was not controlled (a side effect). */
export function attributeRows(a: ApiAttributeSummary, labels: Labels): ShareRow[] {
  const keys = Object.keys(a.observed);
  const total = keys.reduce((acc, k) => acc + (a.observed[k] ?? 0), 0);
  return keys.map((k) => ({
    key: k,
    label: labels[a.attribute]?.[k] ?? k,
    achieved: total > 0 ? (a.observed[k] ?? 0) / total : 0,
    count: a.observed[k] ?? 0,
    ...(total > 0 && a.intervals[k] ? { ci: a.intervals[k] } : {}),
  }));
}

/**
 * Horizontal bars, one row per category: the achieved share filled, the target as a marker, the 95 %
 * interval as a whisker. HTML rather than SVG so the labels stay readable at phone width.
 * `onPick` makes rows buttons (the gallery filters on the picked category).
 */
export function shareBars(rows: ShareRow[], opts: { onPick?: (key: string) => void; picked?: string | undefined; caption?: string } = {}): HTMLElement {
  const max = Math.max(0.0001, ...rows.map((r) => Math.max(r.achieved, r.target ?? 0, r.ci?.[1] ?? 0)));
  const scale = (x: number): string => `${Math.min(100, (x / max) * 100).toFixed(2)}%`;
  const hasTarget = rows.some((r) => r.target !== undefined);
  return h(
    "div",
    { class: "bars", role: "table", "aria-label": opts.caption ?? "shares" },
    hasTarget
      ? h("div", { class: "legend", "aria-hidden": "true" }, h("span", { class: "key achieved" }), "achieved ", h("span", { class: "key target" }), "target ", rows.some((r) => r.ci) ? [h("span", { class: "key ci" }), "95 % interval"] : null)
      : null,
    rows.map((r) => {
      // Orange: more images in this bin than it wants (possible with overflow keep, or without control).
      const off = r.bin !== undefined && r.count > r.bin;
      const row = h(
        opts.onPick ? "button" : "div",
        {
          class: `bar-row${opts.picked === r.key ? " picked" : ""}${off ? " off" : ""}`,
          role: "row",
          type: opts.onPick ? "button" : null,
          title: `${r.label}: ${r.count}${r.bin !== undefined ? ` of ${r.bin} wanted${off ? " (over)" : ""}` : ""} (${pct(r.achieved, 1)}${r.target !== undefined ? `, target ${pct(r.target, 1)}` : ""})`,
          onclick: opts.onPick ? () => opts.onPick!(r.key) : null,
        },
        h("span", { class: "bar-label", role: "cell" }, r.label),
        h(
          "span",
          { class: "bar-track", role: "cell" },
          h("span", { class: "bar-fill", style: `width:${scale(r.achieved)}` }),
          r.ci ? h("span", { class: "bar-ci", style: `left:${scale(r.ci[0])};width:calc(${scale(r.ci[1])} - ${scale(r.ci[0])})` }) : null,
          r.target !== undefined ? h("span", { class: "bar-target", style: `left:${scale(r.target)}` }) : null,
        ),
        h("span", { class: "bar-value", role: "cell" }, r.bin !== undefined ? `${r.count}/${r.bin}` : String(r.count), h("small", null, ` ${pct(r.achieved)}`)),
      );
      return row;
    }),
  );
}

export interface ConvergenceChart {
  el: HTMLElement;
  /** Re-draws with the run's latest convergence (a live run): one chart, one resize observer, per page. */
  update(values: number[], n: number): void;
}

/**
 * A line chart of the distance to the target after each kept image, drawn at the width it is given
 * (re-drawn when that changes, so text keeps its size on a phone).
 */
export function convergenceChart(values: number[], n: number, series: { label: string; values: number[] }[] = []): ConvergenceChart {
  const box = h("div", { class: "line-chart" });
  let all = series.length > 0 ? series : [{ label: "mean TV", values }];
  const draw = (): void => {
    const width = Math.max(240, Math.floor(box.clientWidth || 600));
    const height = Math.round(Math.min(220, Math.max(150, width * 0.38)));
    const m = { l: 40, r: 12, t: 10, b: 30 };
    const w = width - m.l - m.r;
    const ht = height - m.t - m.b;
    const xMax = Math.max(n, ...all.map((a) => a.values.length), 1);
    const yMax = Math.max(0.1, ...all.flatMap((a) => a.values));
    const yTop = Math.ceil(yMax * 10) / 10;
    const x = (i: number): number => m.l + (i / xMax) * w;
    const y = (v: number): number => m.t + ht - (v / yTop) * ht;
    const yTicks = [0, yTop / 2, yTop];
    const xTicks = [0, Math.round(xMax / 2), xMax];
    const colours = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442"];
    const svg = s(
      "svg",
      { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "distance to the target (mean total variation) after each kept image" },
      yTicks.map((t) => [
        s("line", { x1: m.l, x2: width - m.r, y1: y(t), y2: y(t), class: "grid" }),
        s("text", { x: m.l - 6, y: y(t) + 4, "text-anchor": "end", class: "tick" }, t.toFixed(2)),
      ]),
      xTicks.map((t) => s("text", { x: x(t), y: height - m.b + 16, "text-anchor": "middle", class: "tick" }, String(t))),
      s("text", { x: m.l + w / 2, y: height - 2, "text-anchor": "middle", class: "axis" }, "images kept"),
      all.map((a, k) =>
        a.values.length > 0
          ? s("polyline", {
              points: a.values.map((v, i) => `${x(i + 1).toFixed(1)},${y(v).toFixed(1)}`).join(" "),
              fill: "none",
              stroke: colours[k % colours.length]!,
              "stroke-width": 2,
              "stroke-linejoin": "round",
            })
          : null,
      ),
    );
    box.replaceChildren(svg);
    if (series.length > 1) {
      box.appendChild(
        h("div", { class: "legend" }, series.map((a, k) => [h("span", { class: "key", style: `background:${colours[k % colours.length]}` }), `${a.label} `])),
      );
    }
  };
  new ResizeObserver(() => draw()).observe(box);
  requestAnimationFrame(draw);
  return {
    el: box,
    update(latest, latestN) {
      all = [{ label: "mean TV", values: latest }];
      n = latestN;
      draw();
    },
  };
}

/** An image's observed labels for the given attributes ("woman · Black"), "?" where not seen. */
export const observedCaption = (observed: Record<string, string | null>, attributes: readonly string[], labels: Labels): string =>
  attributes.map((attr) => { const c = observed[attr]; return c ? cellLabel(labels, [attr], c) : "?"; }).join(" · ");
