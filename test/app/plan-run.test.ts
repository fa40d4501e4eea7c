import { describe, expect, it } from "vitest";
import { errorLine, mergeLayers, planOrThrow, planRun } from "../../src/app/plan-run.js";
import { flagName } from "../../src/cli/flags.js";
import { InputError } from "../../src/core/errors.js";

describe("planRun", () => {
  it("returns every problem at once, each on its field, from every layer", () => {
    const out = planRun([
      { source: "config file a.yaml", values: { n: 0, attributes: ["gender", "colour"], colour: 1 } },
      { source: "command line", values: { prompt: "a nurse", concurrency: 0, provider: "nonesuch", observer: "oracle", target: { race: { white: 1, martian: 2 } }, joint: [["age", "age"]] }, nameOf: flagName },
    ]);
    expect(out.ok).toBe(false);
    if (out.ok) return;
    const byField = Object.fromEntries(out.errors.map((e) => [e.field, e.message]));
    expect(Object.keys(byField).sort()).toEqual(["attributes", "colour", "concurrency", "joint", "n", "observer", "provider", "target.race"]);
    expect(byField.n).toBe("config file a.yaml: n: must be at least 1");
    expect(byField.concurrency).toBe("command line: --concurrency: must be at least 1");
    expect(byField.attributes).toMatch(/^config file a\.yaml: attributes: unknown attribute "colour"; accepted: gender, race/);
    expect(byField["target.race"]).toMatch(/unknown category "martian" for attribute "race"/);
    expect(byField.joint).toMatch(/names "age" twice/);
    expect(byField.provider).toMatch(/unknown provider "nonesuch"/);
    expect(byField.observer).toMatch(/unknown observer "oracle"/);
    // Schema problems come first, in layer order: the one a run used to stop at.
    expect(out.errors[0]!.message).toMatch(/^config file a\.yaml: (n|\(top level\)):/);
  });

  it("puts the first problem first in the one line, and counts the rest", () => {
    const out = planRun([{ source: "run settings", values: { prompt: "a judge", n: 10, maxAttempts: 5, observer: "oracle" } }]);
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.errors.map((e) => e.field)).toEqual(["maxAttempts", "observer"]);
    expect(errorLine(out.errors)).toBe(`maxAttempts (5) must be at least N (10) (and 1 more problem)`);
    const thrown = (() => {
      try {
        planOrThrow([{ source: "run settings", values: { n: 4 } }]);
      } catch (e) {
        return e;
      }
    })();
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as InputError).message).toBe("no prompt given; pass it as the first argument of `run` or as `prompt:` in the config");
    expect((thrown as InputError).field).toBe("prompt");
  });

  it("checks what the driving observer can see and what the provider reports, without starting anything", () => {
    const blind = planRun([{ source: "", values: { prompt: "a nurse", attributes: ["gender"], observer: "skin-tone" } }]);
    expect(blind.ok).toBe(false);
    if (!blind.ok) expect(blind.errors).toEqual([{ field: "observer", message: expect.stringMatching(/^observer skin-tone cannot see gender/) }]);
    const silent = planRun([{ source: "", values: { prompt: "a nurse", provider: "a1111", observer: "self-report" } }]);
    expect(silent.ok).toBe(false);
    if (!silent.ok) expect(silent.errors[0]!.message).toMatch(/a1111 reports nothing/);
  });

  it("resolves good settings once: defaults, taxonomy, target", () => {
    const out = planRun([{ source: "", values: { prompt: "a chef", n: 6, attributes: ["gender"], seed: 3 } }]);
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.plan.config.maxAttempts).toBe(60);
    expect(out.plan.target.n).toBe(6);
    expect(out.plan.input).toEqual({ prompt: "a chef", n: 6, attributes: ["gender"], seed: 3 });
  });

  it("mergeLayers checks the schema and names only (plan, doctor)", () => {
    expect(mergeLayers([{ source: "x", values: { provider: "sim" } }])).toEqual({ ok: true, input: { provider: "sim" } });
    const bad = mergeLayers([{ source: "x", values: { attributes: ["colour"] } }]);
    expect(bad.ok).toBe(false);
  });
});
