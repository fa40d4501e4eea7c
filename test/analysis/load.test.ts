/**
 * The run loader: the store checks run.json's shape (without knowing what a setting may hold), the loader checks
 * its settings as config's schema does, and a bad one is refused in one line naming the file and the field.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadRun } from "../../src/analysis/load.js";
import { InputError } from "../../src/core/errors.js";
import { RunFolder } from "../../src/store/run-folder.js";
import { tempDir } from "../cli/helpers.js";

/** A run folder of an older version (sim, race x gender, N = 28, complete). */
const OLD_RUN = resolve(__dirname, "../fixtures/run-tally-lines");

function copyWithConfig(edit: (config: Record<string, unknown>) => void): string {
  const dir = join(tempDir(), "run");
  cpSync(OLD_RUN, dir, { recursive: true });
  const path = join(dir, "run.json");
  const record = JSON.parse(readFileSync(path, "utf8")) as { config: Record<string, unknown> };
  edit(record.config);
  writeFileSync(path, JSON.stringify(record));
  return dir;
}

describe("loadRun (analysis/load.ts)", () => {
  it("loads and measures a stored run", () => {
    const { record, summary } = loadRun(copyWithConfig(() => {}));
    expect(summary.kept).toBe(28);
    expect(summary.n).toBe(record.config.n);
    expect(summary.status).toBe("complete");
  });

  it("refuses a setting config's schema does not accept, naming run.json and the field; the store alone reads the folder", () => {
    const dir = copyWithConfig((c) => (c.counting = "every-face"));
    expect(RunFolder.load(dir).run.config.counting).toBe("every-face");
    expect(() => loadRun(dir)).toThrow(InputError);
    expect(() => loadRun(dir)).toThrow(/^run folder .*: run\.json: config\.counting: /);
  });

  it("refuses a run.json without a setting every run has, in the store's own check", () => {
    const dir = copyWithConfig((c) => delete c.observer);
    expect(() => RunFolder.load(dir)).toThrow(/run\.json: config\.observer: /);
    expect(() => loadRun(dir)).toThrow(InputError);
  });
});
