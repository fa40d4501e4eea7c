import type { Command } from "commander";
import { LIST_PRICES } from "../providers/prices.js";
import { plainTable } from "../report/plain-table.js";
import type { Io } from "./common.js";

/** `debiaspi prices`: the dated list-price table that `plan` and `--max-cost` use. */
export function registerPricesCommand(program: Command, io: Io): void {
  program
    .command("prices")
    .description("the dated list prices per image that plan and --max-cost use (unknown prices are said)")
    .option("--json", "print JSON")
    .action((opts: { json?: boolean }) => {
      if (opts.json) return io.out(JSON.stringify(LIST_PRICES, null, 2));
      const t = plainTable(["model", "variant", "USD per image", "read", "source"]);
      for (const p of LIST_PRICES) t.push([p.key, p.variant, p.usd === null ? "unknown" : String(p.usd), p.date, `${p.source}${p.note ? `; ${p.note}` : ""}`]);
      io.out(`${t.toString()}\nOverride per run with -P priceUsd=USD (providers that take it) or plan --price-usd USD.`);
    });
}
