import { resolveRun } from "../../src/config/resolve.js";
import type { RunConfigInput } from "../../src/config/schema.js";
import type { LoopInput } from "../../src/engine/engine.js";
import { getObserver } from "../../src/observers/index.js";
import { createPolicy } from "../../src/policies/index.js";
import { createProvider } from "../../src/providers/index.js";
import { MemorySink } from "../../src/store/sink.js";

export const fixedNow = (): Date => new Date("2026-01-01T00:00:00Z");

/** Builds the loop's input from run settings, in memory (sim without rendering unless the settings say otherwise). */
export function loopFor(settings: RunConfigInput, over: Partial<LoopInput> = {}): { input: LoopInput; sink: MemorySink } {
  const { config, taxonomy, target } = resolveRun({ sim: { render: false }, ...settings });
  const sink = new MemorySink();
  const input: LoopInput = {
    settings: { prompt: config.prompt, seed: config.seed, concurrency: config.concurrency, maxAttempts: config.maxAttempts, overflow: config.overflow },
    taxonomy,
    target,
    templates: config.templates,
    policy: createPolicy({ policy: config.policy, mode: config.mode, subgroup: config.subgroup, order: config.order }, target, config.seed),
    provider: createProvider(config.provider, { taxonomy, sim: config.sim }),
    observer: getObserver(config.observer),
    sink,
    now: fixedNow,
    ...over,
  };
  return { input, sink };
}
