import type { ApiExperimentDetail } from "../../../src/server/api-types.js";
import { api } from "../api.js";
import { add, h, num, replace, when } from "../dom.js";
import { reportElement } from "../report.js";
import { statusBadge } from "./runs.js";

/** An experiment: progress while it runs (stop, resume), its cells (each opens as a run; pick some to compare), then its report with the findings. */
export async function experimentPage(root: HTMLElement, arg: string): Promise<() => void> {
  const id = decodeURIComponent(arg);
  let e: ApiExperimentDetail = await api.experiment(id);
  const picked = new Set<string>();
  const compareBtn = h("button", { class: "btn", type: "button", disabled: true }, "Compare selected");
  compareBtn.addEventListener("click", () => (location.hash = `#/compare/${[...picked].map(encodeURIComponent).join(",")}`));
  const stopBtn = h("button", { class: "btn danger", type: "button", "data-test": "stop" }, "Stop");
  const resumeBtn = h("button", { class: "btn", type: "button", "data-test": "resume" }, "Resume");
  const sub = h("div", { class: "sub" });
  const progress = h("div", { class: "progress-line" });
  const notice = h("div", { class: "notice", role: "status" });
  const table = h("tbody");
  const reportBox = h("div", { class: "report" });
  let reportShown = false;
  let resuming = false;

  const draw = (): void => {
    const total = e.live.total ?? e.runs.length + e.incomplete.filter((c) => !e.runs.some((r) => r.id.endsWith(`~${c}`))).length;
    const done = e.live.done ?? e.runs.length - e.incomplete.length;
    const running = e.live.state !== "idle";
    sub.textContent = `experiment ${e.id} · ${when(e.createdAt)} · ${total} runs`;
    replace(progress, statusBadge(running ? "incomplete" : e.incomplete.length > 0 ? "incomplete" : "complete", e.live.state), h("progress", { max: Math.max(1, total), value: done }), `${done} / ${total} runs done`);
    stopBtn.disabled = e.live.state !== "running" || Boolean(e.live.external);
    resumeBtn.disabled = running || e.incomplete.length === 0;
    notice.textContent = e.live.error ? `The experiment stopped: ${e.live.error}` : e.live.external ? "Another process is running this experiment; stop it there." : "";
    replace(
      table,
      e.runs.map((r) => {
        const box = h("input", { type: "checkbox", "aria-label": `select ${r.prompt} (${r.policy})`, checked: picked.has(r.id) });
        box.addEventListener("change", () => {
          if (box.checked) picked.add(r.id);
          else picked.delete(r.id);
          compareBtn.disabled = picked.size < 2;
        });
        return h(
          "tr",
          { "data-run": r.id },
          h("td", { class: "pick" }, box),
          h("td", { class: "what" }, h("a", { href: `#/runs/${encodeURIComponent(r.id)}` }, r.prompt), h("div", { class: "sub" }, `${r.policy} · ${r.labels.target ?? r.factors.join(", ")} · ${r.observer} · ${r.provider}`)),
          h("td", { "data-label": "status" }, statusBadge(r.status, r.live)),
          h("td", { "data-label": "kept", class: "numc" }, `${r.kept}/${r.n}`),
          h("td", { "data-label": "exact", class: "numc" }, r.exact ? "yes" : "no"),
          h("td", { "data-label": "TV", class: "numc" }, num(r.tv)),
          h("td", { "data-label": "gen/kept", class: "numc" }, num(r.generationsPerKept, 2)),
        );
      }),
    );
    if (!running && !reportShown) {
      reportShown = true;
      replace(reportBox, h("p", { class: "hint" }, "Loading the report…"));
      void api.experimentReport(id).then(
        (r) => replace(reportBox, r.available ? reportElement(r) : h("p", { class: "hint" }, "The HTML report renderer is not part of this build.")),
        (err: Error) => replace(reportBox, h("p", { class: "hint" }, err.message)),
      );
    }
    if (running) {
      reportShown = false;
      replace(reportBox, h("p", { class: "hint" }, "The report appears here when the experiment stops."));
    }
  };

  stopBtn.addEventListener("click", () => {
    stopBtn.disabled = true;
    void api.stopExperiment(id).catch((err: Error) => (notice.textContent = err.message));
  });
  resumeBtn.addEventListener("click", () => {
    resumeBtn.disabled = true;
    resuming = true;
    void api.resumeExperiment(id).then(refresh, (err: Error) => {
      resuming = false;
      notice.textContent = err.message;
    });
  });

  add(
    root,
    h("div", { class: "page-head" }, h("div", null, h("h1", null, e.title), sub), h("div", { class: "actions" }, stopBtn, resumeBtn, compareBtn, h("a", { class: "btn", href: "#/" }, "All runs"))),
    h("section", { class: "card" }, progress, notice),
    h(
      "details",
      { class: "card", open: e.runs.length <= 12 },
      h("summary", null, "Runs of this experiment"),
      h("table", { class: "runs" }, h("thead", null, h("tr", null, h("th", null, ""), h("th", null, "prompt"), h("th", null, "status"), h("th", null, "kept"), h("th", null, "exact"), h("th", null, "TV"), h("th", null, "gen/kept"))), table),
    ),
    h("h2", null, "Report", h("small", null, " with the paper's findings checked")),
    reportBox,
  );
  draw();

  let busy = false;
  async function refresh(): Promise<void> {
    if (busy) return;
    busy = true;
    try {
      e = await api.experiment(id);
      resuming = false;
      draw();
    } finally {
      busy = false;
    }
  }
  const timer = window.setInterval(() => {
    if (!document.hidden && (e.live.state !== "idle" || resuming)) void refresh();
  }, 1500);
  return () => window.clearInterval(timer);
}
