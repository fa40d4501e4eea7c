import { Option, type Command } from "commander";
import { auditImages } from "../audit.js";
import { SETTING_DEFAULTS, SETTINGS } from "../config/settings.js";
import { formatRun, runJson } from "../report/table.js";
import type { Io } from "./common.js";
import { nonEmptyList, parseTargetSpec } from "./flags.js";
import { countBar } from "./progress.js";

/** `debiaspi audit`: measure the people in any folder of images. */
export function registerAuditCommand(program: Command, io: Io): void {
  program
    .command("audit")
    .argument("<folder>", "a folder of images (png, jpg, webp) or a run folder")
    .description("measure the demographic distribution of any folder of images, with the same tables and JSON as show")
    .option("--observer <list>", "observers, comma-separated; the first is reported, the others are compared with it", nonEmptyList("--observer"))
    .option("-a, --attributes <list>", "compare these attributes with a uniform target", nonEmptyList("--attributes"))
    .option("-t, --target <spec>", "target weights ATTR=CAT:W,... (repeatable)", (v: string, prev: string[] = []) => [...prev, v])
    .addOption(new Option("--counting <rule>", "count the main subject of each image or every person").choices([...SETTINGS.counting.schema.options]))
    .option("--calibration <file>", "a calibration of the first observer (debiaspi calibrate): corrected shares beside the raw ones")
    .option("--labels <file>", "labels of the images (as for calibrate): each image's truth, and the list of images the observer misread")
    .option("--out <dir>", "write an audit folder (read by show, report, export and check); must not exist")
    .option("--json", "print one JSON object instead of tables, with every image (images: [{ file, people, labels }])")
    .option("--no-progress", "no progress bar")
    .action(async (folder: string, opts: { observer?: string[]; attributes?: string[]; target?: string[]; counting?: "main-subject" | "per-person"; json?: boolean; calibration?: string; labels?: string; out?: string; progress: boolean }) => {
      const attributes = [...(opts.attributes ?? [])];
      const weights: Record<string, Record<string, number>> = {};
      for (const spec of opts.target ?? []) {
        const t = parseTargetSpec(spec);
        if (!attributes.includes(t.attribute)) attributes.push(t.attribute);
        if (t.weights) weights[t.attribute] = t.weights;
      }
      const bar = countBar(opts.progress && !opts.json, "images observed");
      const result = await auditImages(folder, {
        onProgress: bar.update,
        ...(opts.labels ? { labels: opts.labels } : {}),
        ...(opts.out ? { out: opts.out } : {}),
        observers: opts.observer ?? [SETTING_DEFAULTS.observer],
        attributes,
        ...(Object.keys(weights).length > 0 ? { weights } : {}),
        ...(opts.counting ? { counting: opts.counting } : {}),
        ...(opts.calibration ? { calibration: opts.calibration } : {}),
      }).finally(() => bar.stop());
      const { summary, images, misread, unreadable } = result;
      // One line per file that is not a readable image; they are left out of every count below.
      for (const u of unreadable) io.err(`audit: unreadable, not counted: ${u.file}: ${u.reason}`);
      if (opts.json) {
        io.out(JSON.stringify({ ...runJson(summary), images, unreadable, ...(opts.labels ? { misread } : {}), ...(result.folder ? { folder: result.folder } : {}) }, null, 2));
        return;
      }
      const lines = [formatRun(summary)];
      if (unreadable.length > 0) {
        lines.push(`\n${unreadable.length} file${unreadable.length === 1 ? "" : "s"} unreadable, not counted (not images that decode; each named on stderr)`);
      }
      if (opts.labels) {
        lines.push(`\nMisread against ${opts.labels}: ${misread.length} label${misread.length === 1 ? "" : "s"} on ${new Set(misread.map((m) => m.file)).size} of ${images.length} images`);
        for (const m of misread.slice(0, 30)) lines.push(`  ${m.file}  ${m.attribute}: ${m.truth} read as ${m.observed ?? "unknown"}`);
        if (misread.length > 30) lines.push(`  ... (all ${misread.length} with --json)`);
      }
      if (result.folder) lines.push(`audit folder: ${result.folder} (debiaspi show, report, export, check read it)`);
      io.out(lines.join("\n"));
    });
}
