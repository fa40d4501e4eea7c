/**
 * debiaspi: the library API. `run` a set, `resume` a stopped one, `loadRun` to measure one.
 *
 *   import { run } from "debiaspi";
 *   const { summary } = await run({ prompt: "a photo of the face of a CEO", attributes: ["gender", "race"], n: 28 });
 */
export { run, resume, loadRun, prepareRun, combineSettings, type RunOptions, type RunOutcome } from "./api.js";
export type { RunConfigInput } from "./config/schema.js";
export { resolveRun, RUN_DEFAULTS, type RunConfig } from "./config/resolve.js";
export { InputError } from "./core/errors.js";
export { builtinTaxonomy, applyTaxonomyPatch, type Taxonomy, type Attribute, type Category, type TaxonomyPatch } from "./core/taxonomy.js";
export { resolveTarget, type Target, type Factor, type TargetSpec } from "./core/target.js";
export { apportion } from "./core/apportion.js";
export { Tally } from "./core/tally.js";
export * as metrics from "./core/metrics.js";
export type { Request, Observation, PersonObservation, Assignment } from "./core/request.js";
export { createPolicy, POLICY_IDS, type Policy, type PolicyId } from "./policies/index.js";
export { DEFAULT_TEMPLATES, type Templates } from "./prompts/templates.js";
export { composePrompt, describePerson } from "./prompts/compose.js";
export { createProvider, registerProvider, providerIds, type ProviderEntry, type ImageProvider, type GenerateRequest, type GenerateResult, type PersonReport } from "./providers/index.js";
export { SimModel } from "./providers/sim/model.js";
export { SIM_DEFAULTS, type SimParams } from "./providers/sim/params.js";
export { getObserver, observerIds, registerObserver, type Observer, type ObserverEntry } from "./observers/index.js";
export { runLoop, type LoopInput, type LoopResult, type LoopProgress } from "./engine/engine.js";
export { summarizeRun, type RunSummary, type AttributeSummary, type RunRecord } from "./report/summary.js";
export { compareRuns, formatComparison } from "./report/compare.js";
export { formatRun } from "./report/table.js";
