import type { ApiReport } from "../../src/server/api-types.js";
import { h } from "./dom.js";

/**
 * Puts the HTML report's sections into the page: its scoped stylesheet once, the markup (rendered and
 * escaped by the server), and the gallery filter buttons wired up (the page's policy allows no inline
 * script, so the report's own small script does not run here).
 */
export function reportElement(report: ApiReport): HTMLElement {
  if (report.css && !document.getElementById("dbp-report-css")) {
    const style = h("style", { id: "dbp-report-css" });
    style.textContent = report.css;
    document.head.appendChild(style);
  }
  const body = h("div", { class: "report-body" });
  body.innerHTML = report.html;
  // In-report links ("#dbp-summary") scroll to their section; the address keeps the dashboard's page (#/runs/...).
  body.addEventListener("click", (ev) => {
    const link = (ev.target as Element | null)?.closest<HTMLAnchorElement>('a[href^="#"]');
    const href = link?.getAttribute("href") ?? "";
    if (!link || href.startsWith("#/")) return;
    ev.preventDefault();
    body.querySelector(`[id="${CSS.escape(decodeURIComponent(href.slice(1)))}"]`)?.scrollIntoView({ behavior: "smooth", block: "start" });
  });
  for (const bar of body.querySelectorAll<HTMLElement>(".filters")) {
    const gallery = bar.parentElement?.querySelector<HTMLElement>(".gallery");
    if (!gallery) continue;
    bar.hidden = false;
    bar.addEventListener("click", (ev) => {
      const button = (ev.target as Element | null)?.closest<HTMLButtonElement>("button[data-filter]");
      if (!button) return;
      const f = button.dataset.filter ?? "all";
      gallery.dataset.filter = f;
      for (const b of bar.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === button));
      if (f !== "all") for (const d of gallery.querySelectorAll<HTMLDetailsElement>("details")) d.open = true;
    });
  }
  return body;
}
