import type { ApiAttributeSummary, ApiFactorSummary } from "../../src/server/api-types.js";
import { h, pct } from "./dom.js";

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

/** An image's observed labels for the given attributes ("woman · Black"), "?" where not seen. */
export const observedCaption = (observed: Record<string, string | null>, attributes: readonly string[], labels: Labels): string =>
  attributes.map((attr) => { const c = observed[attr]; return c ? cellLabel(labels, [attr], c) : "?"; }).join(" · ");
