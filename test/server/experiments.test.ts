import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planExperiment, validateExperimentConfig } from "../../src/experiments/config.js";
import { runExperiment } from "../../src/experiments/runner.js";
import type { ApiAttempt, ApiCompare, ApiExperimentDetail, ApiExperimentListItem, ApiReport, ApiRunDetail } from "../../src/server/api-types.js";
import { dashboard, tempDir, type Client } from "./helpers.js";

describe("experiments in the dashboard", () => {
  let c: Client;
  const experimentsDir = tempDir("debiaspi-exps-");

  beforeAll(async () => {
    const config = validateExperimentConfig(
      { id: "tiny", title: "Tiny study", prompts: { id: "p", prompts: ["a nurse at work", "a judge"] }, policies: ["none", "debiaspi"], targets: "gender", n: 4, out: experimentsDir },
      "test",
    );
    const plan = planExperiment(config, { source: "test", baseDir: experimentsDir, defaultId: "tiny" });
    await runExperiment(plan);
    c = await dashboard(tempDir(), undefined, experimentsDir);
  });
  afterAll(async () => {
    await c.d.close();
  });

  it("lists experiments with headline numbers and opens their cells as runs", async () => {
    const list = ((await (await c.get("/api/experiments")).json()) as { experiments: ApiExperimentListItem[] }).experiments;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: "tiny", title: "Tiny study", runs: 4, incomplete: 0 });
    const detail = (await (await c.get("/api/experiments/tiny")).json()) as ApiExperimentDetail;
    expect(detail.runs).toHaveLength(4);
    const cell = detail.runs.find((r) => r.policy === "debiaspi")!;
    expect(cell.id).toMatch(/^tiny~/);
    expect(cell.labels.prompt).toBe(cell.prompt);
    const run = (await (await c.get(`/api/runs/${encodeURIComponent(cell.id)}`)).json()) as ApiRunDetail;
    expect(run.summary.kept).toBe(4);
    const attempts = ((await (await c.get(`/api/runs/${encodeURIComponent(cell.id)}/attempts`)).json()) as { attempts: ApiAttempt[] }).attempts;
    expect((await c.get(`/api/runs/${encodeURIComponent(cell.id)}/${attempts[0]!.image!}`)).status).toBe(200);
    const none = detail.runs.find((r) => r.policy === "none" && r.prompt === cell.prompt)!;
    const cmp = (await (await c.get(`/api/compare?ids=${encodeURIComponent(cell.id)},${encodeURIComponent(none.id)}`)).json()) as ApiCompare;
    expect(cmp.runs.map((r) => r.summary.policy)).toEqual(["debiaspi", "none"]);
  });

  it("renders the HTML report of a run and of an experiment with image URLs served by the dashboard", async () => {
    const detail = (await (await c.get("/api/experiments/tiny")).json()) as ApiExperimentDetail;
    const report = (await (await c.get("/api/experiments/tiny/report")).json()) as ApiReport;
    expect(report.available).toBe(true);
    expect(report.css).toMatch(/\.dbp-report/);
    const urls = [...report.html.matchAll(/src="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, "&"));
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls.slice(0, 3)) {
      expect(url).toMatch(/^\/api\/runs\/tiny~/);
      expect((await c.get(url)).status).toBe(200);
    }
    const runReport = (await (await c.get(`/api/runs/${encodeURIComponent(detail.runs[0]!.id)}/report`)).json()) as ApiReport;
    expect(runReport.html).toContain(detail.runs[0]!.prompt);
  });

  it("refuses experiment and cell ids that walk out of their folders", async () => {
    for (const path of ["/api/experiments/..", "/api/experiments/%2e%2e", "/api/experiments/tiny%2F..", "/api/runs/..~tiny", "/api/runs/tiny~..", "/api/runs/tiny~..%2F..%2Ftiny", "/api/runs/tiny~a~b"]) {
      expect([400, 404], path).toContain((await c.get(path)).status);
    }
  });

  it("runs one set of settings over a built-in prompt set as an experiment, with the none baseline; stop and resume", async () => {
    const bad = await c.post("/api/experiments", { promptSet: "poems", limit: 0, prompt: "a poet", attributes: ["colour"] });
    expect(bad.status).toBe(400);
    const fields = Object.fromEntries(((await bad.json()) as { errors: { field: string; message: string }[] }).errors.map((e) => [e.field, e.message]));
    expect(fields.promptSet).toMatch(/headlines, occupations/);
    expect(fields.limit).toMatch(/at least 1/);
    expect(fields.prompt).toMatch(/from the prompt set/);
    expect(fields.attributes).toMatch(/unknown attribute "colour"/);

    const res = await c.post("/api/experiments", { promptSet: "occupations", limit: 3, baseline: true, n: 6, attributes: ["gender"], seed: 2, concurrency: 1, sim: { latencyMs: 15 } });
    expect(res.status).toBe(201);
    const { id, cells } = (await res.json()) as { id: string; cells: number };
    expect(cells).toBe(6);
    expect(id).toMatch(/^occupations-none-debiaspi-/);
    await new Promise((r) => setTimeout(r, 150));
    expect((await c.post(`/api/experiments/${id}/stop`)).status).toBe(202);
    await c.d.manager.experimentSettled(id);
    const stopped = (await (await c.get(`/api/experiments/${id}`)).json()) as ApiExperimentDetail;
    expect(stopped.live.state).toBe("idle");
    expect(stopped.incomplete.length).toBeGreaterThan(0);

    expect((await c.post(`/api/experiments/${id}/resume`)).status).toBe(202);
    await c.d.manager.experimentSettled(id);
    const done = (await (await c.get(`/api/experiments/${id}`)).json()) as ApiExperimentDetail;
    expect(done.incomplete).toEqual([]);
    expect(done.runs.map((r) => r.policy).sort()).toEqual(["debiaspi", "debiaspi", "debiaspi", "none", "none", "none"]);
    expect(done.runs.filter((r) => r.policy === "debiaspi").every((r) => r.exact)).toBe(true);
    expect(done.findings.length).toBeGreaterThan(0);
    const list = ((await (await c.get("/api/experiments")).json()) as { experiments: ApiExperimentListItem[] }).experiments;
    expect(list.map((e) => e.id)).toContain(id);
  });
});
