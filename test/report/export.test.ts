import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadReportInput } from "../../src/experiments/load.js";
import { exportTables, toCsv, type Table } from "../../src/report/export.js";
import { packageRoot } from "../../src/util/paths.js";
import { cli } from "../cli/helpers.js";
import { runConfig, SMALL } from "../experiments/helpers.js";

/** A minimal RFC 4180 reader for the tests. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(field), (field = "");
    else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      (row = []), (field = ""), i++;
    } else field += ch;
  }
  return rows;
}

describe("export", () => {
  it("CSV quotes commas, quotes and line breaks, and leaves nulls empty", () => {
    const t: Table = { name: "t", columns: ["a", "b", "c"], rows: [{ a: 'say "hi", then go', b: null, c: 1.5 }, { a: "two\nlines", b: true, c: 0 }] };
    const csv = toCsv(t);
    expect(csv).toBe('a,b,c\r\n"say ""hi"", then go",,1.5\r\n"two\nlines",true,0\r\n');
    expect(parseCsv(csv)).toEqual([["a", "b", "c"], ['say "hi", then go', "", "1.5"], ["two\nlines", "true", "0"]]);
  });

  it("writes runs, metrics, cells, images, findings and effects of an experiment; every column is documented", async () => {
    const { outcome } = await runConfig(SMALL);
    const r = await cli("export", outcome.dir, "--out", join(outcome.dir, "x"));
    expect(r.code).toBe(0);
    const input = loadReportInput(outcome.dir);
    const read = (name: string): string[][] => parseCsv(readFileSync(join(outcome.dir, "x", `${name}.csv`), "utf8"));
    const runs = read("runs");
    expect(runs).toHaveLength(1 + 4);
    const images = read("images");
    const attempts = input.runs.reduce((s, run) => s + run.summary.attempts, 0);
    expect(images).toHaveLength(1 + attempts);
    // Shares of each controlled factor sum to 1 and the observed counts to the kept images.
    const cells = read("cells");
    const head = cells[0]!;
    const col = (name: string): number => head.indexOf(name);
    for (const run of input.runs) {
      const rows = cells.filter((c) => c[col("run_id")] === run.id && c[col("scope")] === "race+gender");
      expect(rows).toHaveLength(14);
      expect(rows.reduce((s, c) => s + Number(c[col("observed")]), 0)).toBe(run.summary.kept);
      expect(rows.reduce((s, c) => s + Number(c[col("share")]), 0)).toBeCloseTo(1, 9);
      for (const c of rows) expect(Number(c[col("wilson_low")])).toBeLessThanOrEqual(Number(c[col("share")]));
    }
    expect(read("findings")[0]).toEqual(["id", "reproduced", "claim", "evidence"]);

    const doc = readFileSync(join(packageRoot(), "docs", "export-schema.md"), "utf8");
    for (const t of exportTables(input)) {
      expect(doc, t.name).toContain(`## ${t.name}`);
      for (const c of t.columns) {
        const documented = doc.includes(`\`${c}\``) || doc.includes(`\`${c.replace(/\..*$/, ".<attribute>")}\``);
        expect(documented, `${t.name}.${c}`).toBe(true);
      }
    }
  });

  it("writes one JSON with the same tables, for a lone run too", async () => {
    const { outcome } = await runConfig(SMALL);
    const runDir = outcome.input.runs[0]!.runDir;
    const r = await cli("export", runDir, "--format", "json", "--out", join(outcome.dir, "j"));
    expect(r.code).toBe(0);
    const doc = JSON.parse(readFileSync(join(outcome.dir, "j", "export.json"), "utf8")) as Record<string, unknown[]> & { schema: string; kind: string };
    expect(doc.schema).toBe("debiaspi-export/2");
    expect(doc.kind).toBe("run");
    expect(doc.runs).toHaveLength(1);
    expect(doc.images!.length).toBe(outcome.input.runs[0]!.summary.attempts);
    expect(doc.findings).toBeUndefined();
    const bad = await cli("export", runDir, "--format", "xml");
    expect(bad.code).toBe(2);
  });
});
