import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output. */
export async function cli(...args: string[]): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, { out: (t) => (stdout += `${t}\n`), err: (t) => (stderr += `${t}\n`) });
  return { code, stdout, stderr };
}

export const tempDir = (prefix = "debiaspi-test-"): string => mkdtempSync(join(tmpdir(), prefix));
