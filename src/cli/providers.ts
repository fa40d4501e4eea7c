import type { Command } from "commander";
import { providerEntries } from "../providers/index.js";
import { profileListing } from "../providers/sim/profiles/listing.js";
import { plainTable } from "../report/plain-table.js";
import type { Io } from "./common.js";

/** `debiaspi providers`: the providers, how to name them and the environment they read. */
export function registerProvidersCommand(program: Command, io: Io): void {
  program
    .command("providers")
    .description("list the text-to-image providers, how to name them and the environment variables they read")
    .option("--json", "print JSON")
    .action((opts: { json?: boolean }) => {
      const rows = providerEntries().map(([name, e]) => ({ name, description: e.description, usage: e.usage, env: e.env, ...(name === "sim" ? { profiles: profileListing() } : {}) }));
      if (opts.json) return io.out(JSON.stringify(rows, null, 2));
      const t = plainTable(["provider", "what", "use", "environment"]);
      for (const r of rows) t.push([r.name, r.description, r.usage, r.env.join(", ") || "-"]);
      const p = plainTable(["sim profile", "imitates", "calibrated on"]);
      for (const r of profileListing()) p.push([`sim:${r.id}`, r.model, r.calibratedOn]);
      io.out(`${t.toString()}\n${p.toString()}\nProvider settings go under providerOptions: in the config file or -P key=value; keys only ever come from the environment.`);
    });
}
