import { describe, expect, it } from "vitest";
import { SMALL, writeConfig } from "../experiments/helpers.js";
import { cli } from "./helpers.js";

interface Row {
  id: string;
  prompt: string;
  policy: string;
  target: string;
  status: string;
  kept: number;
  n: number;
  generations: number;
  tv: number | null;
  exact: boolean;
}

describe("experiment output (issue 15 item 5)", () => {
  it("prints a table with a row per cell, and the same rows in --json; no paper findings for another config", async () => {
    const { path } = writeConfig(SMALL);
    const text = await cli("experiment", path, "--no-progress");
    expect(text.code).toBe(0);
    const lines = text.stdout.split("\n");
    const head = lines.findIndex((l) => l.startsWith("Cells ("));
    expect(lines[head]).toBe("Cells (target race+gender, observer self-report, provider sim):");
    expect(lines[head + 2]).toMatch(/prompt\s+│\s+policy\s+│\s+status\s+│\s+kept\s+│\s+gen\.\s+│\s+TV\s+│\s+max\|p-q\|\s+│\s+exact/);
    const rows = lines.filter((l) => /│\s+(none|debiaspi)\s+│\s+complete\s+│/.test(l));
    expect(rows).toHaveLength(4);
    expect(rows.filter((l) => /debiaspi\s+│\s+complete\s+│\s+14\/14\s+│\s+\d+\s+│\s+0\.000\s+│\s+0\.000\s+│\s+yes/.test(l))).toHaveLength(2);
    expect(text.stdout).not.toMatch(/Findings/);

    const { path: again } = writeConfig(SMALL);
    const json = await cli("experiment", again, "--json", "--no-progress");
    const out = JSON.parse(json.stdout) as { perCell: Row[]; findings?: unknown };
    expect(out.perCell).toHaveLength(4);
    expect(out.findings).toBeUndefined();
    const dpi = out.perCell.filter((r) => r.policy === "debiaspi");
    expect(dpi.every((r) => r.status === "complete" && r.kept === 14 && r.n === 14 && r.tv === 0 && r.exact)).toBe(true);
    const none = out.perCell.filter((r) => r.policy === "none");
    expect(none.every((r) => r.tv !== null && r.tv > 0 && r.generations === 14)).toBe(true);
  });

  it("states the paper's findings when the config is the paper's study", async () => {
    const { path } = writeConfig({ ...SMALL, id: "debiaspi-paper" });
    const text = await cli("experiment", path, "--no-progress");
    expect(text.stdout).toMatch(/\nFindings:\n\[(demonstrated on sim|partly demonstrated on sim|not shown on sim|reproduced|partly reproduced|not reproduced|not measured)\] /);
    const { path: again } = writeConfig({ ...SMALL, id: "debiaspi-paper" });
    const json = JSON.parse((await cli("experiment", again, "--json", "--no-progress")).stdout) as { findings: unknown[] };
    expect(json.findings.length).toBeGreaterThan(0);
  });
});
