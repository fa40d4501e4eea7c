import type { ApiExperimentListItem, ApiRunListItem } from "../../../src/server/api-types.js";
import { api } from "../api.js";
import { add, h, num, pct, when } from "../dom.js";

const statusText: Record<string, string> = {
  complete: "complete",
  budget: "budget spent",
  "provider-errors": "provider failing",
  "observer-errors": "observer failing",
  cost: "spending cap reached",
  incomplete: "stopped",
};

export function statusBadge(status: string, live: string): HTMLElement {
  const text = live === "running" ? "running" : live === "stopping" ? "stopping" : (statusText[status] ?? status);
  const kind = live !== "idle" ? "live" : status === "complete" ? "ok" : status === "incomplete" ? "idle" : "warn";
  return h("span", { class: `badge ${kind}` }, text);
}

/** The list of runs (and experiments) with their headline numbers; pick two or more to compare. */
export async function runsPage(root: HTMLElement): Promise<() => void> {
  const [runs, experiments] = await Promise.all([api.runs(), api.experiments().catch((): ApiExperimentListItem[] => [])]);
  const picked = new Set<string>();
  const compareBtn = h("button", { class: "btn", type: "button", disabled: true, "data-test": "compare" }, "Compare selected");
  const refresh = (): void => {
    compareBtn.disabled = picked.size < 2;
    compareBtn.textContent = picked.size >= 2 ? `Compare ${picked.size} runs` : "Compare selected";
  };
  compareBtn.addEventListener("click", () => {
    location.hash = `#/compare/${[...picked].map(encodeURIComponent).join(",")}`;
  });

  const row = (r: ApiRunListItem): HTMLElement => {
    const box = h("input", { type: "checkbox", "aria-label": `select ${r.prompt} (${r.policy}) for comparison`, value: r.id, checked: picked.has(r.id) });
    box.addEventListener("change", () => {
      if (box.checked) picked.add(r.id);
      else picked.delete(r.id);
      refresh();
    });
    return h(
      "tr",
      { "data-run": r.id },
      h("td", { class: "pick" }, box),
      h(
        "td",
        { class: "what" },
        h("a", { href: `#/runs/${encodeURIComponent(r.id)}` }, r.prompt),
        h("div", { class: "sub" }, `${r.policy} · ${r.factors.join(", ") || "no target"} · ${r.provider} · ${when(r.createdAt)}`),
      ),
      h("td", { "data-label": "status" }, statusBadge(r.status, r.live)),
      h("td", { "data-label": "kept", class: "numc" }, `${r.kept}/${r.n}`),
      h("td", { "data-label": "exact", class: "numc" }, r.exact ? "yes" : "no"),
      h("td", { "data-label": "TV", class: "numc", title: "mean total variation from the target (0 = on target)" }, num(r.tv)),
      h("td", { "data-label": "max |p-q|", class: "numc" }, pct(r.maxAbsDiff, 1)),
      h("td", { "data-label": "gen/kept", class: "numc" }, num(r.generationsPerKept, 2)),
      h("td", { "data-label": "refused", class: "numc", title: `${r.refusals} refused by the provider${r.errors > 0 ? `; ${r.errors} failed (errors)` : ""}` }, String(r.refusals)),
    );
  };

  add(root, 
    h("div", { class: "page-head" }, h("h1", null, "Runs"), h("div", { class: "actions" }, compareBtn, h("a", { class: "btn primary", href: "#/new" }, "New run"))),
    runs.length === 0
      ? h("div", { class: "empty" }, h("p", null, "No runs yet in this runs folder."), h("a", { class: "btn primary", href: "#/new" }, "Start the first run"))
      : h(
          "table",
          { class: "runs" },
          h(
            "thead",
            null,
            h("tr", null, h("th", null, h("span", { class: "sr" }, "compare")), h("th", null, "prompt"), h("th", null, "status"), h("th", null, "kept"), h("th", null, "exact"), h("th", { title: "mean total variation from the target" }, "TV"), h("th", null, "max |p-q|"), h("th", null, "gen/kept"), h("th", null, "refused")),
          ),
          h("tbody", null, runs.map(row)),
        ),
    experiments.length > 0
      ? [
          h("h2", null, "Experiments"),
          h(
            "table",
            { class: "runs experiments" },
            h("thead", null, h("tr", null, h("th", null, "experiment"), h("th", null, "runs"), h("th", null, "mean TV"), h("th", null, "exact"))),
            h(
              "tbody",
              null,
              experiments.map((e) =>
                h(
                  "tr",
                  null,
                  h("td", { class: "what" }, h("a", { href: `#/experiments/${encodeURIComponent(e.id)}` }, e.title), h("div", { class: "sub" }, when(e.createdAt))),
                  h("td", { "data-label": "runs", class: "numc" }, `${e.runs - e.incomplete}/${e.runs}`),
                  h("td", { "data-label": "mean TV", class: "numc" }, num(e.meanTv)),
                  h("td", { "data-label": "exact", class: "numc" }, pct(e.exactShare)),
                ),
              ),
            ),
          ),
        ]
      : null,
  );
  // Live runs change their numbers: refresh the list until none runs any more.
  const timer = runs.some((r) => r.live !== "idle")
    ? window.setInterval(() => {
        if (document.hidden) return;
        void api.runs().then((fresh) => {
          for (const r of fresh) root.querySelector(`tr[data-run="${CSS.escape(r.id)}"]`)?.replaceWith(row(r));
          if (fresh.every((r) => r.live === "idle")) window.clearInterval(timer);
        });
      }, 2000)
    : undefined;
  return () => window.clearInterval(timer);
}
