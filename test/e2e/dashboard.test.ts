/**
 * End-to-end: the dashboard in a real browser (Debian's chromium driven by playwright-core).
 * Skipped, with a message, only when chromium is not installed; `.ci/run` installs it.
 * Set DASHBOARD_SHOTS=/some/dir to keep screenshots of every page at phone and desktop width.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { parse, stringify } from "yaml";
import type { ApiRunDetail } from "../../src/server/api-types.js";
import { planFromFile } from "../../src/experiments/config.js";
import { runExperiment } from "../../src/experiments/runner.js";
import { defaultWebRoot, startDashboard, type Dashboard } from "../../src/server/server.js";
import { packageRoot } from "../../src/util/paths.js";
import { tempDir } from "../server/helpers.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`test/e2e: skipped: no chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
const SHOTS = process.env.DASHBOARD_SHOTS;

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

describe.skipIf(!haveChromium)("dashboard in chromium", () => {
  let d: Dashboard;
  let browser: Browser;
  let desktop: BrowserContext;
  let phone: BrowserContext;

  const shot = async (page: Page, name: string): Promise<void> => {
    if (!SHOTS) return;
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `dashboard-${name}.png`), fullPage: true });
  };
  const api = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${d.origin}${path}`, {
      method,
      headers: { Authorization: `Bearer ${d.token}`, "Content-Type": "application/json" },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return res.json();
  };
  /** Opens the printed URL (token in the query) and lands on `hash`. */
  const open = async (ctx: BrowserContext, hash = "#/"): Promise<Page> => {
    const page = await ctx.newPage();
    await page.goto(`${d.url}${hash}`);
    return page;
  };

  beforeAll(async () => {
    if (!existsSync(join(defaultWebRoot(), "index.html"))) {
      execFileSync(process.execPath, [join(packageRoot(), "node_modules", "vite", "bin", "vite.js"), "build", "--config", "web/vite.config.ts"], { cwd: packageRoot(), stdio: "ignore" });
    }
    d = await startDashboard({ runsDir: tempDir("debiaspi-e2e-"), experimentsDir: tempDir("debiaspi-e2e-exp-"), port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    });
    desktop = await browser.newContext({ viewport: DESKTOP });
    phone = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await d?.close();
  });

  it("refuses a visit without the token", async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const res = await page.goto(`${d.origin}/`);
    expect(res?.status()).toBe(401);
    await expect(page.textContent("h1")).resolves.toBe("Access token needed");
    const status = await page.evaluate(async () => (await fetch("/api/runs")).status);
    expect(status).toBe(401);
    await ctx.close();
  });

  it("starts a sim run from the form, fills gallery and charts live, stops, resumes and shows the report", async () => {
    const page = await open(desktop);
    // The token moves from the address bar into a cookie.
    expect(page.url()).toBe(`${d.origin}/#/`);
    await page.getByText("No runs yet").waitFor();
    await shot(page, "empty-desktop");

    await page.click("a[href='#/new']");
    await page.fill("[data-test=prompt]", "a photo of the face of a CEO");
    // Invalid input is explained next to its field before anything starts.
    await page.fill("input[name=n]", "0");
    await page.locator("[data-field=n] .field-error").filter({ hasText: "at least 1" }).waitFor();
    await expect(page.isDisabled("[data-test=start]")).resolves.toBe(true);
    await page.fill("input[name=n]", "8");
    await page.locator("[data-field=n] .field-error:empty").waitFor({ state: "attached" });

    // Gender only, weighted 75/25 with sliders that keep summing to 100 %.
    await page.uncheck("input[name=attributes][value=race]");
    await page.check("[data-field='target.gender'] input[value=weights]");
    await page.fill("[data-field='target.gender'] input[data-cat=female]", "75");
    await expect(page.textContent("[data-field='target.gender'] .slider:nth-child(2) output")).resolves.toBe("25 %");
    await page.click("details summary");
    await page.fill("input[name=concurrency]", "1");
    await page.fill("input[name=seed]", "3");
    await page.fill("input[name=latency]", "250");
    await shot(page, "form-desktop");
    await page.locator("[data-test=start]:not([disabled])").waitFor();
    await page.click("[data-test=start]");

    await page.waitForURL(/#\/runs\//);
    const id = decodeURIComponent(page.url().split("#/runs/")[1]!);
    // Images arrive one by one with their labels; the charts follow.
    await page.locator("[data-test=gallery] figure.shot img").nth(1).waitFor();
    await expect(page.locator(".badge").first().textContent()).resolves.toBe("running");
    await page.click("[data-test=stop]");
    await page.locator(".badge", { hasText: "stopped" }).waitFor();
    const stoppedAt = await page.locator("[data-test=gallery] figure.shot").count();
    expect(stoppedAt).toBeGreaterThanOrEqual(2);
    const stopped = (await api("GET", `/api/runs/${id}`)) as ApiRunDetail;
    expect(stopped.summary.status).toBe("incomplete");
    expect(stopped.summary.kept).toBeLessThan(8);
    await shot(page, "run-stopped-desktop");

    await page.click("[data-test=resume]");
    await page.locator(".badge", { hasText: "complete" }).waitFor({ timeout: 20_000 });
    const done = (await api("GET", `/api/runs/${id}`)) as ApiRunDetail;
    expect(done.summary.kept).toBe(8);
    expect(done.summary.exact).toBe(true);
    expect(done.summary.factors[0]!.observed).toEqual({ female: 6, male: 2 });
    await page.locator("[data-test=gallery] figure.shot.kept").nth(7).waitFor();
    // Every kept image loaded and is captioned with what the observer saw.
    const loaded = await page.$$eval("[data-test=gallery] figure.kept img", (imgs) => imgs.filter((i) => (i as HTMLImageElement).naturalWidth > 0).length);
    expect(loaded).toBe(8);
    // The gallery loads thumbnails; each links its full image.
    const links = await page.$$eval("[data-test=gallery] figure.kept a", (as) => as.map((a) => [(a as HTMLAnchorElement).getAttribute("href"), a.querySelector("img")?.getAttribute("src")]));
    expect(links).toHaveLength(8);
    for (const [href, src] of links) expect(href).toBe(src!.replace("/thumbs/", "/images/"));
    const captions = await page.$$eval("[data-test=gallery] figure.kept figcaption", (els) => els.map((e) => e.textContent));
    expect(captions.filter((c) => c === "Female")).toHaveLength(6);
    // Target-versus-achieved bars and the convergence line.
    await expect(page.locator("[data-factor=gender] .bar-value").allTextContents()).resolves.toEqual(["6/6 75 %", "2/2 25 %"]);
    // The convergence line is the report's Vega-Lite chart, rendered by the server.
    await page.locator("[data-test=convergence] svg[role=img] path").first().waitFor();
    await expect(page.locator(".line-chart").count()).resolves.toBe(0);
    // Clicking a bar filters the gallery to that category.
    await page.click("[data-factor=gender] .bar-row:nth-of-type(2)");
    await expect(page.locator("[data-test=gallery] figure.shot").count()).resolves.toBe(2);
    await page.click("[data-factor=gender] .bar-row:nth-of-type(2)");
    // The report; its table of contents scrolls within the page and keeps the dashboard's address.
    await page.locator(".report .dbp-report").waitFor();
    await page.locator(".report a[href^='#dbp-']").last().click();
    expect(page.url()).toContain("#/runs/");
    await expect(page.locator("h1").first().textContent()).resolves.toBe("a photo of the face of a CEO");
    await shot(page, "run-desktop");

    const mobile = await open(phone, `#/runs/${encodeURIComponent(id)}`);
    await mobile.locator("[data-test=gallery] figure.kept").nth(7).waitFor();
    await mobile.locator(".report > *").first().waitFor();
    const overflow = await mobile.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(mobile, "run-phone");
    await mobile.close();

    const form = await open(phone, "#/new");
    await form.locator("[data-test=prompt]").waitFor();
    await form.check("input[name=joint]");
    await form.check("[data-field^='jointTarget.'] input[value=weights]");
    await expect(form.locator("table.grid input").count()).resolves.toBe(14);
    await form.fill("input[name=n]", "-3");
    await form.locator("[data-field=n].invalid").waitFor();
    await shot(form, "form-phone");
    await form.close();
    await page.close();
  }, 60_000);

  it("shows two browsers the same live run, and compares two runs side by side", async () => {
    // A model that refuses a quarter of the requests: refusals show up as they happen.
    const settings = { prompt: "a nurse at work", n: 8, attributes: ["gender"], seed: 5, concurrency: 1, sim: { latencyMs: 60, refusalRate: 0.25 } };
    const { id } = (await api("POST", "/api/runs", settings)) as { id: string };
    const [a, b] = await Promise.all([open(desktop, `#/runs/${encodeURIComponent(id)}`), open(phone, `#/runs/${encodeURIComponent(id)}`)]);
    await Promise.all([a, b].map((p) => p.locator(".badge", { hasText: "complete" }).waitFor({ timeout: 20_000 })));
    const seqs = async (p: Page): Promise<string[]> => p.$$eval("[data-test=gallery] figure", (els) => els.map((e) => e.getAttribute("data-seq") ?? ""));
    await Promise.all([a, b].map((p) => p.locator("[data-test=gallery] figure.kept").nth(7).waitFor()));
    expect(await seqs(a)).toEqual(await seqs(b));
    const live = (await api("GET", `/api/runs/${id}`)) as ApiRunDetail;
    expect(live.summary.refusals).toBeGreaterThan(0);
    for (const p of [a, b]) {
      await expect(p.locator("[data-test=gallery] figure.refused").count()).resolves.toBe(live.summary.refusals);
      await expect(p.locator(".log li.refused").count()).resolves.toBe(Math.min(6, live.summary.refusals));
    }
    await shot(a, "run-refusals-desktop");
    await shot(b, "run-refusals-phone");
    expect(await a.locator("[data-factor=gender] .bar-value").allTextContents()).toEqual(await b.locator("[data-factor=gender] .bar-value").allTextContents());
    await b.close();

    const { id: none } = (await api("POST", "/api/runs", { ...settings, policy: "none", sim: { latencyMs: 0, refusalRate: 0.25 } })) as { id: string };
    await d.manager.settled(none);
    await a.goto(`${d.origin}/#/`);
    await a.locator(`tr[data-run="${id}"] input`).check();
    await a.locator(`tr[data-run="${none}"] input`).check();
    await shot(a, "runs-desktop");
    await expect(a.locator(`tr[data-run="${id}"] td[data-label=refused]`).textContent()).resolves.toBe(String(live.summary.refusals));
    await a.click("[data-test=compare]");
    await a.waitForURL(/#\/compare\//);
    await a.locator("table.compare").first().waitFor();
    const heads = await a.locator("table.compare").first().locator("thead th").allTextContents();
    expect(heads.slice(1).sort()).toEqual(["debiaspi", "none"]);
    // The report's charts (server-rendered Vega-Lite SVG): both runs are series of one chart, so they share one scale.
    const charts = a.locator("[data-test=compare-charts] .dbp-report");
    await charts.waitFor();
    const svgs = charts.locator("svg");
    await expect(svgs.count()).resolves.toBeGreaterThanOrEqual(2); // gender, convergence
    await expect(a.locator(".line-chart").count()).resolves.toBe(0);
    await expect(a.locator(".side-by-side .bar-row").count()).resolves.toBe(0);
    const first = await svgs.first().textContent();
    expect(first).toContain("debiaspi");
    expect(first).toContain("none");
    // The runs list counts refusals only in its "refused" column.
    const listed = (await api("GET", "/api/runs")) as { runs: { id: string; refusals: number; errors: number }[] };
    const nurse = listed.runs.find((r) => r.id === id)!;
    const thumbs = await a.$$eval(".shots.small img", (imgs) => imgs.map((i) => i.getAttribute("src") ?? ""));
    expect(thumbs.length).toBeGreaterThan(0);
    for (const src of thumbs) expect(src).toMatch(/\/thumbs\//);
    expect(nurse.refusals).toBe(live.summary.refusals);
    await shot(a, "compare-desktop");

    const p = await open(phone, "#/");
    await p.locator("tr[data-run]").nth(1).waitFor();
    await shot(p, "runs-phone");
    await p.goto(`${d.origin}/#/compare/${encodeURIComponent(id)},${encodeURIComponent(none)}`);
    await p.locator("table.compare").first().waitFor();
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(p, "compare-phone");
    await p.close();
    await a.close();
  }, 60_000);

  it("runs an experiment over a built-in prompt set from the form, with the none baseline", async () => {
    const page = await open(desktop, "#/new");
    await page.selectOption("select[name=promptSet]", "occupations");
    await page.check("[data-test=experiment-mode]");
    await page.fill("input[name=limit]", "2");
    await page.fill("input[name=n]", "6");
    await page.uncheck("input[name=attributes][value=race]");
    await expect(page.isDisabled("[data-test=prompt]")).resolves.toBe(true);
    await page.getByText("4 runs of N images each").waitFor();
    await shot(page, "form-experiment-desktop");
    await page.click("[data-test=start]");
    await page.waitForURL(/#\/experiments\//);
    await page.getByText("4 / 4 runs done").waitFor({ timeout: 20_000 });
    await page.locator(".report .dbp-report").waitFor({ timeout: 20_000 });
    await expect(page.locator("tr[data-run]").count()).resolves.toBe(4);
    await shot(page, "experiment-desktop");
    const url = page.url();
    const mobile = await phone.newPage();
    await mobile.goto(url);
    await mobile.locator(".report .dbp-report").waitFor({ timeout: 20_000 });
    const overflow = await mobile.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(mobile, "experiment-phone");
    await mobile.close();
    await page.close();
  }, 60_000);

  it("lists and opens the paper study's experiment (joint target: cell ids with +), labels whole on a phone", async () => {
    // The bundled study, reduced to one headline of its joint part so the test stays fast: the same id and cell id shape.
    const study = parse(readFileSync(join(packageRoot(), "studies", "debiaspi-paper.yaml"), "utf8")) as { parts: { id: string }[] } & Record<string, unknown>;
    const joint = study.parts.find((p) => p.id === "joint")!;
    const dir = tempDir("debiaspi-e2e-study-");
    const path = join(dir, "debiaspi-paper.yaml");
    writeFileSync(path, stringify({ ...study, out: d.manager.experimentsDir, parts: [{ ...joint, prompts: { set: "headlines", limit: 1 }, policies: ["none", "debiaspi"] }] }));
    const outcome = await runExperiment(planFromFile(path));
    expect(outcome.manifest.id).toBe("debiaspi-paper");
    expect(outcome.manifest.cells.every((c) => c.id.includes("race+gender"))).toBe(true);

    const page = await open(desktop, "#/");
    await page.locator(`a[href="#/experiments/debiaspi-paper"]`).click();
    await page.waitForURL(/#\/experiments\/debiaspi-paper$/);
    await page.locator("tr[data-run]").nth(1).waitFor();
    await expect(page.locator("tr[data-run]").count()).resolves.toBe(2);
    await page.locator(".report .dbp-report").waitFor({ timeout: 20_000 });
    await shot(page, "paper-study-desktop");
    const cell = page.locator("tr[data-run] td.what a").last();
    const prompt = await cell.textContent();
    await cell.click();
    await page.waitForURL(/#\/runs\/debiaspi-paper~/);
    await expect(page.locator("h1").first().textContent()).resolves.toBe(prompt);
    await page.locator("[data-factor='race+gender'] .bar-row").nth(13).waitFor();

    // On a phone the joint cells' labels ("East Asian · Female") wrap instead of being cut.
    const mobile = await open(phone, page.url().slice(page.url().indexOf("#")));
    await mobile.locator("[data-factor='race+gender'] .bar-row").nth(13).waitFor();
    const cut = await mobile.$$eval("[data-factor='race+gender'] .bar-label", (els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent));
    expect(cut).toEqual([]);
    const labels = await mobile.locator("[data-factor='race+gender'] .bar-label").allTextContents();
    expect(labels).toContain("East Asian · Female");
    await mobile.locator("[data-factor='race+gender']").screenshot({ path: join(SHOTS ?? dir, "dashboard-joint-bars-phone.png") });
    await mobile.close();
    await page.close();
  }, 60_000);

  it("the form shows every field error at once, and takes provider settings as key = value rows", async () => {
    const page = await open(desktop, "#/new");
    await page.fill("[data-test=prompt]", "a photo of a judge");
    await page.fill("input[name=n]", "0");
    await page.click("details summary");
    await page.fill("input[name=concurrency]", "0");
    // Both touched fields show their error together (the live check returns every error at once); the
    // start button stays disabled while they do. (Clicking it here raced with that check under load.)
    await page.locator("[data-field=n] .field-error").filter({ hasText: "at least 1" }).waitFor();
    await page.locator("[data-field=concurrency] .field-error").filter({ hasText: "at least 1" }).waitFor();
    await expect(page.isDisabled("[data-test=start]")).resolves.toBe(true);
    await page.fill("input[name=n]", "4");
    await page.fill("input[name=concurrency]", "1");

    // A calibration file is checked where it is typed (issue 13: the form takes a calibration).
    await page.fill("input[name=calibration]", "/no/such/cal.json");
    await page.locator("[data-field=calibration] .field-error").filter({ hasText: "no such file" }).waitFor();
    await page.fill("input[name=calibration]", "");
    await page.locator("[data-field=calibration] .field-error:empty").waitFor({ state: "attached" });

    // ComfyUI needs its workflow: the provider field says so until the setting is given.
    await page.selectOption("select[name=provider]", "comfyui");
    await page.fill("input[name=model]", "http://127.0.0.1:9");
    await page.locator("[data-field=provider] .field-error").filter({ hasText: "workflow" }).waitFor();
    await page.click("[data-test=add-provider-option]");
    await page.fill("input[name=providerOptionKey]", "workflow");
    await page.fill("input[name=providerOptionValue]", join(packageRoot(), "test", "fixtures", "comfyui-workflow.json"));
    await page.locator("[data-field=provider] .field-error:empty").waitFor({ state: "attached" });
    await page.locator("[data-test=start]:not([disabled])").waitFor();
    await shot(page, "form-provider-options-desktop");
    await page.close();
  }, 60_000);
});
