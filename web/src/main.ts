import "./style.css";
import { h, replace } from "./dom.js";
import { comparePage } from "./pages/compare.js";
import { experimentPage } from "./pages/experiment.js";
import { newRunPage } from "./pages/new-run.js";
import { runPage } from "./pages/run.js";
import { runsPage } from "./pages/runs.js";

/** A page draws itself into `root` and returns what to do when the user leaves it (close streams). `arg` is the route's part as written in the URL (still encoded). */
export type Page = (root: HTMLElement, arg: string) => Promise<(() => void) | void>;

const routes: [RegExp, Page, string][] = [
  [/^#?\/?$/, runsPage, "runs"],
  [/^#\/new$/, newRunPage, "new"],
  [/^#\/runs\/(.+)$/, runPage, "runs"],
  [/^#\/compare\/(.+)$/, comparePage, "runs"],
  [/^#\/experiments\/(.+)$/, experimentPage, "runs"],
];

const app = document.getElementById("app")!;
let leave: (() => void) | void;
let generation = 0;

function showError(root: HTMLElement, e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  replace(root, h("div", { class: "error-box", role: "alert" }, h("strong", null, "Something went wrong. "), msg));
}

async function route(): Promise<void> {
  const mine = ++generation;
  leave?.();
  leave = undefined;
  const hash = location.hash || "#/";
  const found = routes.map(([re, page, nav]) => ({ m: re.exec(hash), page, nav })).find((r) => r.m);
  for (const a of document.querySelectorAll<HTMLAnchorElement>("[data-nav]")) a.classList.toggle("active", a.dataset.nav === found?.nav);
  const root = h("div", { class: "page" });
  replace(app, root);
  if (!found) {
    replace(root, h("p", null, "No such page. ", h("a", { href: "#/" }, "See the runs.")));
    return;
  }
  try {
    const cleanup = await found.page(root, found.m![1] ?? "");
    if (mine !== generation) cleanup?.();
    else leave = cleanup;
  } catch (e) {
    if (mine === generation) showError(root, e);
  }
  window.scrollTo(0, 0);
}

window.addEventListener("hashchange", () => void route());
void route();
