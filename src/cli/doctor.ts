import { resultImage } from "../image/drawing.js";
import type { Command } from "commander";
import { mergeOrThrow } from "../app/plan-run.js";
import { readConfigFile } from "../config/resolve.js";
import { InputError } from "../core/errors.js";
import { builtinTaxonomy } from "../core/taxonomy.js";
import { createProvider, parseProviderSpec, providerEntries } from "../providers/index.js";
import { EXIT, type Io } from "./common.js";
import { parseProviderOptions } from "./flags.js";

/** `debiaspi doctor`: check that a provider is set up and answers. */
export function registerDoctorCommand(program: Command, io: Io): void {
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
          const drawn = r.image ? undefined : resultImage(r);
          const what = r.refusal ? `refused: ${r.refusal}` : r.image ? `an image of ${r.image.length} bytes (${r.mime ?? "unknown type"})` : drawn ? `an image of ${drawn.bytes.length} bytes (${drawn.mime}, drawn from its name)` : "no image";
          io.out(`ok   one generation in ${Date.now() - started} ms: ${what}${r.costUsd ? `, $${r.costUsd.toFixed(3)}` : ""}`);
          for (const w of r.warnings) io.out(`warn ${w}`);
        } catch (e) {
          failed = true;
          io.out(`FAIL generation: ${(e as Error).message}`);
        }
      }
      program.setOptionValue("exitCode", failed ? EXIT.incomplete : EXIT.ok);
    });
}
