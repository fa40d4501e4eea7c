import { existsSync, statSync } from "node:fs";
import { dirname, extname } from "node:path";
import type { Command } from "commander";
import { calibrate } from "../calibrate.js";
import { InputError } from "../core/errors.js";
import { formatCalibration } from "../report/calibration-table.js";
import { writeAtomic } from "../store/files.js";
import type { Io } from "./common.js";
import { list } from "./flags.js";
import { countBar } from "./progress.js";

/** Where each observer's calibration goes: the file named, or with several observers `cal-<observer>.json`. */
export function calibrationOutputs(out: string, observers: readonly string[]): string[] {
  if (extname(out).toLowerCase() !== ".json") throw new InputError(`--out ${out}: a calibration is a .json file`);
  const dir = dirname(out);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`--out ${out}: folder ${dir} does not exist`);
  return observers.length === 1 ? [out] : observers.map((o) => out.replace(/\.json$/i, `-${o}.json`));
}

/** `debiaspi calibrate <images> --labels FILE --observer O[,O2]`. */
export function registerCalibrateCommand(program: Command, io: Io): void {
  program
    .command("calibrate")
    .argument("<images>", "a folder of labelled images (png, jpg, webp)")
    .description("measure how well an observer reads labelled images: confusion matrix, accuracy and recall per group; writes a calibration for --calibration")
    .requiredOption("--labels <file>", "labels, CSV or JSON array: a file (or filename) column and one column per attribute (gender, age, race, skin_tone); other columns are groups")
    .requiredOption("--observer <list>", "observers to calibrate, comma-separated (e.g. faces)", list)
    .option("-o, --out <file>", "write the calibration here (.json); with several observers, one file each: <file>-<observer>.json")
    .option("--domain <text>", "what the images are, recorded in the calibration (default photographs)")
    .option("--json", "print the calibration as JSON instead of tables")
    .option("--no-progress", "no progress bar")
    .action(async (folder: string, opts: { labels: string; observer: string[]; out?: string; domain?: string; json?: boolean; progress: boolean }) => {
      const outputs = opts.out !== undefined ? calibrationOutputs(opts.out, opts.observer) : [];
      const bar = countBar(opts.progress && !opts.json, "images observed");
      const cals = await calibrate(folder, { labels: opts.labels, observers: opts.observer, domain: opts.domain ?? "photographs", onProgress: bar.update }).finally(() => bar.stop());
      // Written only once every observer is done: a failure leaves no file half made.
      cals.forEach((c, i) => outputs[i] !== undefined && writeAtomic(outputs[i]!, `${JSON.stringify(c, null, 2)}\n`));
      if (opts.json) io.out(JSON.stringify(cals.length === 1 ? cals[0] : cals, null, 2));
      else {
        io.out(cals.map(formatCalibration).join("\n\n"));
        for (const f of outputs) io.out(`calibration written to ${f}`);
      }
    });
}
