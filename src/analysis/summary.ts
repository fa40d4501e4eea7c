import { isDrawing } from "../image/drawing.js";
import { compareDistribution, normalizedEntropy, proportions, totalVariation } from "../core/metrics.js";
import { mainSubject } from "../core/request.js";
import { cellKey, marginalTarget, type Target } from "../core/target.js";
import type { Taxonomy } from "../core/taxonomy.js";
import type { RunConfig } from "../config/resolve.js";
import type { AttemptEvent, EndEvent, RunEvent } from "../store/events.js";
import type { RunRecord as StoredRecord } from "../store/schema.js";
import { agreementTables, type Agreement } from "./agreement.js";
import type { AttributeSummaryBase, FactorSummary, RunSummaryBase, SummarySettings } from "./summary-types.js";
export type { SummarySettings } from "./summary-types.js";
import type { CorrectedShares } from "../calibration/correct.js";

/** What run.json holds (its shape is the store's), with the settings as config/ names them. */
export type RunRecord = StoredRecord<RunConfig>;

export type { AttributeSummaryBase, FactorSummary, RunStatus, RunSummaryBase } from "./summary-types.js";

/** An attribute's summary with what only the CLI and the exports show. */
export interface AttributeSummary extends AttributeSummaryBase {
  fd?: number;
  mad?: number;
  /** The simulated model's ground truth (what was rendered) for the kept images, where known. */
  truth?: { observed: Record<string, number>; agreement: number };
  /** The estimate of the true shares given a calibration of the observer (src/analysis/corrected.ts). */
  corrected?: CorrectedAttribute;
}

export interface CorrectedAttribute extends CorrectedShares {
  /** Distances of the corrected shares to the target (controlled attributes). */
  tv?: number;
  maxAbsDiff?: number;
}

/** Which calibration corrected a summary, and what does not fit. */
export interface CalibrationUse {
  source: string;
  observer: string;
  labels: string;
  images: number;
  domain?: string;
  models: string[];
  attributes: string[];
  /** Attributes of the run the calibration cannot correct, and why. */
  notCovered: Record<string, string>;
  warnings: string[];
  /** The calibration's own measurements per attribute, for the report's calibration section. */
  matrices: Record<string, { categories: string[]; counts: number[][]; n: number; accuracy: number | null; recall: Record<string, number | null> }>;
}

/** A run's summary with what only the server and the CLI use (the API sends the base). */
export interface RunSummary extends RunSummaryBase {
  runDir: string;
  attributes: Record<string, AttributeSummary>;
  /**
   * Per factor and requested cell (direct requests only): how many were asked for and how many the
   * provider refused. Refusal rates that differ by group are a bias finding in themselves.
   */
  refusalsByCell: Record<string, Record<string, { requested: number; refused: number }>>;
  /** Agreement of each checking observer with the driving one, per attribute, over the kept images. */
  agreement: Agreement[];
  /** The calibration that corrected the attribute shares, when one was given. */
  calibration?: CalibrationUse;
}

/** Mean TV over a run's factors, and the largest max |p - q| of any factor (null without factors). */
export function runError(s: RunSummaryBase): { tv: number | null; maxAbsDiff: number | null } {
  const f = s.factors;
  if (f.length === 0) return { tv: null, maxAbsDiff: null };
  return { tv: f.reduce((sum, x) => sum + x.tv, 0) / f.length, maxAbsDiff: Math.max(...f.map((x) => x.maxAbsDiff)) };
}

const keyed = <T>(keys: readonly string[], values: readonly T[]): Record<string, T> =>
  Object.fromEntries(keys.map((k, i) => [k, values[i]!]));

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The provider an audit's summary names: nothing was generated, the images were found. */
export const AUDIT_PROVIDER = "(audit)";


/** What a summary reads of an attempt: its request, outcome, decision, observations, cost and the sim's truth (meta.truth). */
export type MeasuredAttempt = Pick<AttemptEvent, "type" | "i" | "request" | "outcome" | "decision" | "observation" | "checks" | "costUsd" | "meta"> & Partial<Pick<AttemptEvent, "image">>;
/** What a summary reads of a run's end: why it ended. */
export type MeasuredEnd = Pick<EndEvent, "type" | "reason" | "message">;
/** An event as a summary reads it (every stored RunEvent is one). */
export type MeasuredEvent = MeasuredAttempt | MeasuredEnd;

/** What a summary is measured from: the events (in the order they happened), the taxonomy and the target, and the settings it reports. */
export interface SummaryInput {
  /** The folder the summary names: the run folder, the audited folder, or "(memory)". */
  dir: string;
  id: string;
  settings: SummarySettings;
  taxonomy: Taxonomy;
  target: Target;
  events: readonly MeasuredEvent[];
}

/** A stored run's summary input: its run.json and its events. */
export function storedRunInput(dir: string, record: RunRecord, events: readonly RunEvent[]): SummaryInput {
  return { dir, id: record.id, settings: record.config, taxonomy: record.taxonomy, target: record.target, events };
}

/** Measures a run (or an audit) from its events: what the terminal table, JSON and reports show. */
export function summarizeRun(input: SummaryInput): RunSummary {
  const { dir: runDir, settings: config, taxonomy, target, events } = input;
  const attempts = events.filter((e): e is MeasuredAttempt => e.type === "attempt").sort((a, b) => a.i - b.i);
  const end = [...events].reverse().find((e): e is MeasuredEnd => e.type === "end");
  const keptEvents = attempts.filter((e) => e.decision === "kept");
  // Convergence follows the order images were kept in (event order), not the issue order.
  const keptInOrder = events.filter((e): e is MeasuredAttempt => e.type === "attempt" && e.decision === "kept");
  const labelsOf = (e: MeasuredAttempt): Record<string, string | null> => (e.observation ? mainSubject(e.observation) : {});
  // What the attribute tables count: the main subject of each image, or every person in it.
  const perPerson = config.counting === "per-person";
  const peopleOf = (e: MeasuredAttempt): Record<string, string | null>[] => {
    const persons = e.observation?.persons ?? [];
    if (persons.length === 0) return [{}];
    return perPerson ? persons.map((p) => p.labels) : [persons[0]!.labels];
  };

  const attributes: Record<string, AttributeSummary> = {};
  for (const attr of taxonomy.attributes) {
    if (attr.categories.length === 0) continue;
    const cats = attr.categories.map((c) => c.id);
    const counts = cats.map(() => 0);
    let unknown = 0;
    let seen = 0;
    const truthCounts = cats.map(() => 0);
    let truthN = 0;
    let agree = 0;
    let people = 0;
    for (const e of keptEvents) {
      for (const person of peopleOf(e)) {
        people += 1;
        const pv = person[attr.id];
        if (pv !== undefined) seen += 1;
        const idx = pv ? cats.indexOf(pv) : -1;
        if (idx >= 0) counts[idx]! += 1;
        else unknown += 1;
      }
      const v = labelsOf(e)[attr.id];
      const truth = (e.meta?.truth as Record<string, string> | undefined)?.[attr.id];
      if (truth !== undefined) {
        const t = cats.indexOf(truth);
        if (t >= 0) truthCounts[t]! += 1;
        truthN += 1;
        if (truth === v) agree += 1;
      }
    }
    const controlled = target.attributes.includes(attr.id);
    if (!controlled && seen === 0) continue;
    const marginal = marginalTarget(taxonomy, target, attr.id);
    const q = marginal?.q;
    const bins = marginal?.bins;
    const m = compareDistribution(counts, q ?? proportions(counts.map(() => 1)));
    const known = counts.reduce((s, c) => s + c, 0);
    const s: AttributeSummary = {
      attribute: attr.id,
      label: attr.label,
      controlled,
      observed: keyed(cats, counts),
      unknown,
      unknownRate: people > 0 ? unknown / people : 0,
      intervals: keyed(cats, m.intervals.map((iv) => [iv.low, iv.high] as [number, number])),
      normalizedEntropy: normalizedEntropy(known > 0 ? m.p : counts),
    };
    if (q && bins) {
      s.target = keyed(cats, q);
      s.bins = keyed(cats, bins);
      s.tv = m.tv;
      s.maxAbsDiff = m.maxAbsDiff;
      s.kl = finiteOrNull(m.kl);
      s.fd = m.fd;
      s.mad = m.mad;
      s.chiSquareP = m.chiSquare.pValue;
      s.exact = counts.every((c, i) => c === bins![i]);
    }
    if (truthN > 0) s.truth = { observed: keyed(cats, truthCounts), agreement: agree / truthN };
    attributes[attr.id] = s;
  }

  const factors: FactorSummary[] = target.factors.map((f) => {
    const keys = f.cells.map(cellKey);
    const counts = keys.map(() => 0);
    for (const e of keptEvents) {
      const labels = labelsOf(e);
      const key = f.attributes.map((a) => labels[a] ?? "?").join("|");
      const idx = keys.indexOf(key);
      if (idx >= 0) counts[idx]! += 1;
    }
    const m = compareDistribution(counts, f.q);
    return {
      id: f.id,
      attributes: f.attributes,
      target: keyed(keys, f.q),
      bins: keyed(keys, f.bins),
      observed: keyed(keys, counts),
      intervals: keyed(keys, m.intervals.map((iv) => [iv.low, iv.high] as [number, number])),
      tv: m.tv,
      maxAbsDiff: m.maxAbsDiff,
      kl: finiteOrNull(m.kl),
      fd: m.fd,
      mad: m.mad,
      chiSquareP: m.chiSquare.pValue,
      normalizedEntropy: m.normalizedEntropy,
      exact: counts.every((c, i) => c === f.bins[i]),
    };
  });

  // Convergence: mean TV over factors after each kept image, updated incrementally.
  const running = target.factors.map((f) => f.cells.map(() => 0));
  const convergence: number[] = [];
  let total = 0;
  for (const e of keptInOrder) {
    total += 1;
    const labels = labelsOf(e);
    target.factors.forEach((f, fi) => {
      const idx = f.cells.findIndex((cell) => cell.every((c, k) => labels[f.attributes[k]!] === c));
      if (idx >= 0) running[fi]![idx]! += 1;
    });
    const tvs = target.factors.map((f, fi) => totalVariation(running[fi]!.map((c) => c / total), f.q));
    convergence.push(tvs.reduce((s, x) => s + x, 0) / Math.max(1, tvs.length));
  }

  const refusalsByCell: RunSummary["refusalsByCell"] = {};
  for (const f of target.factors) {
    const rows: Record<string, { requested: number; refused: number }> = {};
    for (const e of attempts) {
      if (e.request.kind !== "direct") continue;
      const cells = e.request.cells;
      if (f.attributes.some((a) => cells[a] === undefined)) continue;
      const key = f.attributes.map((a) => cells[a]).join("|");
      const row = (rows[key] ??= { requested: 0, refused: 0 });
      row.requested += 1;
      if (e.outcome === "refusal") row.refused += 1;
    }
    refusalsByCell[f.id] = rows;
  }
  const generations = attempts.filter((e) => e.outcome === "image").length;
  const kept = keptEvents.length;
  const keptDrawn = keptEvents.filter((e) => e.image !== undefined && isDrawing(e.image)).length;
  const count = (d: MeasuredAttempt["decision"]): number => attempts.filter((e) => e.decision === d).length;
  const status: RunSummary["status"] = end ? end.reason : "incomplete";
  return {
    runDir,
    id: input.id,
    prompt: config.prompt,
    policy: config.policy,
    mode: config.mode,
    overflow: config.overflow,
    provider: config.provider,
    observer: config.observer,
    seed: config.seed,
    n: config.n,
    status,
    ...(end?.message ? { message: end.message } : {}),
    kept,
    ...(keptDrawn > 0 ? { keptDrawn } : {}),
    generations,
    attempts: attempts.length,
    refusals: count("refused"),
    errors: count("error"),
    discarded: { overflow: count("overflow"), unknown: count("unknown"), surplus: count("surplus") },
    generationsPerKept: kept > 0 ? generations / kept : null,
    costUsd: attempts.reduce((s, e) => s + (e.costUsd ?? 0), 0),
    exact: kept === config.n && factors.every((f) => f.exact),
    attributes,
    factors,
    convergence,
    refusalsByCell,
    agreement: agreementTables(keptEvents, taxonomy.attributes.map((a) => a.id)),
  };
}
