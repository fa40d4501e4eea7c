import { totalVariation } from "../core/metrics.js";
import { mainSubject } from "../core/request.js";
import { cellKey, type Factor } from "../core/target.js";
import type { CrossAttributeEffect, Finding, ReportRun } from "./model.js";
import type { AttemptEvent } from "../store/events.js";
import { summarizeCrossEffects } from "./effects.js";
import { verdictLabel, withBasis } from "./finding-basis.js";

/*
 * The published findings of DebiasPI (Bonna et al. 2025, arXiv:2501.18642), each checked against the
 * runs of an experiment and stated with the numbers behind the verdict. A finding whose runs are not in
 * the experiment is "not measured". Thresholds are stated in the evidence text so a reader can judge.
 */

const f3 = (x: number): string => x.toFixed(3);
const pct = (x: number): string => `${(100 * x).toFixed(0)} %`;
const mean = (xs: readonly number[]): number => (xs.length === 0 ? NaN : xs.reduce((s, x) => s + x, 0) / xs.length);

/** The factor of a run that controls exactly these attributes (in any order), if any. */
function factorOf(run: ReportRun, attrs: readonly string[]): Factor | undefined {
  return run.record.target.factors.find((f) => f.attributes.length === attrs.length && attrs.every((a) => f.attributes.includes(a)));
}

const onlyFactor = (run: ReportRun, attrs: readonly string[]): boolean => run.record.target.factors.length === 1 && factorOf(run, attrs) !== undefined;

const keptAttempts = (run: ReportRun): AttemptEvent[] => run.events.filter((e): e is AttemptEvent => e.type === "attempt" && e.decision === "kept");

const truthOf = (e: AttemptEvent): Record<string, string> | undefined => e.meta?.truth as Record<string, string> | undefined;

/** TV of a factor measured on what the model really rendered (sim's ground truth); undefined without truth. */
function truthTv(run: ReportRun, factor: Factor): number | undefined {
  const keys = factor.cells.map(cellKey);
  const counts = keys.map(() => 0);
  let n = 0;
  for (const e of keptAttempts(run)) {
    const t = truthOf(e);
    if (!t) return undefined;
    n += 1;
    const idx = keys.indexOf(factor.attributes.map((a) => t[a] ?? "?").join("|"));
    if (idx >= 0) counts[idx]! += 1;
  }
  if (n === 0) return undefined;
  return totalVariation(counts.map((c) => c / n), factor.q);
}

/** Mean TV over the run's factors measured on what was really rendered (sim's ground truth); undefined without truth. */
export function renderedTv(run: ReportRun): number | undefined {
  const tvs = run.record.target.factors.map((f) => truthTv(run, f));
  return tvs.every((x): x is number => x !== undefined) && tvs.length > 0 ? mean(tvs) : undefined;
}

/** The factor's TV as the run's own observer measured it. */
const observedTv = (run: ReportRun, factor: Factor): number => run.summary.factors.find((f) => f.id === factor.id)?.tv ?? NaN;

/** Runs of the most relevant observer group: self-report when present, else the most common observer. */
function mainObserverGroup(runs: readonly ReportRun[]): { observer: string; runs: ReportRun[] } | undefined {
  if (runs.length === 0) return undefined;
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.labels.observer, (counts.get(r.labels.observer) ?? 0) + 1);
  const observer = counts.has("self-report") ? "self-report" : [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  return { observer, runs: runs.filter((r) => r.labels.observer === observer) };
}

/** Prefer runs on the built-in headlines when the claim is about headlines. */
function preferSet(runs: ReportRun[], set: string): { runs: ReportRun[]; set: string } {
  const inSet = runs.filter((r) => r.labels.promptSet === set);
  if (inSet.length > 0) return { runs: inSet, set };
  const sets = [...new Set(runs.map((r) => r.labels.promptSet ?? "single"))];
  return { runs, set: sets.join(", ") };
}

const notMeasured = (id: string, claim: string, what: string): Finding => ({ id, claim, reproduced: "not measured", evidence: `This experiment has no ${what}.` });

const uniquePrompts = (runs: readonly ReportRun[]): number => new Set(runs.map((r) => r.labels.prompt)).size;

// (a) Race and gender balanced jointly on news headlines.
function jointBalance(runs: readonly ReportRun[]): Finding {
  const id = "joint-race-gender";
  const claim = "DebiasPI produces equal representations of race and gender jointly for news headlines that depict hard concepts, where the unsteered model does not.";
  const joint = runs.filter((r) => factorOf(r, ["race", "gender"]) && r.summary.status !== "incomplete");
  const group = mainObserverGroup(joint.filter((r) => r.labels.policy === "debiaspi"));
  if (!group) return notMeasured(id, claim, "debiaspi run with a joint race x gender target");
  const { runs: dpi, set } = preferSet(group.runs, "headlines");
  const prompts = new Set(dpi.map((r) => r.labels.prompt));
  const none = joint.filter((r) => r.labels.policy === "none" && prompts.has(r.labels.prompt) && r.labels.observer === group.observer);
  const tvD = mean(dpi.map((r) => observedTv(r, factorOf(r, ["race", "gender"])!)));
  const exact = dpi.filter((r) => r.summary.exact).length;
  const cost = mean(dpi.map((r) => r.summary.generationsPerKept ?? NaN));
  const truth = dpi.map((r) => truthTv(r, factorOf(r, ["race", "gender"])!)).filter((x): x is number => x !== undefined);
  const n = dpi[0]!.summary.n;
  let evidence = `${dpi.length} debiaspi runs on ${prompts.size} prompts (${set}), N = ${n}, observer ${group.observer}: mean TV to the uniform race x gender target ${f3(tvD)}; every bin met in ${exact} of ${dpi.length} runs, at ${f3(cost)} generations per kept image.`;
  if (truth.length === dpi.length) evidence += ` Measured on what was really rendered (sim's ground truth): mean TV ${f3(mean(truth))}.`;
  let reproduced: Finding["reproduced"];
  if (none.length > 0) {
    const tvN = mean(none.map((r) => observedTv(r, factorOf(r, ["race", "gender"])!)));
    evidence += ` The same prompts without control (none, ${none.length} runs): mean TV ${f3(tvN)}.`;
    // Concepts the unsteered model is most and least biased on.
    const byConcept = new Map<string, number[]>();
    for (const r of none) if (r.labels.concept) byConcept.set(r.labels.concept, [...(byConcept.get(r.labels.concept) ?? []), observedTv(r, factorOf(r, ["race", "gender"])!)]);
    const ranked = [...byConcept.entries()].map(([c, tvs]) => [c, mean(tvs)] as const).sort((a, b) => b[1] - a[1]);
    if (ranked.length > 1) {
      const [most, least] = [ranked[0]!, ranked[ranked.length - 1]!];
      evidence += ` Without control the most skewed concept was ${most[0]} (mean TV ${f3(most[1])}), the least ${least[0]} (${f3(least[1])}).`;
    }
    reproduced = tvD <= 0.05 && exact >= 0.9 * dpi.length && tvN >= 0.2 ? "yes" : tvD < tvN / 2 ? "partly" : "no";
  } else {
    evidence += " No `none` run of the same prompts to compare with.";
    reproduced = tvD <= 0.05 && exact >= 0.9 * dpi.length ? "partly" : "no";
  }
  return { id, claim, reproduced, evidence };
}

/** Cross-attribute effects of debiaspi runs whose only target is `race`, with the main observer. */
function raceEffects(runs: readonly ReportRun[], effects: readonly CrossAttributeEffect[]): { effects: CrossAttributeEffect[]; pairs: number; observer: string } | undefined {
  const raceRuns = new Set(runs.filter((r) => r.labels.policy === "debiaspi" && onlyFactor(r, ["race"])).map((r) => r.id));
  const list = effects.filter((e) => raceRuns.has(e.runId));
  const group = mainObserverGroup(runs.filter((r) => raceRuns.has(r.id) && list.some((e) => e.runId === r.id)));
  if (!group) return undefined;
  const chosen = list.filter((e) => e.labels.observer === group.observer);
  return { effects: chosen, pairs: new Set(chosen.map((e) => e.runId)).size, observer: group.observer };
}

// (b) Targeting race: gender improves, skin tone narrows; and what happens to age and body type.
function raceImprovesGender(runs: readonly ReportRun[], effects: readonly CrossAttributeEffect[]): Finding[] {
  const idG = "race-target-gender";
  const claimG = "When DebiasPI balances race, gender representation improves as well (compared with no control on the same prompts).";
  const idS = "race-target-skin-tone";
  const claimS = "When DebiasPI balances race, skin tone becomes less diverse (compared with no control on the same prompts).";
  const idO = "race-target-other";
  const claimO = "Targeting race also moves attributes the intervention does not name: the paper measured age and body type as well (its abstract reports the gender and skin-tone effects).";
  const found = raceEffects(runs, effects);
  if (!found || found.pairs === 0) {
    const what = "debiaspi run with race as its only target paired with a `none` run of the same prompt";
    return [notMeasured(idG, claimG, what), notMeasured(idS, claimS, what), notMeasured(idO, claimO, what)];
  }
  const rows = summarizeCrossEffects(found.effects);
  const row = (attr: string) => rows.find((r) => r.attribute === attr);
  const head = `${found.pairs} prompt pairs (debiaspi with a race target vs none), observer ${found.observer}`;
  const out: Finding[] = [];

  const g = row("gender");
  if (!g) out.push(notMeasured(idG, claimG, "observation of gender in those runs"));
  else {
    const better = found.effects.filter((e) => e.attribute === "gender" && e.tvToUniform < e.baselineTvToUniform).length;
    const male = (s: Record<string, number>): string => (s.male !== undefined ? `; share of men ${pct(g.meanBaselineShares.male ?? 0)} -> ${pct(s.male)}` : "");
    out.push({
      id: idG,
      claim: claimG,
      reproduced: g.meanTvToUniform < g.meanBaselineTvToUniform - 0.02 ? (better >= g.pairs / 2 ? "yes" : "partly") : "no",
      evidence: `${head}: gender's TV to a 50/50 split fell from ${f3(g.meanBaselineTvToUniform)} to ${f3(g.meanTvToUniform)} on average and was lower in ${better} of ${g.pairs} pairs${male(g.meanShares)}.`,
    });
  }

  const s = row("skin_tone");
  if (!s) out.push(notMeasured(idS, claimS, "observation of skin tone in those runs"));
  else {
    out.push({
      id: idS,
      claim: claimS,
      reproduced: s.meanEntropyChange < -0.02 ? (s.narrowedShare >= 0.5 ? "yes" : "partly") : "no",
      evidence: `${head}: normalised entropy of skin tone changed by ${s.meanEntropyChange >= 0 ? "+" : ""}${f3(s.meanEntropyChange)} on average and fell in ${pct(s.narrowedShare)} of pairs; mean TV to the none run ${f3(s.meanTvVsNone)}. Most common Monk level: ${top(s.meanBaselineShares)} without control, ${top(s.meanShares)} with race balanced.`,
    });
  }

  const others = ["age", "body_type"].map(row).filter((r): r is NonNullable<typeof r> => r !== undefined);
  if (others.length === 0) out.push(notMeasured(idO, claimO, "observation of age or body type in those runs"));
  else {
    // Per-pair TV includes sampling noise; the TV between the mean distributions is the systematic shift.
    const parts = others.map((r) => {
      const cats = Object.keys(r.meanShares);
      const systematic = totalVariation(cats.map((c) => r.meanShares[c]!), cats.map((c) => r.meanBaselineShares[c] ?? 0));
      return { attr: r.attribute, systematic, perPair: r.meanTvVsNone, entropy: r.meanEntropyChange };
    });
    const moved = parts.filter((p) => p.systematic >= 0.05);
    out.push({
      id: idO,
      claim: claimO,
      reproduced: moved.length === parts.length ? "yes" : moved.length > 0 ? "partly" : "no",
      evidence: `${head}: ${parts
        .map((p) => `${p.attr}: systematic shift (TV between the mean distributions) ${f3(p.systematic)}, per-pair TV ${f3(p.perPair)} (sampling noise included), entropy change ${p.entropy >= 0 ? "+" : ""}${f3(p.entropy)}`)
        .join("; ")}. A shift counts when the systematic TV is at least 0.05.${
        runs.some((r) => raceRunsProvider(r) === "sim") ? " (sim draws age and body type independently of a requested race, so it cannot show such a shift; a real model can.)" : ""
      }`,
    });
  }
  return out;
}

const raceRunsProvider = (r: ReportRun): string => r.labels.provider.split(":")[0]!;

function top(shares: Record<string, number>): string {
  const best = Object.entries(shares).sort((a, b) => b[1] - a[1])[0];
  return best ? `${best[0]} (${pct(best[1])})` : "-";
}

// (c) Ablations: the policies side by side on the same prompts and target, and their cost.
function ablations(runs: readonly ReportRun[]): Finding {
  const id = "ablation-policies";
  const claim = "Ethical intervention phrases and open-loop prompting do not reach the desired distribution; the closed loop does (policies ranked by distance to the target, with their cost).";
  // The target group with the most distinct policies, main observer.
  const byTarget = new Map<string, ReportRun[]>();
  for (const r of runs) {
    if (r.summary.status === "incomplete") continue;
    const key = `${r.labels.part ?? ""}\u0000${r.labels.target}`;
    byTarget.set(key, [...(byTarget.get(key) ?? []), r]);
  }
  let best: { target: string; runs: ReportRun[]; policies: number } | undefined;
  for (const list of byTarget.values()) {
    const g = mainObserverGroup(list);
    if (!g) continue;
    const policies = new Set(g.runs.map((r) => r.labels.policy)).size;
    if (policies >= 2 && (!best || policies > best.policies || (policies === best.policies && g.runs.length > best.runs.length))) {
      best = { target: list[0]!.labels.target, runs: g.runs, policies };
    }
  }
  if (!best) return notMeasured(id, claim, "target run with two or more policies");
  const order = ["none", "eip", "random", "quota", "debiaspi"];
  const policies = [...new Set(best.runs.map((r) => r.labels.policy))].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const stats = policies.map((p) => {
    const list = best!.runs.filter((r) => r.labels.policy === p);
    const tvs = list.map((r) => mean(r.summary.factors.map((f) => f.tv)));
    const truth = list.map((r) => mean(r.record.target.factors.map((f) => truthTv(r, f) ?? NaN)));
    return {
      policy: p,
      tv: mean(tvs),
      truth: truth.every((x) => Number.isFinite(x)) ? mean(truth) : undefined,
      exact: list.filter((r) => r.summary.exact).length,
      runs: list.length,
      cost: mean(list.map((r) => r.summary.generationsPerKept ?? NaN)),
    };
  });
  const ranked = [...stats].sort((a, b) => a.tv - b.tv);
  const dpi = stats.find((s) => s.policy === "debiaspi");
  const others = stats.filter((s) => s.policy !== "debiaspi");
  const text = ranked
    .map((s) => `${s.policy} ${f3(s.tv)}${s.truth !== undefined ? ` (rendered ${f3(s.truth)})` : ""}, exact ${s.exact}/${s.runs}, ${f3(s.cost)} gen/kept`)
    .join("; ");
  let reproduced: Finding["reproduced"] = "not measured";
  if (dpi && others.length > 0) {
    const bestOther = Math.min(...others.map((s) => s.tv));
    const eip = stats.find((s) => s.policy === "eip");
    const none = stats.find((s) => s.policy === "none");
    const eipFails = !eip || !none || eip.tv > 0.5 * none.tv;
    reproduced = dpi.tv < bestOther && dpi.exact >= 0.9 * dpi.runs ? (eipFails ? "yes" : "partly") : dpi.tv < bestOther ? "partly" : "no";
  }
  return {
    id,
    claim,
    reproduced,
    evidence: `Target ${best.target}, ${uniquePrompts(best.runs)} prompts, observer ${best.runs[0]!.labels.observer}; mean TV to the target (best first): ${text}.`,
  };
}

// (c) Without control the model draws young men.
function youngMale(runs: readonly ReportRun[]): Finding {
  const id = "no-control-young-male";
  const claim = "Without attribute control the model tends to draw young, male people.";
  const seen = new Set<string>();
  const bySet = new Map<string, { prompts: number; male: number; gendered: number; young: number; aged: number }>();
  for (const r of runs) {
    if (r.labels.policy !== "none" || r.summary.status === "incomplete") continue;
    const key = `${r.labels.prompt}\u0000${r.labels.provider}\u0000${r.record.config.seed}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const set = r.labels.promptSet ?? "single";
    const s = bySet.get(set) ?? { prompts: 0, male: 0, gendered: 0, young: 0, aged: 0 };
    s.prompts += 1;
    const g = r.summary.attributes.gender?.observed;
    if (g) {
      s.male += g.male ?? 0;
      s.gendered += Object.values(g).reduce((a, c) => a + c, 0);
    }
    const a = r.summary.attributes.age?.observed;
    if (a) {
      s.young += a["18-29"] ?? 0;
      s.aged += Object.values(a).reduce((x, c) => x + c, 0);
    }
    bySet.set(set, s);
  }
  if (seen.size === 0) return notMeasured(id, claim, "`none` run");
  const total = [...bySet.values()].reduce((t, s) => ({ prompts: t.prompts + s.prompts, male: t.male + s.male, gendered: t.gendered + s.gendered, young: t.young + s.young, aged: t.aged + s.aged }));
  if (total.gendered === 0 && total.aged === 0) return notMeasured(id, claim, "observation of gender or age in the `none` runs");
  const describe = (s: typeof total): string =>
    [
      s.gendered > 0 ? `${pct(s.male / s.gendered)} of ${s.gendered} people men` : undefined,
      s.aged > 0 ? `${pct(s.young / s.aged)} aged 18-29` : undefined,
    ]
      .filter(Boolean)
      .join(", ");
  const parts = [...bySet.entries()].map(([set, s]) => `${set} (${s.prompts} prompts): ${describe(s)}`);
  const maleShare = total.gendered > 0 ? total.male / total.gendered : NaN;
  const youngShare = total.aged > 0 ? total.young / total.aged : NaN;
  const checks = [maleShare, youngShare].filter((x) => !Number.isNaN(x));
  const okMale = maleShare > 0.6;
  const okYoung = youngShare > 0.35;
  const hits = [okMale, okYoung].filter(Boolean).length;
  const reproduced: Finding["reproduced"] = hits === checks.length ? "yes" : hits > 0 ? "partly" : "no";
  return {
    id,
    claim,
    reproduced,
    evidence: `Over ${seen.size} prompts without control: ${describe(total)} (balanced would be 50 % men; an even spread over the four age bins 25 % aged 18-29). Per prompt set: ${parts.join("; ")}. Counted as reproduced when over 60 % are men and over 35 % are 18-29.`,
  };
}

// (c) Trackers: what the loop believes (its observer) against what was rendered.
function trackers(runs: readonly ReportRun[]): Finding {
  const id = "trackers";
  const claim = "What DebiasPI tracks matters: trusting the request (open loop) leaves the output biased, while tracking the model's internal state or an external classifier reaches the target.";
  const dpi = runs.filter((r) => r.labels.policy === "debiaspi" && r.summary.status !== "incomplete");
  const groups = new Map<string, ReportRun[]>();
  for (const r of dpi) {
    const key = `${r.labels.target}\u0000${r.summary.n}\u0000${r.labels.provider}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const lines: string[] = [];
  let verdicts = 0;
  let supports = 0;
  for (const all of groups.values()) {
    const observers = [...new Set(all.map((r) => r.labels.observer))];
    if (observers.length < 2) continue;
    // Like for like: only the prompts every observer ran.
    const common = [...new Set(all.map((r) => r.labels.prompt))].filter((p) => observers.every((o) => all.some((r) => r.labels.observer === o && r.labels.prompt === p)));
    const list = all.filter((r) => common.includes(r.labels.prompt));
    if (common.length === 0) continue;
    const stats = observers.map((o) => {
      const rs = list.filter((r) => r.labels.observer === o);
      const truth = rs.map((r) => mean(r.record.target.factors.map((f) => truthTv(r, f) ?? NaN)));
      return {
        observer: o,
        believed: mean(rs.map((r) => mean(r.summary.factors.map((f) => f.tv)))),
        rendered: truth.every((x) => Number.isFinite(x)) ? mean(truth) : undefined,
        cost: mean(rs.map((r) => r.summary.generationsPerKept ?? NaN)),
      };
    });
    if (stats.some((s) => s.rendered === undefined)) continue;
    lines.push(
      `target ${list[0]!.labels.target} (${common.length} prompts, N = ${list[0]!.summary.n}): ${stats.map((s) => `${s.observer} believed TV ${f3(s.believed)}, rendered TV ${f3(s.rendered!)}, ${f3(s.cost)} gen/kept`).join("; ")}`,
    );
    const req = stats.find((s) => s.observer === "requested");
    const rest = stats.filter((s) => s.observer !== "requested");
    if (req && rest.length > 0) {
      verdicts += 1;
      if (req.rendered! > Math.min(...rest.map((s) => s.rendered!)) + 0.05) supports += 1;
    }
  }
  if (lines.length === 0) {
    return notMeasured(id, claim, "debiaspi runs of one target with two or more observers and a ground truth to check them against (sim records what it rendered)");
  }
  const reproduced: Finding["reproduced"] = verdicts === 0 ? "not measured" : supports === verdicts ? "yes" : supports > 0 ? "partly" : "no";
  return {
    id,
    claim,
    reproduced,
    evidence: `${lines.join(". ")}. "Believed" is the distance the loop measured with its observer; "rendered" is measured on what the model really drew.${verdicts === 0 ? " No run tracked the request (observer requested) to compare with." : ""}`,
  };
}

// (d) Skin tone: do the palest Monk tones appear, and are they honoured when asked for?
function palestTones(runs: readonly ReportRun[]): Finding {
  const id = "palest-skin-tones";
  const claim = "Across the Monk scale the model struggles to generate the palest skin tones, even when asked for them.";
  const monk = runs.filter((r) => factorOf(r, ["skin_tone"]) && r.summary.status !== "incomplete");
  if (monk.length === 0) return notMeasured(id, claim, "run with a skin tone target");
  const group = mainObserverGroup(monk)!;
  const list = group.runs;
  // Honour rate per requested Monk level (direct requests), judged on what was rendered when known.
  const asked = new Map<string, { n: number; ok: number }>();
  for (const r of list.filter((x) => x.labels.policy === "debiaspi")) {
    for (const e of r.events) {
      if (e.type !== "attempt" || e.outcome !== "image" || e.request.kind !== "direct") continue;
      const want = e.request.cells.skin_tone;
      if (!want) continue;
      const got = truthOf(e)?.skin_tone ?? (e.observation ? mainSubject(e.observation).skin_tone : undefined);
      const s = asked.get(want) ?? { n: 0, ok: 0 };
      s.n += 1;
      if (got === want) s.ok += 1;
      asked.set(want, s);
    }
  }
  const rate = (levels: number[]): number => {
    let n = 0;
    let ok = 0;
    for (const l of levels) {
      const s = asked.get(`monk_${l}`);
      if (s) {
        n += s.n;
        ok += s.ok;
      }
    }
    return n > 0 ? ok / n : NaN;
  };
  const parts: string[] = [];
  const none = list.filter((r) => r.labels.policy === "none");
  let noneShare = NaN;
  if (none.length > 0) {
    let pale = 0;
    let total = 0;
    for (const r of none) {
      const o = r.summary.attributes.skin_tone?.observed ?? {};
      pale += (o.monk_1 ?? 0) + (o.monk_2 ?? 0);
      total += Object.values(o).reduce((s, c) => s + c, 0);
    }
    noneShare = total > 0 ? pale / total : NaN;
    parts.push(`without control Monk 1-2 were ${pct(noneShare)} of ${total} people (20 % of a uniform target)`);
  }
  const pale = rate([1, 2]);
  const dark = rate([5, 6, 7, 8, 9, 10]);
  const dpi = list.filter((r) => r.labels.policy === "debiaspi");
  if (asked.size > 0) {
    const per = [1, 2, 3, 4].map((l) => `Monk ${l} ${pct(asked.get(`monk_${l}`) ? asked.get(`monk_${l}`)!.ok / asked.get(`monk_${l}`)!.n : NaN)}`).join(", ");
    parts.push(
      `debiaspi's requests were honoured: ${per}, Monk 5-10 ${pct(dark)} (judged on ${list.some((r) => keptAttempts(r).some((e) => truthOf(e))) ? "what was rendered" : `the ${group.observer} observer`})`,
    );
    parts.push(`debiaspi met every Monk bin in ${dpi.filter((r) => r.summary.exact).length} of ${dpi.length} runs at ${f3(mean(dpi.map((r) => r.summary.generationsPerKept ?? NaN)))} generations per kept image`);
  }
  if (parts.length === 0) return notMeasured(id, claim, "`none` or debiaspi run with a skin tone target");
  // The claim is about asking: the palest tones honoured far less often than dark ones (under half as often).
  // Without requests to judge, their rarity without control is only partial support.
  const hardAsked = Number.isFinite(pale) && Number.isFinite(dark) ? pale < 0.5 * dark : undefined;
  const rareUnasked = Number.isFinite(noneShare) ? noneShare < 0.1 : undefined;
  const reproduced: Finding["reproduced"] = hardAsked !== undefined ? (hardAsked ? "yes" : "no") : rareUnasked ? "partly" : "no";
  parts.push(`counted as reproduced when requests for Monk 1-2 are honoured less than half as often as requests for Monk 5-10`);
  return { id, claim, reproduced, evidence: `${uniquePrompts(list)} prompts, observer ${group.observer}: ${parts.join("; ")}.` };
}

function findingsOf(runs: readonly ReportRun[], effects: readonly CrossAttributeEffect[]): Finding[] {
  return [jointBalance(runs), ...raceImprovesGender(runs, effects), ablations(runs), youngMale(runs), trackers(runs), palestTones(runs)];
}

/**
 * The paper's findings, each stated with the numbers from these runs (finished runs only), computed per provider
 * (each sim profile on its own) and worded by what they are evidence of (see finding-basis.ts).
 */
export function computeFindings(runs: readonly ReportRun[], effects: readonly CrossAttributeEffect[]): Finding[] {
  const providers = [...new Set(runs.map((r) => r.labels.provider))];
  if (providers.length === 0) return findingsOf(runs, effects);
  return providers.flatMap((p) => {
    const mine = runs.filter((r) => r.labels.provider === p);
    return findingsOf(mine, effects.filter((e) => e.labels.provider === p)).map((f) => withBasis(f, p));
  });
}

/** Which finding holds on which provider: rows of finding id, then one verdict label per provider. */
export function findingsMatrix(findings: readonly Finding[]): { providers: string[]; rows: { id: string; claim: string; verdicts: string[] }[] } {
  const providers = [...new Set(findings.map((f) => f.provider ?? "-"))];
  const ids = [...new Set(findings.map((f) => f.id))];
  return {
    providers,
    rows: ids.map((id) => {
      const of = findings.filter((f) => f.id === id);
      return { id, claim: of[0]!.claim, verdicts: providers.map((p) => { const f = of.find((x) => (x.provider ?? "-") === p); return f ? verdictLabel(f) : "-"; }) };
    }),
  };
}

/** The findings as text, one paragraph each (with a table of which holds on which provider when there are several). */
export function formatFindings(findings: readonly Finding[]): string {
  const parts: string[] = [];
  const matrix = findingsMatrix(findings);
  if (matrix.providers.length > 1) {
    parts.push(`Which finding holds on which provider:\n${matrix.rows.map((r) => `  ${r.id}: ${matrix.providers.map((p, i) => `${p} ${r.verdicts[i]}`).join(" | ")}`).join("\n")}`);
  }
  for (const f of findings) parts.push(`[${verdictLabel(f)}]${f.provider && matrix.providers.length > 1 ? ` (${f.provider})` : ""} ${f.claim}\n    ${f.evidence}${f.wording ? `\n    ${f.wording}` : ""}`);
  return parts.join("\n");
}
