import type { Command } from "commander";
import { existsSync, statSync } from "node:fs";
import { DEFAULT_EXPERIMENTS_DIR } from "../config/settings.js";
import { InputError } from "../core/errors.js";
import type { Dashboard } from "../server/server.js";
import type { Io } from "./common.js";
import { wholeNumber } from "./flags.js";

/** The port `debiaspi serve` listens on unless told otherwise. */
export const DEFAULT_PORT = 8431;

/** Hosts that only this machine can reach (`--host [::1]` is compared without its brackets). */
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

export interface ServeFlags {
  port?: number;
  host?: string;
  runs?: string;
  experiments?: string;
  allowAnyBaseUrl?: boolean;
}

/** Starts the dashboard and prints where it is; `until` resolves when it should stop (Ctrl-C by default). */
export async function serve(flags: ServeFlags, io: Io, until?: (d: Dashboard) => Promise<void>): Promise<void> {
  const port = flags.port ?? DEFAULT_PORT;
  if (port < 0 || port > 65535) throw new InputError(`--port must be between 0 and 65535, got ${port}`);
  const host = (flags.host ?? "127.0.0.1").replace(/^\[(.*)\]$/, "$1");
  const envToken = process.env.DEBIASPI_TOKEN;
  if (envToken !== undefined && envToken.length < 32) throw new InputError("DEBIASPI_TOKEN must be at least 32 characters (or unset it for a random token)");
  const runsDir = flags.runs ?? "./runs";
  const experimentsDir = flags.experiments ?? DEFAULT_EXPERIMENTS_DIR;
  for (const [flag, dir] of [["--runs", runsDir], ["--experiments", experimentsDir]] as const) {
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new InputError(`${flag} ${dir} is not a folder; name a folder (it is created when missing)`);
  }
  const runsDirIsNew = !existsSync(runsDir);
  // Loaded here, not at start-up: the server brings the report module and vega (~300 ms for every command).
  const { startDashboard } = await import("../server/server.js");
  const dashboard = await startDashboard({
    runsDir,
    experimentsDir,
    host,
    port,
    ...(envToken ? { token: envToken } : {}),
    ...(flags.allowAnyBaseUrl ? { allowAnyBaseUrl: true } : {}),
  });
  if (!LOOPBACK.has(host)) {
    io.err(
      `debiaspi serve: warning: listening on ${host}, not only on this machine: anyone who can reach port ${dashboard.port} and has the token can start runs (and spend provider credits) and see every image. Use this on a trusted network only.`,
    );
  }
  io.out(`debiaspi dashboard: ${dashboard.url}`);
  io.out(`runs folder: ${dashboard.manager.runsDir}; experiments folder: ${dashboard.manager.experimentsDir}`);
  if (runsDirIsNew) io.out(`created the runs folder ${dashboard.manager.runsDir} (it did not exist)`);
  io.out("API: send the token as Authorization: Bearer <token> (see README, Dashboard). Ctrl-C stops the server; running runs stay resumable.");
  const stop =
    until?.(dashboard) ??
    new Promise<void>((ok) => {
      const onSignal = (): void => {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        ok();
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    });
  await stop;
  io.err("debiaspi serve: stopping (runs in progress are stopped and can be resumed)");
  await dashboard.close();
}

export function registerServe(program: Command, io: Io): void {
  program
    .command("serve")
    .description("the dashboard: start, watch, stop and compare runs in a browser, on this machine")
    .option("--port <port>", `port to listen on (default ${DEFAULT_PORT}; 0 = any free port)`, wholeNumber("--port"))
    .option("--host <host>", "interface to listen on (default 127.0.0.1: this machine only)")
    .option("--runs <dir>", "runs folder to list and to put new runs in (default ./runs)")
    .option("--experiments <dir>", "experiments folder to list (default ./experiments)")
    .option("--allow-any-base-url", "let runs started from the dashboard send the API keys of this environment to any base URL they name (default: only to the environment's or the provider's default URL)")
    .action(async (opts: ServeFlags) => {
      await serve(opts, io);
    });
}
