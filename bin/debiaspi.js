#!/usr/bin/env node
// The `debiaspi` command: runs the compiled CLI in dist/ (built by `npm install` via the prepare script).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write("debiaspi: the compiled files are missing (dist/); run `npm install` or `npm run build` in the package folder first\n");
  process.exit(2);
}
// A reader that stops early (`debiaspi show RUN --json | head`) closes the pipe: stop quietly, as Unix tools do,
// instead of dying with an EPIPE stack trace.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw e;
});
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
