/** The report's calibration section: which calibration corrected the shares, its confusion matrices, raw vs corrected. */
import { observedColumns } from "../../calibration/confusion.js";
import type { ReportRun } from "../../analysis/model.js";
import { percent } from "./format.js";
import { html, join, type SafeHtml } from "./markup.js";

function simpleTable(caption: string, head: readonly string[], rows: readonly (readonly string[])[]): SafeHtml {
  return html`<p class="table-title" aria-hidden="true">${caption}</p><div class="table-wrap"><table><caption class="vh">${caption}</caption>
<thead><tr>${head.map((h, i) => html`<th scope="col"${i > 0 ? html` class="num"` : ""}>${h}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${r.map((c, i) => (i === 0 ? html`<th scope="row">${c}</th>` : html`<td class="num">${c}</td>`))}</tr>\n`)}</tbody></table></div>`;
}

/** Undefined when no run was corrected with a calibration. */
export function calibrationSection(runs: readonly ReportRun[], id: string): SafeHtml | undefined {
  const corrected = runs.filter((r) => r.summary.calibration);
  if (corrected.length === 0) return undefined;
  const first = corrected[0]!.summary.calibration!;
  const warnings = [...new Set(corrected.flatMap((r) => r.summary.calibration!.warnings))];
  const matrices = Object.entries(first.matrices).map(([attr, m]) =>
    simpleTable(
      `${attr}: true x observed on the calibration's ${m.n} labelled images (accuracy ${percent(m.accuracy)})`,
      ["true \\ observed", ...observedColumns(m.categories), "recall"],
      m.categories.map((c, i) => [c, ...m.counts[i]!.map(String), percent(m.recall[c])]),
    ),
  );
  const shares = corrected.flatMap((r) =>
    Object.values(r.summary.attributes)
      .filter((a) => a.corrected)
      .map((a) => {
        const known = Object.values(a.observed).reduce((x, y) => x + y, 0);
        const c = a.corrected!;
        return simpleTable(
          `${corrected.length > 1 ? `${r.id}: ` : ""}${a.attribute}: raw vs corrected (raw over ${known} read, corrected over ${c.n} images)`,
          a.target ? ["category", "target", "raw", "corrected", "95 % interval"] : ["category", "raw", "corrected", "95 % interval"],
          Object.keys(c.shares).map((cat) => {
            const raw = percent(known > 0 ? (a.observed[cat] ?? 0) / known : null);
            const iv = c.intervals[cat]!;
            const row = [cat, raw, percent(c.shares[cat]), `${percent(iv[0])} - ${percent(iv[1])}`];
            return a.target ? [cat, percent(a.target[cat] ?? 0), ...row.slice(1)] : row;
          }),
        );
      }),
  );
  const notCovered = Object.entries(first.notCovered);
  return html`<section id="${id}"><h2>Calibration</h2>
<p>Shares corrected for the errors of observer <strong>${first.observer}</strong> with <code>${first.source}</code>: ${first.labels}${first.domain ? `, ${first.domain}` : ""}${
    first.models.length > 0 ? html`; models ${first.models.join(", ")}` : ""
  }. Estimator: maximum likelihood (EM) on the confusion matrix, unknown and no-person columns included, 95 % bootstrap intervals over the calibration images and the sample (docs/calibration.md).</p>
${warnings.length > 0 ? html`<p class="warn" role="status"><strong>Warning:</strong> ${warnings.join("; ")}.</p>` : ""}
${notCovered.length > 0 ? html`<p class="muted">Not corrected: ${notCovered.map(([a, why]) => `${a} (${why})`).join("; ")}.</p>` : ""}
${join(shares, "\n")}
${join(matrices, "\n")}
</section>`;
}
