import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planFromFile } from "../../src/experiments/config.js";
import { runExperiment } from "../../src/experiments/runner.js";
import type { ApiExperimentListItem, ApiReport, ApiRunListItem, FieldError } from "../../src/server/api-types.js";
import { dashboard, tempDir, type Client } from "./helpers.js";

describe("dashboard for users (issue 15 item 6)", () => {
  let c: Client;
  beforeAll(async () => {
    c = await dashboard();
  });
  afterAll(async () => {
    await c.d.close();
  });

  it("lists and opens an experiment whose cells have a joint target (ids with +)", async () => {
    const dir = tempDir();
    const path = join(dir, "debiaspi-paper.yaml");
    writeFileSync(path, stringify({ id: "debiaspi-paper", out: c.d.manager.experimentsDir, seed: 2, prompts: { set: "headlines", limit: 1 }, policies: ["none", "debiaspi"], targets: ["race+gender"], n: 14, settings: { concurrency: 1 } }));
    const outcome = await runExperiment(planFromFile(path));
    const list = (await (await c.get("/api/experiments")).json()) as { experiments: ApiExperimentListItem[] };
    expect(list.experiments.map((e) => e.id)).toEqual(["debiaspi-paper"]);
    const cell = outcome.manifest.cells[0]!.id;
    expect(cell).toContain("race+gender");
    const run = await c.get(`/api/runs/${encodeURIComponent(`debiaspi-paper~${cell}`)}`);
    expect(run.status).toBe(200);
    expect((await c.get("/api/experiments/debiaspi-paper")).status).toBe(200);
  });

  it("a run that kept nothing has no TV (not the 0.500 of an empty set)", async () => {
    const res = await c.post("/api/runs", { prompt: "a judge", n: 4, attributes: ["gender"], seed: 1, concurrency: 1, maxAttempts: 6, sim: { refusalRate: 1 } });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await c.d.manager.settled(id);
    const runs = ((await (await c.get("/api/runs")).json()) as { runs: ApiRunListItem[] }).runs;
    const empty = runs.find((r) => r.id === id)!;
    expect(empty.kept).toBe(0);
    expect(empty.refusals).toBe(6);
    expect(empty.tv).toBeNull();
  });

  it("validation reports every problem at once, malformed settings and the others", async () => {
    const res = await c.post("/api/runs/validate", { prompt: "", n: 0, concurrency: 0, observer: "nope", attributes: ["gender"] });
    const v = (await res.json()) as { ok: boolean; errors: FieldError[] };
    expect(v.ok).toBe(false);
    const fields = v.errors.map((e) => e.field).sort();
    expect(fields).toEqual(["concurrency", "n", "observer", "prompt"]);
    // One message for the prompt: the schema's, not a second "a prompt is needed".
    expect(v.errors.filter((e) => e.field === "prompt")).toHaveLength(1);
  });

  it("compare charts: the report's Vega-Lite charts with every run a series of one chart", async () => {
    const ids: string[] = [];
    for (const policy of ["none", "debiaspi"]) {
      const res = await c.post("/api/runs", { prompt: "a nurse", n: 6, attributes: ["gender"], seed: 3, concurrency: 1, policy });
      const { id } = (await res.json()) as { id: string };
      await c.d.manager.settled(id);
      ids.push(id);
    }
    const r = (await (await c.get(`/api/compare/charts?ids=${ids.map(encodeURIComponent).join(",")}`)).json()) as ApiReport;
    expect(r.available).toBe(true);
    const svgs = r.html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    // Gender (controlled), convergence, and the attributes not controlled.
    expect(svgs.length).toBeGreaterThanOrEqual(2);
    const gender = svgs.find((x) => x.includes("Gender: target vs achieved"))!;
    expect(gender).toContain("none");
    expect(gender).toContain("debiaspi");
    expect((await c.get("/api/compare/charts?ids=one")).status).toBe(400);
  });
});
