/**
 * The analysis layer measures what it is given: a summary depends on the observations, decisions, requests and
 * cost of the attempts, not on where the images lie, when they were made or a run config; cross-attribute
 * shifts are one formula for `compare` and the experiment effects.
 */
import { describe, expect, it } from "vitest";
import { compareRuns } from "../../src/analysis/compare.js";
import { attributeShift, crossAttributeEffects } from "../../src/analysis/effects.js";
import type { ReportRun } from "../../src/analysis/model.js";
import { AUDIT_PROVIDER, summarizeRun, type MeasuredEvent, type SummarySettings } from "../../src/analysis/summary.js";
import type { Observation } from "../../src/core/request.js";
import { resolveTarget } from "../../src/core/target.js";
import { builtinTaxonomy } from "../../src/core/taxonomy.js";
import type { AttemptEvent, RunEvent } from "../../src/store/events.js";

const taxonomy = builtinTaxonomy();
const seen = (people: Record<string, string | null>[]): Observation => ({ observer: "self-report", persons: people.map((labels) => ({ labels })) });
const images: Observation[] = [
  seen([{ gender: "female", race: "white" }, { gender: "male", race: "black" }]),
  seen([{ gender: "male", race: "white" }]),
  seen([{ gender: "female", race: "east_asian" }]),
  seen([{ gender: null, race: "white" }]),
];
const settings: SummarySettings = { prompt: "a doctor", policy: "none", mode: "direct", overflow: "keep", provider: AUDIT_PROVIDER, observer: "self-report", seed: 0, n: 4 };
const target = resolveTarget(taxonomy, { attributes: ["gender"] }, 4);

const measured: MeasuredEvent[] = [
  ...images.map((observation, i) => ({ type: "attempt" as const, i, request: { kind: "plain" as const }, outcome: "image" as const, decision: "kept" as const, observation })),
  { type: "end", reason: "complete" },
];
/** The same attempts as a run folder stores them: paths, times, seeds, prompts and durations besides. */
const stored: RunEvent[] = [
  ...images.map(
    (observation, i): AttemptEvent => ({ type: "attempt", i, t: `2026-01-01T00:00:0${i}Z`, request: { kind: "plain" }, prompt: "a doctor", seed: 100 + i, outcome: "image", image: `images/${i}.png`, observation, decision: "kept", kept: i + 1, ms: 12 }),
  ),
  { type: "end", t: "2026-01-01T00:00:09Z", reason: "complete" },
];

describe("summarizeRun (analysis)", () => {
  it("measures the observations alone: stored attempts and bare measured ones give the same summary", () => {
    const bare = summarizeRun({ dir: "/audited", id: "audit-4-images", settings, taxonomy, target, events: measured });
    const full = summarizeRun({ dir: "/audited", id: "audit-4-images", settings, taxonomy, target, events: stored });
    expect(bare).toEqual(full);
    expect(bare.status).toBe("complete");
    expect(bare.kept).toBe(4);
    // main subjects: female, male, female, unknown
    expect(bare.attributes.gender!.observed).toEqual({ female: 2, male: 1 });
    expect(bare.attributes.gender!.unknown).toBe(1);
    expect(bare.factors[0]!.tv).toBeCloseTo(1 / 6, 12);
  });

  it("counts every person with counting: per-person, and an incomplete run without its end line", () => {
    const perPerson = summarizeRun({ dir: "/d", id: "x", settings: { ...settings, counting: "per-person" }, taxonomy, target, events: measured.slice(0, 4) });
    expect(perPerson.attributes.gender!.observed).toEqual({ female: 2, male: 2 });
    expect(perPerson.status).toBe("incomplete");
  });
});

describe("cross-attribute shift (one formula)", () => {
  it("gives compare and the experiment effects the same TV and entropy change", () => {
    const base = summarizeRun({ dir: "/a", id: "none", settings, taxonomy, target, events: measured });
    const shifted = summarizeRun({
      dir: "/b",
      id: "debiaspi",
      settings: { ...settings, policy: "debiaspi" },
      taxonomy,
      target,
      events: [...images.map((_, i) => ({ ...(measured[i] as Extract<MeasuredEvent, { type: "attempt" }>), observation: seen([{ gender: "female", race: "white" }]) })), measured[4]!],
    });
    const shift = attributeShift(shifted.attributes.race!.observed, base.attributes.race!.observed);
    // race among main subjects: base white 3 / east_asian 1; shifted white 4
    expect(shift.tvVsNone).toBeCloseTo(0.25, 12);
    expect(shift.entropyChange).toBeLessThan(0);
    const rows = compareRuns([{ label: "none", summary: base }, { label: "debiaspi", summary: shifted }]);
    expect(rows[1]!.crossEffects.find((c) => c.attribute === "race")).toEqual({ attribute: "race", tvVsNone: shift.tvVsNone, entropyChange: shift.entropyChange });
    const labels = (policy: string): ReportRun["labels"] => ({ prompt: "a doctor", policy, target: "gender", observer: "self-report", provider: "sim" });
    const run = (id: string, summary: typeof base): ReportRun => ({ id, labels: labels(summary.policy), runDir: `/${id}`, record: undefined as never, events: [], summary });
    const effects = crossAttributeEffects([run("none", base), run("debiaspi", shifted)]);
    const race = effects.find((e) => e.attribute === "race")!;
    expect([race.tvVsNone, race.entropyChange]).toEqual([shift.tvVsNone, shift.entropyChange]);
  });
});
