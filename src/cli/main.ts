import { Command, CommanderError, Option } from "commander";
import { loadRun, resume, run, runPlan, type RunOptions } from "../api.js";
import { mergeOrThrow, planOrThrow, type RunPlan, type SettingsLayer } from "../app/plan-run.js";
import { readConfigFile } from "../config/resolve.js";
import { builtinTaxonomy } from "../core/taxonomy.js";
import { createProvider, parseProviderSpec, providerEntries } from "../providers/index.js";
import { plainTable } from "../report/plain-table.js";
import type { RunConfigInput } from "../config/schema.js";
import { InputError } from "../core/errors.js";
import { POLICY_IDS, type PolicyId } from "../policies/types.js";
import { compareRuns } from "../analysis/compare.js";
import { formatComparison } from "../report/compare.js";
import { formatRun, runJson } from "../report/table.js";
import type { RunSummary } from "../analysis/summary.js";
import { packageVersion } from "../util/paths.js";
import { auditImages } from "../audit.js";
import { EXIT, interruptedCode, withInterrupt, type Io } from "./common.js";
import { addRunOptions } from "./run-options.js";
import { flagName, flagsToConfig, nonEmptyList, nonNegativeNumber, parseProviderOptions, parseTargetSpec, policyList, wholeNumber, type RunFlags } from "./flags.js";
import { countBar, progressReporter } from "./progress.js";
import { registerExperimentCommand } from "./experiment.js";
import { registerCheckCommand } from "./check.js";
import { registerExportCommand } from "./export.js";
import { registerServe } from "./serve.js";
import { registerReportCommand } from "./report.js";
import { registerPlanCommand } from "./plan.js";
import { profileListing } from "../providers/sim/profiles/listing.js";
import { registerPricesCommand } from "./prices.js";
import { addQueueOptions, registerWorkerCommand, withQueue, withQueueFlags, type QueueFlags } from "./queue.js";
import { QueueError } from "../queue/connection.js";
import { registerCalibrateCommand } from "./calibrate.js";

const defaultIo: Io = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
};

/** The settings layers of a run command: the --config file, then the flags (errors name the flag). */
function layersFrom(prompt: string | undefined, opts: RunFlags & { config?: string }): SettingsLayer[] {
  const layers: SettingsLayer[] = [];
  if (opts.config) layers.push({ source: `config file ${opts.config}`, values: readConfigFile(opts.config) });
  layers.push({ source: "command line", values: flagsToConfig(prompt, opts), nameOf: flagName });
  return layers;
}

/** The merged, validated settings of the flags and --config (no run resolved: `plan` simulates its own). */
function settingsFrom(prompt: string | undefined, opts: RunFlags & { config?: string }): RunConfigInput {
  return mergeOrThrow(layersFrom(prompt, opts));
}

/** The checked, resolved run of the flags and --config: every problem at once, the first one first. */
const planFrom = (prompt: string | undefined, opts: RunFlags & { config?: string }): RunPlan => planOrThrow(layersFrom(prompt, opts));

/** How to continue a run stopped by Ctrl-C. */
const resumeRun = (dir: string | undefined): string => `debiaspi resume ${dir ?? "<run folder>"}`;

function report(io: Io, summary: RunSummary, json: boolean): number {
  io.out(json ? JSON.stringify(runJson(summary), null, 2) : formatRun(summary));
  if (summary.status === "incomplete") return interruptedCode();
  return summary.status === "complete" ? EXIT.ok : EXIT.incomplete;
}

export function buildProgram(io: Io = defaultIo): Command {
  const program = new Command();
  program
    .name("debiaspi")
    .description("Steer a text-to-image model to a chosen demographic distribution by prompt iteration, and measure it.")
    .version(packageVersion())
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride();

  addQueueOptions(addRunOptions(program.command("run").argument("[prompt]", "the image prompt, e.g. \"a photo of the face of a CEO\"").description("generate a set of N images that follows the target")))
    .action(async (prompt: string | undefined, opts: RunFlags & QueueFlags & { config?: string; json?: boolean; progress: boolean }) => {
      const plan = planFrom(prompt, opts);
      const bar = progressReporter(opts.progress && !opts.json);
      const outcome = await withQueue(opts, resumeRun, (queue, at) =>
        withInterrupt(io, withQueueFlags(resumeRun, opts), (signal, dir) =>
          runPlan(plan, { signal, onProgress: bar.update, onStart: (d) => (dir.current = at.current = d), ...queue } satisfies RunOptions),
        ),
      ).finally(() => bar.stop());
      program.setOptionValue("exitCode", report(io, outcome.summary, Boolean(opts.json)));
    });

  addQueueOptions(program
    .command("resume"))
    .argument("<run>", "a run folder")
    .description("continue a run that was stopped or killed; nothing generated is lost or generated twice")
    .option("--max-attempts <count>", "raise the attempt budget", wholeNumber("--max-attempts"))
    .option("--max-cost <usd>", "raise (or set) the spending cap in US dollars", nonNegativeNumber("--max-cost"))
    .option("--json", "print one JSON object instead of tables")
    .option("--no-progress", "no progress bar")
    .action(async (dir: string, opts: QueueFlags & { maxAttempts?: number; maxCost?: number; json?: boolean; progress: boolean }) => {
      const bar = progressReporter(opts.progress && !opts.json);
      const outcome = await withQueue(opts, resumeRun, (queue, at) => {
        at.current = dir;
        return withInterrupt(io, withQueueFlags(resumeRun, opts), (signal, d) => {
          d.current = dir;
          return resume(dir, { signal, onProgress: bar.update, ...queue, ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}), ...(opts.maxCost !== undefined ? { maxCost: opts.maxCost } : {}) });
        });
      }).finally(() => bar.stop());
      program.setOptionValue("exitCode", report(io, outcome.summary, Boolean(opts.json)));
    });

  program
    .command("show")
    .argument("<run>", "a run folder")
    .description("the measurements of a run: per attribute target, achieved with intervals, TV, max |p-q|, KL, exactness, cost")
    .option("--calibration <file>", "a calibration of the observer (debiaspi calibrate): corrected shares beside the raw ones")
    .option("--json", "print one JSON object instead of tables")
    .action((dir: string, opts: { json?: boolean; calibration?: string }) => {
      const { summary, missing } = loadRun(dir, opts.calibration ? { calibration: opts.calibration } : {});
      io.out(opts.json ? JSON.stringify(runJson(summary), null, 2) : formatRun(summary));
      if (missing) {
        io.err(`debiaspi: warning: ${missing}`);
        program.setOptionValue("exitCode", EXIT.incomplete);
      }
    });

  addRunOptions(
    program
      .command("compare")
      .argument("[prompt]", "the image prompt")
      .description("run several policies on one prompt with the same settings and show them side by side")
      .option("--policies <list>", `policies to compare (default ${POLICY_IDS.join(",")})`, policyList),
  ).action(async (prompt: string | undefined, opts: RunFlags & { config?: string; json?: boolean; progress: boolean; policies?: PolicyId[] }) => {
    const policies = opts.policies ?? [...POLICY_IDS];
    // Checked once, with the seed every policy shares (random unless given).
    const planned = planFrom(prompt, opts);
    const base: RunConfigInput = { ...planned.input, seed: planned.config.seed };
    const results: { label: string; summary: RunSummary }[] = [];
    await withInterrupt(io, resumeRun, async (signal, dir) => {
      for (const policy of policies) {
        if (signal.aborted) break;
        const bar = progressReporter(opts.progress && !opts.json);
        if (!opts.json && process.stderr.isTTY && opts.progress) io.err(`${policy}:`);
        const outcome = await run({ ...base, policy }, { signal, onProgress: bar.update, onStart: (d) => (dir.current = d) }).finally(() => bar.stop());
        results.push({ label: policy, summary: outcome.summary });
      }
    });
    const rows = compareRuns(results);
    io.out(
      opts.json
        ? JSON.stringify({ runs: rows.map((r) => ({ policy: r.policy, crossEffects: r.crossEffects, ...runJson(r.summary) })) }, null, 2)
        : formatComparison(rows),
    );
  });

  program
    .command("audit")
    .argument("<folder>", "a folder of images (png, jpg, webp) or a run folder")
    .description("measure the demographic distribution of any folder of images, with the same tables and JSON as show")
    .option("--observer <list>", "observers, comma-separated; the first is reported, the others are compared with it", nonEmptyList("--observer"))
    .option("-a, --attributes <list>", "compare these attributes with a uniform target", nonEmptyList("--attributes"))
    .option("-t, --target <spec>", "target weights ATTR=CAT:W,... (repeatable)", (v: string, prev: string[] = []) => [...prev, v])
    .addOption(new Option("--counting <rule>", "count the main subject of each image or every person").choices(["main-subject", "per-person"]))
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
        observers: opts.observer ?? ["self-report"],
        attributes,
        ...(Object.keys(weights).length > 0 ? { weights } : {}),
        ...(opts.counting ? { counting: opts.counting } : {}),
        ...(opts.calibration ? { calibration: opts.calibration } : {}),
      }).finally(() => bar.stop());
      const { summary, images, misread } = result;
      if (opts.json) {
        io.out(JSON.stringify({ ...runJson(summary), images, ...(opts.labels ? { misread } : {}), ...(result.folder ? { folder: result.folder } : {}) }, null, 2));
        return;
      }
      const lines = [formatRun(summary)];
      if (opts.labels) {
        lines.push(`\nMisread against ${opts.labels}: ${misread.length} label${misread.length === 1 ? "" : "s"} on ${new Set(misread.map((m) => m.file)).size} of ${images.length} images`);
        for (const m of misread.slice(0, 30)) lines.push(`  ${m.file}  ${m.attribute}: ${m.truth} read as ${m.observed ?? "unknown"}`);
        if (misread.length > 30) lines.push(`  ... (all ${misread.length} with --json)`);
      }
      if (result.folder) lines.push(`audit folder: ${result.folder} (debiaspi show, report, export, check read it)`);
      io.out(lines.join("\n"));
    });

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

  program
    .command("doctor")
    .description("check that a provider is set up and answers; says precisely what is wrong when it doesn't")
    .option("--provider <name[:model-or-url]>", "the provider to check (default: provider: in the --config file)")
    .option("-P, --provider-option <key=value>", "a provider setting (repeatable)", (v: string, prev: string[] = []) => [...prev, v])
    .option("--config <file>", "take provider: and providerOptions: from this config file")
    .option("--generate", "also make one real generation (this may cost money)")
    .action(async (opts: { provider?: string; providerOption?: string[]; config?: string; generate?: boolean }) => {
      const fromFile = opts.config ? mergeOrThrow([{ source: `config file ${opts.config}`, values: readConfigFile(opts.config) }]) : {};
      const options = { ...(fromFile.providerOptions ?? {}), ...parseProviderOptions(opts.providerOption ?? []) };
      const spec = opts.provider ?? fromFile.provider;
      if (spec === undefined) {
        throw new InputError(`doctor: no provider to check; pass --provider NAME[:MODEL-OR-URL]${opts.config ? ` or set provider: in ${opts.config}` : " or --config with provider: in it"}`);
      }
      const { name, model } = parseProviderSpec(spec);
      const entry = providerEntries().find(([n]) => n === name)![1];
      // createInner: the chat provider's check builds its drawing provider through the registry, as createProvider does.
      const ctx = { taxonomy: builtinTaxonomy(), sim: fromFile.sim ?? {}, options, env: process.env, createInner: createProvider };
      const provider = createProvider(spec, ctx);
      io.out(`ok   ${spec}: configuration valid${entry.env.length > 0 ? ` (environment: ${entry.env.join(", ")})` : ""}`);
      let failed = false;
      if (entry.check) {
        try {
          io.out(`ok   ${name} answers: ${await entry.check(model, ctx)}`);
        } catch (e) {
          failed = true;
          io.out(`FAIL ${name} does not answer: ${(e as Error).message}`);
        }
      } else if (!opts.generate) {
        io.out(`note ${name} has no free check; add --generate to make one generation (this may cost money)`);
      }
      if (opts.generate && !failed) {
        const started = Date.now();
        try {
          const r = await provider.generate({ prompt: "a photo of the face of a person", seed: 1 });
          const what = r.refusal ? `refused: ${r.refusal}` : r.image ? `an image of ${r.image.length} bytes (${r.mime ?? "unknown type"})` : "no image";
          io.out(`ok   one generation in ${Date.now() - started} ms: ${what}${r.costUsd ? `, $${r.costUsd.toFixed(3)}` : ""}`);
          for (const w of r.warnings) io.out(`warn ${w}`);
        } catch (e) {
          failed = true;
          io.out(`FAIL generation: ${(e as Error).message}`);
        }
      }
      program.setOptionValue("exitCode", failed ? EXIT.incomplete : EXIT.ok);
    });

  registerServe(program, io);

  registerExperimentCommand(program, io);
  registerCheckCommand(program, io);
  registerExportCommand(program, io);

  registerReportCommand(program, io);
  registerPlanCommand(program, io, { addRunOptions, settingsFrom });
  registerPricesCommand(program, io);
  registerWorkerCommand(program, io);
  registerCalibrateCommand(program, io);

  return program;
}

/** Runs the CLI; returns the exit code instead of exiting (tests call it in-process). */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: "user" });
    return (program.getOptionValue("exitCode") as number | undefined) ?? EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return EXIT.ok;
      return EXIT.input;
    }
    if (e instanceof QueueError) {
      io.err(`debiaspi: error: ${e.message}`);
      return EXIT.incomplete;
    }
    if (e instanceof InputError) {
      io.err(`debiaspi: error: ${e.message}`);
      return EXIT.input;
    }
    const err = e as Error;
    io.err(`debiaspi: internal error: ${err.message}\n${process.env.DEBIASPI_DEBUG ? err.stack ?? "" : "(set DEBIASPI_DEBUG=1 for the stack trace; please report it)"}`);
    return 3;
  }
}
