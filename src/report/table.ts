import { plainTable } from "./plain-table.js";
import { AUDIT_PROVIDER, type RunSummary } from "../analysis/summary.js";
import { correctedText } from "./calibration-table.js";

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const num = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined ? "∞" : x.toFixed(digits));

/** The headline of an audit: images found and what was seen in them (nothing was generated). */
function auditHeadline(s: RunSummary): string {
  return [
    `audit of ${s.n} image${s.n === 1 ? "" : "s"} found in ${s.runDir}`,
    `  observer   ${s.observer}`,
  ].join("\n");
}

/** The headline lines of a run: status, counts and cost. */
export function runHeadline(s: RunSummary): string {
  if (s.provider === AUDIT_PROVIDER) return auditHeadline(s);
  const status =
    s.status === "complete"
      ? s.exact
        ? "complete, every bin met exactly"
        : "complete"
      : s.status === "incomplete"
        ? "incomplete (stopped before the end; `debiaspi resume` continues it)"
        : `stopped: ${s.message ?? s.status}`;
  const lines = [
    `run ${s.id}`,
    `  prompt     ${JSON.stringify(s.prompt)}`,
    `  policy     ${s.policy}${s.policy === "debiaspi" ? ` (${s.mode}, overflow ${s.overflow})` : ""}   provider ${s.provider}   observer ${s.observer}   seed ${s.seed}`,
    `  status     ${status}`,
    `  images     ${s.kept} of ${s.n} kept, ${s.generations} generated (${s.generationsPerKept === null ? "-" : s.generationsPerKept.toFixed(2)} per kept image), ` +
      `${s.discarded.overflow + s.discarded.unknown + s.discarded.surplus} set apart, ${s.refusals} refused, ${s.errors} errors` +
      (s.costUsd > 0 ? `, $${s.costUsd.toFixed(2)}` : ""),
  ];
  return lines.join("\n");
}

/** One table per attribute: target against achieved with Wilson intervals, then the distances. */
export function attributeTables(s: RunSummary): string {
  const out: string[] = [];
  for (const a of Object.values(s.attributes)) {
    const total = Object.values(a.observed).reduce((x, y) => x + y, 0);
    const head = a.controlled ? ["category", "target", "bin", "achieved", "share", "95% interval"] : ["category", "observed", "share", "95% interval"];
    if (a.truth) head.push("sim truth");
    const t = plainTable(head);
    for (const [cat, count] of Object.entries(a.observed)) {
      const share = total > 0 ? count / total : 0;
      const iv = a.intervals[cat]!;
      const interval = `${pct(iv[0])} - ${pct(iv[1])}`;
      const row = a.controlled
        ? [cat, pct(a.target![cat] ?? 0), String(a.bins![cat] ?? 0), String(count), pct(share), interval]
        : [cat, String(count), pct(share), interval];
      if (a.truth) row.push(String(a.truth.observed[cat] ?? 0));
      t.push(row);
    }
    const facts = a.controlled
      ? `TV ${num(a.tv)}  max|p-q| ${num(a.maxAbsDiff)}  KL ${num(a.kl)}  exact ${a.exact ? "yes" : "no"}  unknown ${pct(a.unknownRate)}`
      : `not controlled; normalised entropy ${num(a.normalizedEntropy)}  unknown ${pct(a.unknownRate)}`;
    const truth = a.truth ? `  tracker agrees with sim truth on ${pct(a.truth.agreement)}` : "";
    out.push(`${a.label} · ${a.attribute}\n${t.toString()}\n  ${facts}${truth}`);
  }
  for (const f of s.factors.filter((x) => x.attributes.length > 1)) {
    const t = plainTable(["cell", "target", "bin", "achieved"]);
    for (const [cell, count] of Object.entries(f.observed)) t.push([cell, pct(f.target[cell] ?? 0), String(f.bins[cell] ?? 0), String(count)]);
    out.push(`Joint ${f.id}\n${t.toString()}\n  TV ${num(f.tv)}  max|p-q| ${num(f.maxAbsDiff)}  KL ${num(f.kl)}  exact ${f.exact ? "yes" : "no"}`);
  }
  return out.join("\n\n");
}

/** Refusal rates per requested cell, when the provider refused anything. */
export function refusalTable(s: RunSummary): string {
  if (s.refusals === 0) return "";
  const parts: string[] = [];
  for (const [factor, rows] of Object.entries(s.refusalsByCell)) {
    const t = plainTable(["requested cell", "requested", "refused", "refusal rate"]);
    for (const [cell, r] of Object.entries(rows)) t.push([cell, String(r.requested), String(r.refused), pct(r.requested > 0 ? r.refused / r.requested : 0)]);
    parts.push(`Refusals by requested ${factor}\n${t.toString()}`);
  }
  return `\n\n${parts.join("\n\n")}`;
}

/** Agreement of the checking observers with the driving one: rate and confusion matrix per attribute. */
export function agreementText(s: RunSummary): string {
  if (s.agreement.length === 0) return "";
  const parts = s.agreement.map((a) => {
    // Categories in taxonomy order (Monk 1..10, age bins), only those that occur.
    const order = Object.keys(s.attributes[a.attribute]?.observed ?? {});
    const rank = (c: string): number => (order.indexOf(c) < 0 ? order.length : order.indexOf(c));
    const byRank = (x: string, y: string): number => rank(x) - rank(y) || x.localeCompare(y);
    const cols = [...new Set(Object.values(a.confusion).flatMap((r) => Object.keys(r)))].sort(byRank);
    const t = plainTable([`${s.observer} \\ ${a.checker}`, ...cols]);
    for (const row of Object.keys(a.confusion).sort(byRank)) t.push([row, ...cols.map((c) => String(a.confusion[row]![c] ?? 0))]);
    const rate = a.rate === null ? "-" : pct(a.rate);
    return `Agreement on ${a.attribute}: ${s.observer} vs ${a.checker}: ${rate} of ${a.n} images` +
      (a.checkerUnknown > 0 ? ` (${a.checkerUnknown} more the checker could not read)` : "") +
      (a.n > 0 ? `\n${t.toString()}` : "");
  });
  return `\n\n${parts.join("\n\n")}`;
}

/** Where a run's sim portraits are: drawn when looked at, so its images/ folder may be empty. */
const drawnText = (s: RunSummary): string =>
  s.keptDrawn ? `\n  images: ${s.keptDrawn} kept portraits, drawn when looked at (debiaspi report or serve shows them; export --images DIR writes them as files)` : "";

export function formatRun(s: RunSummary): string {
  return `${runHeadline(s)}\n\n${attributeTables(s)}${refusalTable(s)}${agreementText(s)}${correctedText(s)}\n  folder: ${s.runDir}${drawnText(s)}`;
}

/** The JSON object `run --json` and `show --json` print. */
export function runJson(s: RunSummary): Record<string, unknown> {
  return s as unknown as Record<string, unknown>;
}
