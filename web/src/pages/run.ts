import type { ApiAttempt, ApiEnd, ApiLiveState, ApiRunDetail, ApiSummary } from "../../../src/server/api-types.js";
import { api } from "../api.js";
import { attributeRows, cellLabel, factorRows, observedCaption, shareBars, type Labels } from "../charts.js";
import { add, h, num, pct, replace, when } from "../dom.js";
import { reportElement } from "../report.js";
import { statusBadge } from "./runs.js";

type Filter = "all" | "kept" | "apart" | "failed";

const DECISION_TEXT: Record<ApiAttempt["decision"], string> = {
  kept: "kept",
  overflow: "bin full",
  unknown: "unreadable",
  surplus: "surplus",
  refused: "refused",
  error: "error",
};

const matchesFilter = (a: ApiAttempt, f: Filter): boolean =>
  f === "all" ||
  (f === "kept" && a.decision === "kept") ||
  (f === "apart" && (a.decision === "overflow" || a.decision === "unknown" || a.decision === "surplus")) ||
  (f === "failed" && (a.decision === "refused" || a.decision === "error"));

/** The measurements of a run as tables, for when the HTML report renderer is not in this build. */
function measurementTables(s: ApiSummary, labels: Labels): HTMLElement {
  return h(
    "div",
    { class: "measurements" },
    s.factors.map((f) =>
      h(
        "table",
        { class: "data" },
        h("caption", null, `${f.attributes.map((a) => s.attributes[a]?.label ?? a).join(" × ")}: ${s.kept > 0 ? `TV ${num(f.tv)}, max |p-q| ${pct(f.maxAbsDiff, 1)}, ` : "nothing kept yet, "}${f.exact ? "every bin met" : "not every bin met"}`),
        h("thead", null, h("tr", null, h("th", null, "category"), h("th", null, "target"), h("th", null, "bin"), h("th", null, "kept"), h("th", null, "share"))),
        h(
          "tbody",
          null,
          factorRows(f, undefined, labels).map((r, _, rows) =>
            h("tr", null, h("td", null, r.label), h("td", null, pct(r.target, 1)), h("td", null, String(r.bin)), h("td", null, String(r.count)), h("td", null, rows.some((x) => x.count > 0) ? pct(r.achieved, 1) : "–")),
          ),
        ),
      ),
    ),
  );
}

/** One run, live: gallery, target-versus-achieved and convergence charts, stop and resume, then its report. */
export async function runPage(root: HTMLElement, arg: string): Promise<() => void> {
  const id = decodeURIComponent(arg);
  const detail: ApiRunDetail = await api.run(id);
  const labels: Labels = detail.labels;
  const cfg = detail.config as { n?: number; seed?: number; attributes?: string[] };
  let summary = detail.summary;
  let live: ApiLiveState = detail.live;
  const attempts: ApiAttempt[] = [];
  const seen = new Set<number>();
  let filter: Filter = "all";
  let picked: { factor: string; key: string } | undefined;

  const controlled = (): string[] => summary.factors.flatMap((f) => f.attributes);
  const caption = (a: ApiAttempt): string => observedCaption(a.labels, controlled().length > 0 ? controlled() : Object.keys(a.labels), labels) || "no person seen";
  const matchesPick = (a: ApiAttempt): boolean => {
    if (!picked) return true;
    const f = summary.factors.find((x) => x.id === picked!.factor);
    if (!f) return true;
    const parts = picked.key.split("|");
    return f.attributes.every((attr, k) => a.labels[attr] === parts[k]);
  };

  // ---- header and controls
  const badge = h("span");
  const progress = h("progress", { max: summary.n, value: summary.kept });
  const stats = h("dl", { class: "stats" });
  const stopBtn = h("button", { class: "btn danger", type: "button", "data-test": "stop" }, "Stop");
  const resumeBtn = h("button", { class: "btn", type: "button", "data-test": "resume" }, "Resume");
  const notice = h("div", { class: "notice", role: "status", "aria-live": "polite" });
  const log = h("ul", { class: "log", "aria-live": "polite" });
  const connection = h("span", { class: "conn", title: "live connection" });

  const drawHead = (): void => {
    replace(badge, statusBadge(summary.status, live.state));
    progress.max = summary.n;
    progress.value = summary.kept;
    const set = summary.discarded.overflow + summary.discarded.unknown + summary.discarded.surplus;
    replace(
      stats,
      [
        ["kept", `${summary.kept} / ${summary.n}`],
        ["attempts", String(summary.attempts)],
        ["gen / kept", num(summary.generationsPerKept, 2)],
        ["set apart", String(set)],
        ["refused", String(summary.refusals)],
        ["errors", String(summary.errors)],
        ["TV", num(summary.kept > 0 && summary.factors.length > 0 ? summary.factors.reduce((a, f) => a + f.tv, 0) / summary.factors.length : null)],
        ["exact", summary.exact ? "yes" : "no"],
        ...(summary.costUsd > 0 ? [["cost", `$${summary.costUsd.toFixed(3)}`]] : []),
      ].map(([k, v]) => h("div", null, h("dt", null, k!), h("dd", null, v!))),
    );
    stopBtn.disabled = live.state !== "running" || Boolean(live.external);
    resumeBtn.disabled = live.state !== "idle" || summary.status === "complete";
    resumeBtn.textContent = summary.status === "budget" ? "Resume with more budget" : "Resume";
    notice.textContent = live.error
      ? `The run stopped with an error: ${live.error}`
      : live.external && live.state === "running"
        ? "This run is being generated by another process (the command line, or an experiment); stop it there."
        : summary.status === "budget" || summary.status === "provider-errors" || summary.status === "observer-errors" || summary.status === "cost" ? (summary.message ?? "") : "";
  };

  // The live state comes only from the event stream (ordered with the events); the answers of stop
  // and resume can arrive after the run already moved on, so they are not used for it.
  stopBtn.addEventListener("click", () => {
    stopBtn.disabled = true;
    if (live.state === "running") {
      live = { state: "stopping" };
      drawHead();
    }
    void api.stop(id).catch((e: Error) => (notice.textContent = e.message));
  });
  resumeBtn.addEventListener("click", () => {
    resumeBtn.disabled = true;
    const more = summary.status === "budget" ? summary.attempts + Math.max(20, 5 * summary.n) : undefined;
    void api.resume(id, more).catch((e: Error) => {
      notice.textContent = e.message;
      drawHead();
    });
  });

  // ---- charts
  const chartsBox = h("div", { class: "charts" });
  const sideBox = h("div", { class: "charts" });
  // The report's convergence chart (Vega-Lite, rendered to SVG by the server), redrawn at most every 1.5 s while the run goes on.
  const convergenceBox = h("div", { class: "vega-chart", "data-test": "convergence" });
  let drawing = false;
  let again = false;
  const drawConvergence = (): void => {
    if (drawing) {
      again = true;
      return;
    }
    drawing = true;
    void api
      .convergenceChart(id)
      .then(
        (c) => (convergenceBox.innerHTML = c.svg),
        (err: Error) => replace(convergenceBox, h("p", { class: "hint" }, err.message)),
      )
      .finally(() =>
        window.setTimeout(() => {
          drawing = false;
          if (again) {
            again = false;
            drawConvergence();
          }
        }, 1500),
      );
  };
  drawConvergence();
  const convergenceCard = h("section", { class: "card chart-card" }, h("h3", null, "Convergence", h("small", null, " mean TV to the target after each kept image")), convergenceBox);
  const drawCharts = (): void => {
    replace(
      chartsBox,
      summary.factors.map((f) => {
        const title = f.attributes.map((a) => summary.attributes[a]?.label ?? a).join(" × ");
        return h(
          "section",
          { class: "card chart-card", "data-factor": f.id },
          h("h3", null, `${title}: target vs achieved`, h("small", null, summary.kept > 0 ? ` TV ${num(f.tv)}` : " nothing kept yet")),
          shareBars(factorRows(f, summary.attributes[f.attributes[0]!], labels), {
            caption: title,
            picked: picked?.factor === f.id ? picked.key : undefined,
            onPick: (key) => {
              picked = picked?.factor === f.id && picked.key === key ? undefined : { factor: f.id, key };
              drawCharts();
              drawGallery();
            },
          }),
        );
      }),
      convergenceCard,
    );
    const others = Object.values(summary.attributes).filter((a) => !a.controlled && Object.values(a.observed).some((c) => c > 0));
    replace(
      sideBox,
      others.map((a) => h("section", { class: "card chart-card" }, h("h3", null, a.label, h("small", null, ` not controlled · entropy ${num(a.normalizedEntropy, 2)}`)), shareBars(attributeRows(a, labels), { caption: a.label }))),
    );
  };

  // ---- gallery
  const gallery = h("div", { class: "shots", "data-test": "gallery" });
  const filterBar = h("div", { class: "seg shot-filters", role: "group", "aria-label": "show" });
  // Counted as attempts arrive: the stream replays a whole run on opening, so recounting per attempt would be quadratic.
  const counts: Record<Filter, number> = { all: 0, kept: 0, apart: 0, failed: 0 };
  const drawFilters = (): void => {
    const c = counts;
    replace(
      filterBar,
      (
        [
          ["all", "All"],
          ["kept", "Kept"],
          ["apart", "Set apart"],
          ["failed", "Refused / errors"],
        ] as [Filter, string][]
      ).map(([f, text]) =>
        h(
          "button",
          {
            type: "button",
            class: filter === f ? "on" : "",
            "aria-pressed": String(filter === f),
            onclick: () => {
              filter = f;
              drawGallery();
            },
          },
          `${text} (${c[f]})`,
        ),
      ),
      picked
        ? h(
            "button",
            {
              type: "button",
              class: "on pick",
              onclick: () => {
                picked = undefined;
                drawCharts();
                drawGallery();
              },
            },
            `${cellLabel(labels, summary.factors.find((f) => f.id === picked!.factor)?.attributes ?? [], picked.key)} ✕`,
          )
        : null,
    );
  };
  const card = (a: ApiAttempt): HTMLElement => {
    const title = `#${a.i} ${DECISION_TEXT[a.decision]}\nprompt: ${a.prompt}${a.requested ? `\nasked for: ${Object.values(a.requested).join(", ")}` : ""}\nseen: ${caption(a)}`;
    if (!a.image) {
      return h("figure", { class: `shot failed ${a.decision}`, title, "data-seq": a.seq }, h("div", { class: "why" }, h("strong", null, DECISION_TEXT[a.decision]), h("span", null, a.refusal ?? a.error ?? "")));
    }
    return h(
      "figure",
      { class: `shot ${a.decision}`, title, "data-seq": a.seq },
      h(
        "a",
        { href: api.imageUrl(id, a.image), target: "_blank", rel: "noopener", class: "full" },
        h("img", { src: api.thumbUrl(id, a.image), alt: `image ${a.i}: ${caption(a)}`, loading: "lazy", width: 128, height: 160 }),
      ),
      h("figcaption", null, caption(a)),
      a.decision !== "kept" ? h("span", { class: "tag" }, DECISION_TEXT[a.decision]) : null,
    );
  };
  const drawGallery = (): void => {
    drawFilters();
    const shown = attempts.filter((a) => matchesFilter(a, filter) && matchesPick(a));
    replace(gallery, shown.length > 0 ? shown.map(card) : h("p", { class: "hint" }, attempts.length === 0 ? "Images appear here as they arrive." : "Nothing here for this filter."));
  };
  const addAttempt = (a: ApiAttempt): void => {
    if (seen.has(a.seq)) return;
    seen.add(a.seq);
    attempts.push(a);
    for (const f of Object.keys(counts) as Filter[]) if (matchesFilter(a, f)) counts[f] += 1;
    if (a.decision === "refused" || a.decision === "error") {
      log.prepend(h("li", { class: a.decision }, h("strong", null, `#${a.i} ${DECISION_TEXT[a.decision]}: `), a.refusal ?? a.error ?? ""));
      while (log.children.length > 6) log.lastElementChild!.remove();
    }
    if (matchesFilter(a, filter) && matchesPick(a)) {
      gallery.querySelector(":scope > p.hint")?.remove();
      gallery.append(card(a));
    }
    drawFilters();
  };

  // ---- report
  const reportBox = h("div", { class: "report" });
  let reportFor = -1;
  const loadReport = (): void => {
    if (live.state !== "idle" || reportFor === summary.attempts) return;
    reportFor = summary.attempts;
    void api.report(id).then(
      (r) => {
        replace(reportBox, r.available ? reportElement(r) : measurementTables(summary, labels));
      },
      () => replace(reportBox, measurementTables(summary, labels)),
    );
  };

  add(root, 
    h(
      "div",
      { class: "page-head run-head" },
      h("div", null, h("h1", null, summary.prompt), h("div", { class: "sub" }, `${summary.policy} · ${summary.provider} · observer ${summary.observer} · N ${summary.n} · seed ${cfg.seed ?? summary.seed} · ${when(detail.createdAt)}`)),
      h("div", { class: "actions" }, stopBtn, resumeBtn, h("a", { class: "btn", href: `#/`, title: "pick runs to compare in the list" }, "All runs")),
    ),
    h("section", { class: "card status" }, h("div", { class: "status-line" }, badge, progress, connection), stats, notice, log),
    chartsBox,
    h("section", null, h("div", { class: "gallery-head" }, h("h2", null, "Images"), filterBar), gallery),
    h("details", { class: "side" }, h("summary", null, "Attributes not controlled (side effects)"), sideBox),
    h("section", null, h("h2", { id: "report" }, "Report"), reportBox),
  );
  drawHead();
  drawCharts();
  drawGallery();

  // ---- live updates: the events written so far, then new ones as they come
  const es = new EventSource(api.eventsUrl(id));
  es.addEventListener("open", () => connection.classList.remove("down"));
  es.addEventListener("error", () => connection.classList.add("down"));
  es.addEventListener("attempt", (e) => addAttempt(JSON.parse((e as MessageEvent<string>).data) as ApiAttempt));
  es.addEventListener("end", (e) => {
    const end = JSON.parse((e as MessageEvent<string>).data) as ApiEnd;
    if (end.message) notice.textContent = end.message;
  });
  es.addEventListener("summary", (e) => {
    summary = JSON.parse((e as MessageEvent<string>).data) as ApiSummary;
    drawHead();
    drawCharts();
    drawConvergence();
    loadReport();
  });
  es.addEventListener("state", (e) => {
    live = JSON.parse((e as MessageEvent<string>).data) as ApiLiveState;
    drawHead();
    loadReport();
  });
  return () => es.close();
}
