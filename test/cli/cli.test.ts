import { readRunImage } from "../../src/store/images.js";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, tempDir } from "./helpers.js";
import { json, startFakeServer } from "../providers/fake-server.js";

const fast = ["--latency", "0", "--no-progress"];

describe("debiaspi run", () => {
  it("prints one JSON object with the documented fields and writes a run folder", async () => {
    const out = tempDir();
    const r = await cli("run", "a photo of the face of a CEO", "--attributes", "gender,race", "--n", "28", "--seed", "7", "--out", out, "--json", ...fast);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, any>;
    expect(j.kept).toBe(28);
    expect(j.exact).toBe(true);
    expect(j.generations).toBeGreaterThanOrEqual(28);
    expect(j.runDir).toContain(out);
    for (const a of ["gender", "race"]) {
      expect(Object.keys(j.attributes[a])).toEqual(expect.arrayContaining(["target", "observed", "tv", "maxAbsDiff", "kl"]));
    }
    expect(j.attributes.gender.observed).toEqual({ female: 14, male: 14 });
    expect(j.attributes.gender.target).toEqual({ female: 0.5, male: 0.5 });
    const dir = j.runDir as string;
    expect(readdirSync(dir).sort()).toEqual(["events.jsonl", "images", "pending", "run.json"]);
    const lines = readFileSync(join(dir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === "attempt")).toHaveLength(j.attempts);
    expect(lines.at(-1)).toMatchObject({ type: "end", reason: "complete" });
    // sim's portraits are named, not written: each kept one is drawn from its name when read (image/drawing.ts).
    expect(readdirSync(join(dir, "images"))).toEqual([]);
    for (const l of lines.filter((x) => x.decision === "kept")) {
      expect(l.image).toMatch(/^images\/portrait-v1_/);
      expect(Buffer.from(readRunImage(dir, l.image)!.bytes.subarray(0, 8)).toString("hex")).toBe("89504e470d0a1a0a");
    }
    expect(readdirSync(join(dir, "pending"))).toEqual([]);
  });

  it("shows tables per attribute with target, intervals and distances", async () => {
    const out = tempDir();
    const r = await cli("run", "a nurse", "--target", "age=18-29:1,30-44:2,45-64:2,65+:1", "--n", "12", "--seed", "1", "--out", out, ...fast);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("complete, every bin met exactly");
    expect(r.stdout).toMatch(/30-44\s+│ 33\.3%\s+│ 4\s+│ 4 /);
    expect(r.stdout).toContain("TV 0.000  max|p-q| 0.000  KL 0.000  exact yes");
    const dir = /folder: (.+)/.exec(r.stdout)![1]!;
    const shown = await cli("show", dir);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("Age · age");
    const json = JSON.parse((await cli("show", dir, "--json")).stdout);
    expect(json.attributes.age.observed).toEqual({ "18-29": 2, "30-44": 4, "45-64": 4, "65+": 2 });
  });

  it("reads the same settings from a YAML config as from flags", async () => {
    const out = tempDir();
    const cfg = join(out, "run.yaml");
    writeFileSync(cfg, `prompt: a photo of a judge\nn: 14\nattributes: [gender]\njoint: [[race, age]]\npolicy: debiaspi\nseed: 5\nconcurrency: 1\nout: ${out}\n`);
    const fromFile = JSON.parse((await cli("run", "--config", cfg, "--json", "--no-progress")).stdout);
    const fromFlags = JSON.parse(
      (await cli("run", "a photo of a judge", "--n", "14", "--attributes", "gender", "--joint", "race,age", "--seed", "5", "--concurrency", "1", "--out", out, "--json", "--no-progress")).stdout,
    );
    expect(fromFile.attributes).toEqual(fromFlags.attributes);
    expect(fromFile.generations).toBe(fromFlags.generations);
    // flags override the file
    const over = JSON.parse((await cli("run", "--config", cfg, "--n", "6", "--json", "--no-progress")).stdout);
    expect(over.kept).toBe(6);
  });

  it("compares policies side by side with side effects against none", async () => {
    const out = tempDir();
    const r = await cli("compare", "a photo of the face of a CEO", "--attributes", "race", "--n", "40", "--seed", "2", "--out", out, ...fast);
    expect(r.code).toBe(0);
    for (const p of ["none", "eip", "random", "quota", "debiaspi"]) expect(r.stdout).toMatch(new RegExp(`│ ${p}\\s`));
    expect(r.stdout).toContain("Side effects on attributes that were not controlled");
    const j = JSON.parse((await cli("compare", "a CEO", "--attributes", "race", "--n", "20", "--seed", "2", "--out", out, "--json", "--policies", "none,debiaspi", ...fast)).stdout);
    expect(j.runs.map((x: { policy: string }) => x.policy)).toEqual(["none", "debiaspi"]);
    expect(j.runs[1].exact).toBe(true);
    expect(j.runs[1].crossEffects.map((c: { attribute: string }) => c.attribute)).toContain("skin_tone");
  });
});

describe("user-defined categories", () => {
  it("controls professions from --professions and categories added in the config", async () => {
    const out = tempDir();
    const prof = JSON.parse((await cli("run", "a hospital worker", "--professions", "nurse,surgeon,janitor", "--attributes", "profession,gender", "--n", "12", "--seed", "3", "--out", out, "--json", ...fast)).stdout);
    expect(prof.exact).toBe(true);
    expect(prof.attributes.profession.observed).toEqual({ nurse: 4, surgeon: 4, janitor: 4 });
    const cfg = join(out, "nb.yaml");
    writeFileSync(
      cfg,
      "prompt: a photo of a teacher\nn: 9\nattributes: [gender]\nseed: 2\ntaxonomy:\n  attributes:\n    gender:\n      categories:\n        - { id: non_binary, label: Non-binary, phrase: non-binary person, aliases: [non-binary] }\n",
    );
    const nb = JSON.parse((await cli("run", "--config", cfg, "--out", out, "--json", ...fast)).stdout);
    expect(nb.attributes.gender.observed).toEqual({ female: 3, male: 3, non_binary: 3 });
  });
});

describe("bad input: one line, exit code 2, no stack trace", () => {
  const cases: [string, string[], RegExp][] = [
    ["unknown attribute", ["run", "a CEO", "--attributes", "religion"], /unknown attribute "religion"; accepted: gender, race, age, skin_tone, body_type or profession/],
    ["unknown category", ["run", "a CEO", "--target", "gender=robot:1"], /unknown category "robot" for attribute "gender"; accepted: female or male/],
    ["negative weight", ["run", "a CEO", "--target", "gender=female:-1,male:1"], /weight -1 of female is negative/],
    ["all-zero weights", ["run", "a CEO", "--target", "gender=female:0,male:0"], /all weights are zero/],
    ["N < 1", ["run", "a CEO", "--n", "0"], /--n: must be at least 1/],
    ["N absurd", ["run", "a CEO", "--n", "999999999"], /--n: must be at most 100000/],
    ["N not a number", ["run", "a CEO", "--n", "ten"], /--n must be a whole number, got "ten"/],
    ["joint twice", ["run", "a CEO", "--joint", "race,race"], /joint target "race\+race" names "race" twice/],
    ["unknown policy", ["run", "a CEO", "--policy", "magic"], /argument 'magic' is invalid. Allowed choices are none, eip, random, quota, debiaspi/],
    ["unknown provider", ["run", "a CEO", "--provider", "dalle9"], /unknown provider "dalle9"; accepted: sim/],
    ["unknown observer", ["run", "a CEO", "--observer", "oracle"], /unknown observer "oracle"; accepted: requested, self-report/],
    ["observer blind to a controlled attribute", ["run", "a CEO", "-a", "gender,race", "--observer", "skin-tone"], /observer skin-tone cannot see gender, race \(controlled by this run\); it labels skin_tone only/],
    ["faces cannot see race", ["run", "a CEO", "-a", "race", "--observer", "faces"], /observer faces cannot see race .*--check faces/],
    ["no prompt", ["run"], /no prompt given/],
    ["missing config", ["run", "--config", "/nonexistent/x.yaml"], /cannot read config file \/nonexistent\/x.yaml: no such file/],
    ["unreadable run folder", ["show", "/nonexistent/run"], /run folder \/nonexistent\/run does not exist/],
    ["unknown option", ["run", "a CEO", "--colour", "red"], /unknown option '--colour'/],
  ];
  for (const [name, args, msg] of cases) {
    it(name, async () => {
      const out = tempDir();
      const r = await cli(...args, ...(args[0] === "run" ? ["--out", out, "--no-progress"] : []));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe("");
      // nothing was started
      expect(readdirSync(out)).toEqual([]);
    });
  }

  it("malformed YAML names the line", async () => {
    const dir = tempDir();
    const cfg = join(dir, "bad.yaml");
    writeFileSync(cfg, "prompt: a CEO\nn: [1, 2\nattributes: gender\n");
    const r = await cli("run", "--config", cfg);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config file .*bad\.yaml is not valid YAML at line \d+/);
  });

  it("a config with an unknown key or a wrong type says which and what is accepted", async () => {
    const dir = tempDir();
    const cfg = join(dir, "typo.yaml");
    writeFileSync(cfg, "prompt: a CEO\nnn: 5\n");
    const r = await cli("run", "--config", cfg);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown key "nn"; accepted: prompt, n, attributes/);
    writeFileSync(cfg, "prompt: a CEO\noverflow: sometimes\n");
    expect((await cli("run", "--config", cfg)).stderr).toMatch(/overflow: must be one of "keep", "discard"/);
  });

  it("a folder that is not a run says so", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "x"));
    writeFileSync(join(dir, "x", "run.json"), "{ not json");
    const r = await cli("show", join(dir, "x"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not readable: run\.json is missing or not valid JSON/);
    writeFileSync(join(dir, "x", "run.json"), JSON.stringify({ format: "something-else" }));
    expect((await cli("resume", join(dir, "x"))).stderr).toMatch(/format "something-else"; this version reads debiaspi-run\/1/);
  });
});

describe("provider set-up errors stop before anything is sent", () => {
  const noKeys = (): (() => void) => {
    const saved = { ...process.env };
    for (const k of ["OPENAI_API_KEY", "REPLICATE_API_TOKEN", "HF_TOKEN", "STABILITY_API_KEY", "CHAT_API_KEY", "OPENAI_BASE_URL"]) delete process.env[k];
    return () => {
      process.env = saved;
    };
  };
  const cases: [string, string[], RegExp][] = [
    ["a malformed URL", ["--provider", "a1111:not a url"], /provider a1111: "not a url" is not a valid URL/],
    ["a missing OpenAI key", ["--provider", "openai:dall-e-3"], /needs the environment variable OPENAI_API_KEY/],
    ["a missing Replicate key", ["--provider", "replicate:owner/model"], /REPLICATE_API_TOKEN/],
    ["a missing Stability key", ["--provider", "stability:core"], /STABILITY_API_KEY/],
    ["an unreadable workflow", ["--provider", "comfyui:http://127.0.0.1:9", "-P", "workflow=/nonexistent/wf.json"], /\/nonexistent\/wf\.json/],
    ["an unknown provider option", ["--provider", "a1111:http://127.0.0.1:9", "-P", "stepz=3"], /unknown providerOptions "stepz"; accepted: /],
  ];
  for (const [name, args, msg] of cases) {
    it(name, async () => {
      const restore = noKeys();
      try {
        const out = tempDir();
        // An observer that needs no report from the provider: these are about the provider's own set-up.
        const r = await cli("run", "a CEO", ...args, "--observer", "requested", "--out", out, "--no-progress");
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(msg);
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
        expect(readdirSync(out)).toEqual([]);
      } finally {
        restore();
      }
    });
  }
  it("a workflow without the placeholders", async () => {
    const dir = tempDir();
    const wf = join(dir, "wf.json");
    writeFileSync(wf, JSON.stringify({ "3": { class_type: "KSampler", inputs: { seed: 5, text: "fixed" } } }));
    const r = await cli("run", "a CEO", "--provider", "comfyui:http://127.0.0.1:9", "-P", `workflow=${wf}`, "--observer", "requested", "--out", join(dir, "runs"), "--no-progress");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\{\{prompt\}\}/);
  });
});

describe("provider commands and refusals", () => {
  it("lists providers and checks one with doctor", async () => {
    const list = await cli("providers", "--json");
    expect(JSON.parse(list.stdout).map((p: { name: string }) => p.name)).toContain("sim");
    const doc = await cli("doctor", "--provider", "sim", "--generate");
    expect(doc.code).toBe(0);
    expect(doc.stdout).toMatch(/ok {3}one generation in \d+ ms: an image of \d+ bytes \(image\/png, drawn from its name\)/);
    const bad = await cli("doctor", "--provider", "sim", "-P", "steps=3");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/provider sim takes no providerOptions \(got steps\)/);
  });

  it("checks a chat provider on a local server with doctor (its drawing provider is built too)", async () => {
    const server = await startFakeServer(json(200, { object: "list", data: [{ id: "llama3.1" }] }));
    try {
      const doc = await cli("doctor", "--provider", "chat:llama3.1", "-P", `baseUrl=${server.url}/v1`, "-P", "image=sim");
      expect(doc.stdout).toContain("ok   chat answers: chat server at");
      expect(doc.stdout).toContain("llama3.1 is among them");
      expect(doc.code).toBe(0);
      expect(server.requests.map((r) => r.url)).toEqual(["/v1/models"]);
    } finally {
      await server.close();
    }
  });

  it("counts refusals per requested cell and shows them", async () => {
    const out = tempDir();
    const cfg = join(out, "r.yaml");
    writeFileSync(cfg, "prompt: a photo of a CEO\nn: 10\nattributes: [gender]\nseed: 1\nconcurrency: 1\nsim: { refusalRate: 0.3 }\n");
    const r = await cli("run", "--config", cfg, "--out", out, "--no-progress");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Refusals by requested gender");
    const j = JSON.parse((await cli("show", /folder: (.+)/.exec(r.stdout)![1]!, "--json")).stdout);
    const rows = j.refusalsByCell.gender as Record<string, { requested: number; refused: number }>;
    const refused = Object.values(rows).reduce((s, x) => s + x.refused, 0);
    expect(refused).toBe(j.refusals);
    expect(refused).toBeGreaterThan(0);
    expect(Object.values(rows).reduce((s, x) => s + x.requested, 0)).toBe(j.attempts);
  });
});

describe("debiaspi audit", () => {
  it("measures a run folder with several observers, with agreement and the same JSON as show", async () => {
    const out = tempDir();
    const run = JSON.parse((await cli("run", "a CEO", "--attributes", "gender", "--n", "8", "--seed", "3", "--out", out, "--json", ...fast)).stdout);
    const r = await cli("audit", run.runDir, "--observer", "self-report,requested", "--attributes", "gender", "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.kept).toBe(8);
    expect(j.attributes.gender.observed).toEqual(run.attributes.gender.observed);
    // Outside a run nothing was requested, so the requested observer has nothing to compare.
    expect(j.agreement).toEqual([]);
  });
  it("a run with --check reports agreement and a confusion matrix", async () => {
    const out = tempDir();
    const r = await cli("run", "a CEO", "--attributes", "gender", "--n", "8", "--seed", "3", "--check", "requested", "--out", out, ...fast);
    expect(r.stdout).toMatch(/Agreement on gender: self-report vs requested: \d+\.\d% of 8 images/);
    const j = JSON.parse((await cli("show", /folder: (.+)/.exec(r.stdout)![1]!, "--json")).stdout);
    const g = j.agreement.find((a: { attribute: string }) => a.attribute === "gender");
    expect(g.n).toBe(8);
    const total = Object.values(g.confusion as Record<string, Record<string, number>>).reduce((s, row) => s + Object.values(row).reduce((a, b) => a + b, 0), 0);
    expect(total).toBe(8);
  });
  it("an empty folder is a clear error; so is a folder whose only file does not decode (not an image with nobody in it)", async () => {
    const empty = tempDir();
    const r = await cli("audit", empty, "--observer", "self-report");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds no images \(accepted: \.png, \.jpg, \.jpeg, \.webp, \.avif, \.tif, \.tiff, \.gif\)/);
    writeFileSync(join(empty, "broken.png"), "not a png");
    const broken = await cli("audit", empty, "--observer", "self-report", "--json");
    expect(broken.code).toBe(2);
    expect(broken.stdout).toBe("");
    expect(broken.stderr).toMatch(/none of the 1 files .* is a readable image \(e\.g\. broken\.png: could not read the image/);
  });
});
