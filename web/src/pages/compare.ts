import type { ApiRunDetail } from "../../../src/server/api-types.js";
import { api } from "../api.js";
import { observedCaption, type Labels } from "../charts.js";
import { add, h, num, pct, replace } from "../dom.js";
import { reportElement } from "../report.js";
import { statusBadge } from "./runs.js";

/** Two or more runs side by side: headline numbers, target-versus-achieved per factor, convergence, side effects, images. */
export async function comparePage(root: HTMLElement, arg: string): Promise<void> {
  // Split before decoding: an id may hold an (encoded) comma.
  const ids = arg.split(",").filter((s) => s.length > 0).map((s) => decodeURIComponent(s));
  const chartsBox = h("div", { class: "compare-charts", "data-test": "compare-charts" }, h("p", { class: "hint" }, "Drawing the charts…"));
  void api.compareCharts(ids).then(
    (r) => replace(chartsBox, reportElement(r)),
    (err: Error) => replace(chartsBox, h("p", { class: "hint" }, err.message)),
  );
  const [cmp, details, attempts] = await Promise.all([
    api.compare(ids),
    Promise.all(ids.map((id) => api.run(id))),
    Promise.all(ids.map((id) => api.attempts(id))),
  ]);
  const labels: Labels = Object.assign({}, ...details.map((d: ApiRunDetail) => d.labels)) as Labels;
  const runs = cmp.runs;
  const name = (k: number): string => `${runs[k]!.summary.policy}${runs.filter((r) => r.summary.policy === runs[k]!.summary.policy).length > 1 ? ` #${k + 1}` : ""}`;
  const factorIds = [...new Set(runs.flatMap((r) => r.summary.factors.map((f) => f.id)))];

  const metric = (label: string, cell: (k: number) => string | HTMLElement): HTMLElement =>
    h("tr", null, h("th", { scope: "row" }, label), runs.map((_, k) => h("td", null, cell(k))));

  const headline = h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      { class: "data compare" },
      h("thead", null, h("tr", null, h("th", null, ""), runs.map((r, k) => h("th", null, h("a", { href: `#/runs/${encodeURIComponent(r.id)}` }, name(k)))))),
      h(
        "tbody",
        null,
        metric("prompt", (k) => runs[k]!.summary.prompt),
        metric("status", (k) => statusBadge(runs[k]!.summary.status, details[k]!.live.state)),
        metric("provider", (k) => runs[k]!.summary.provider),
        metric("kept", (k) => `${runs[k]!.summary.kept} / ${runs[k]!.summary.n}`),
        metric("every bin met", (k) => (runs[k]!.summary.exact ? "yes" : "no")),
        factorIds.flatMap((fid) => [
          metric(`TV ${fid}`, (k) => (runs[k]!.summary.kept > 0 ? num(runs[k]!.summary.factors.find((f) => f.id === fid)?.tv) : "–")),
          metric(`max |p-q| ${fid}`, (k) => (runs[k]!.summary.kept > 0 ? pct(runs[k]!.summary.factors.find((f) => f.id === fid)?.maxAbsDiff, 1) : "–")),
        ]),
        metric("generations / kept", (k) => num(runs[k]!.summary.generationsPerKept, 2)),
        metric("refused / errors", (k) => `${runs[k]!.summary.refusals} / ${runs[k]!.summary.errors}`),
        metric("cost", (k) => (runs[k]!.summary.costUsd > 0 ? `$${runs[k]!.summary.costUsd.toFixed(3)}` : "–")),
      ),
    ),
  );

  const effects = runs.some((r) => r.crossEffects.length > 0)
    ? h(
        "section",
        null,
        h("h2", null, "Side effects against the none run"),
        h("p", { class: "hint" }, "For attributes a run did not control: how far their distribution moved from the run without control (TV) and whether it became more or less diverse (change of normalised entropy)."),
        h(
          "div",
          { class: "table-scroll" },
          h(
            "table",
            { class: "data compare" },
            h("thead", null, h("tr", null, h("th", null, "attribute"), runs.map((_, k) => h("th", null, name(k))))),
            h(
              "tbody",
              null,
              [...new Set(runs.flatMap((r) => r.crossEffects.map((e) => e.attribute)))].map((attr) =>
                metric(runs.find((r) => r.summary.attributes[attr])?.summary.attributes[attr]?.label ?? attr, (k) => {
                  if (runs[k]!.summary.policy === "none") return "baseline";
                  const e = runs[k]!.crossEffects.find((x) => x.attribute === attr);
                  return e ? `TV ${num(e.tvVsNone, 2)}, entropy ${e.entropyChange >= 0 ? "+" : ""}${num(e.entropyChange, 2)}` : "–";
                }),
              ),
            ),
          ),
        ),
      )
    : null;

  add(root, 
    h("div", { class: "page-head" }, h("h1", null, `${runs.length} runs side by side`), h("div", { class: "actions" }, h("a", { class: "btn", href: "#/" }, "All runs"))),
    h("section", { class: "card" }, headline),
    // The report's charts: each run a series of one chart per attribute, so every panel has the same scale.
    chartsBox,
    effects,
    h("h2", null, "Images kept"),
    h(
      "div",
      { class: "side-by-side" },
      runs.map((r, k) => {
        const kept = attempts[k]!.filter((a) => a.decision === "kept" && a.image).slice(0, 24);
        const ctl = r.summary.factors.flatMap((f) => f.attributes);
        return h(
          "div",
          { class: "card" },
          h("h3", null, name(k)),
          h(
            "div",
            { class: "shots small" },
            kept.map((a) => {
              const cap = observedCaption(a.labels, ctl, labels);
              return h("figure", { class: "shot kept", title: a.prompt }, h("a", { href: api.imageUrl(r.id, a.image!), target: "_blank", rel: "noopener", class: "full" }, h("img", { src: api.thumbUrl(r.id, a.image!), alt: cap, loading: "lazy", width: 128, height: 160 })), h("figcaption", null, cap));
            }),
          ),
        );
      }),
    ),
  );
}
