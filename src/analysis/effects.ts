import { normalizedEntropy, proportions, totalVariation } from "../core/metrics.js";
import type { CrossAttributeEffect, CrossEffectRow, ReportRun } from "./model.js";

/** The `none` run a run is compared with: same prompt and provider; the same part, observer and target if there is one. */
function baselineFor(run: ReportRun, runs: readonly ReportRun[]): ReportRun | undefined {
  const { labels } = run;
  let best: ReportRun | undefined;
  let bestScore = -1;
  for (const b of runs) {
    if (b === run || b.labels.policy !== "none" || b.labels.prompt !== labels.prompt || b.labels.provider !== labels.provider) continue;
    const score =
      (b.labels.observer === labels.observer ? 4 : 0) + (b.labels.part === labels.part ? 2 : 0) + (b.labels.target === labels.target ? 1 : 0);
    if (score > bestScore) {
      best = b;
      bestScore = score;
    }
  }
  return best;
}

/** How one attribute's observed counts moved against a baseline's, over this run's categories: the shares, their TV and the change of normalised entropy. */
export function attributeShift(
  observed: Readonly<Record<string, number>>,
  baseline: Readonly<Record<string, number>>,
): { p: number[]; q: number[]; tvVsNone: number; entropyChange: number } {
  const cats = Object.keys(observed);
  const p = proportions(cats.map((c) => observed[c] ?? 0));
  const q = proportions(cats.map((c) => baseline[c] ?? 0));
  return { p, q, tvVsNone: totalVariation(p, q), entropyChange: normalizedEntropy(p) - normalizedEntropy(q) };
}

const uniform = (k: number): number[] => Array.from({ length: k }, () => 1 / k);

/**
 * Cross-attribute effects: for every run that is not `none`, and every attribute it did not control,
 * how far the attribute's distribution moved against the `none` run of the same prompt (TV, change of
 * normalised entropy) and whether it became more or less balanced (TV to uniform before and after).
 * Attributes with no observed image in either run are left out.
 */
export function crossAttributeEffects(runs: readonly ReportRun[]): CrossAttributeEffect[] {
  const out: CrossAttributeEffect[] = [];
  for (const run of runs) {
    if (run.labels.policy === "none") continue;
    const base = baselineFor(run, runs);
    if (!base) continue;
    for (const [attr, a] of Object.entries(run.summary.attributes)) {
      if (a.controlled) continue;
      const b = base.summary.attributes[attr];
      if (!b) continue;
      const cats = Object.keys(a.observed);
      if (cats.every((c) => (a.observed[c] ?? 0) === 0) || cats.every((c) => (b.observed[c] ?? 0) === 0)) continue;
      const { p, q, tvVsNone, entropyChange } = attributeShift(a.observed, b.observed);
      out.push({
        runId: run.id,
        baselineId: base.id,
        labels: run.labels,
        attribute: attr,
        shares: Object.fromEntries(cats.map((c, i) => [c, p[i]!])),
        baselineShares: Object.fromEntries(cats.map((c, i) => [c, q[i]!])),
        tvVsNone,
        entropyChange,
        tvToUniform: totalVariation(p, uniform(cats.length)),
        baselineTvToUniform: totalVariation(q, uniform(cats.length)),
      });
    }
  }
  return out;
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length);

function meanShares(list: readonly Record<string, number>[]): Record<string, number> {
  const keys = Object.keys(list[0] ?? {});
  return Object.fromEntries(keys.map((k) => [k, mean(list.map((s) => s[k] ?? 0))]));
}

/** Effects averaged over the prompts of each (part, target, policy, observer, provider, attribute). */
export function summarizeCrossEffects(effects: readonly CrossAttributeEffect[]): CrossEffectRow[] {
  const groups = new Map<string, CrossAttributeEffect[]>();
  for (const e of effects) {
    const l = e.labels;
    const key = JSON.stringify([l.part ?? "", l.target, l.policy, l.observer, l.provider, e.attribute]);
    const list = groups.get(key);
    if (list) list.push(e);
    else groups.set(key, [e]);
  }
  return [...groups.values()].map((list) => {
    const l = list[0]!.labels;
    return {
      ...(l.part !== undefined ? { part: l.part } : {}),
      target: l.target,
      policy: l.policy,
      observer: l.observer,
      provider: l.provider,
      attribute: list[0]!.attribute,
      pairs: list.length,
      meanTvVsNone: mean(list.map((e) => e.tvVsNone)),
      meanEntropyChange: mean(list.map((e) => e.entropyChange)),
      narrowedShare: list.filter((e) => e.entropyChange < 0).length / list.length,
      meanTvToUniform: mean(list.map((e) => e.tvToUniform)),
      meanBaselineTvToUniform: mean(list.map((e) => e.baselineTvToUniform)),
      meanShares: meanShares(list.map((e) => e.shares)),
      meanBaselineShares: meanShares(list.map((e) => e.baselineShares)),
    };
  });
}
