import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OPTIONS_END, OPTIONS_START, optionsTable } from "../../src/cli/run-options.js";

const README = join(import.meta.dirname, "..", "..", "README.md");

/** README's generated run options table, between its markers. */
function readmeTable(text: string): string | undefined {
  const a = text.indexOf(OPTIONS_START);
  const b = text.indexOf(OPTIONS_END);
  if (a < 0 || b < a) return undefined;
  return text.slice(a + OPTIONS_START.length, b).trim();
}

describe("README's run options table", () => {
  it("is the table generated from the settings table (regenerate: npm run readme:options)", () => {
    const text = readFileSync(README, "utf8");
    if (process.env.DEBIASPI_WRITE_README === "1") {
      const a = text.indexOf(OPTIONS_START);
      const b = text.indexOf(OPTIONS_END);
      expect(a, "README.md has no run options markers to write between").toBeGreaterThanOrEqual(0);
      writeFileSync(README, `${text.slice(0, a + OPTIONS_START.length)}\n${optionsTable()}\n${text.slice(b)}`);
      return;
    }
    const table = readmeTable(text);
    expect(table, `README.md lacks the markers ${OPTIONS_START} ... ${OPTIONS_END}`).toBeDefined();
    expect(table, "README.md's run options differ from src/config/settings.ts; regenerate them with: npm run readme:options").toBe(optionsTable());
  });

  it("would catch a README edited by hand", () => {
    const text = readFileSync(README, "utf8");
    const edited = text.replace("| 20 |", "| 25 |");
    expect(edited).not.toBe(text);
    expect(readmeTable(edited)).not.toBe(optionsTable());
  });
});
