/**
 * debiaspi: the library API. `run` a set, `resume` a stopped one, `loadRun` to measure one.
 *
 *   import { run } from "debiaspi";
 *   const { summary } = await run({ prompt: "a photo of the face of a CEO", attributes: ["gender", "race"], n: 28 });
 */
export { run, runPlan, resume, loadRun, prepareRun, combineSettings, type RunOptions, type RunOutcome } from "./api.js";
export { planRun, type RunPlan, type PlanError, type PlanOutcome, type SettingsLayer } from "./app/plan-run.js";
export type { RunConfigInput } from "./config/schema.js";
export { resolveRun, type RunConfig } from "./config/resolve.js";
export { SETTINGS, SETTING_DEFAULTS } from "./config/settings.js";
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
export { localExecutor, type AttemptExecutor, type Attempt, type AttemptOutcome, type AttemptHooks } from "./engine/executor.js";
export { AttemptQueue } from "./queue/coordinator.js";
export { startWorker, type WorkerSettings, type RunningWorker } from "./queue/worker.js";
export { QueueError, parseQueueUrl } from "./queue/connection.js";
export { summarizeRun, type RunSummary, type AttributeSummary, type RunRecord } from "./analysis/summary.js";
export { compareRuns } from "./analysis/compare.js";
export { formatComparison } from "./report/compare.js";
export { formatRun } from "./report/table.js";
export { planFromFile, planExperiment, validateExperimentConfig, type PlannedExperiment, type ExperimentConfigInput } from "./experiments/config.js";
export { runExperiment, resumeExperiment, type ExperimentRunOptions, type ExperimentOutcome, type CellReport } from "./experiments/runner.js";
export { loadReportInput } from "./experiments/load.js";
export { computeFindings, formatFindings } from "./analysis/findings.js";
export { crossAttributeEffects, summarizeCrossEffects } from "./analysis/effects.js";
export { checkRuns, formatCheck, type Tolerances, type CheckResult, type Violation } from "./analysis/check.js";
export { exportTables, writeExport, toCsv, EXPORT_SCHEMA } from "./report/export.js";
export { loadPromptSet, BUILTIN_PROMPT_SETS, type PromptSet } from "./experiments/prompt-sets.js";
export type { ReportInput, ReportRun, CellLabels, Finding, CrossAttributeEffect, CrossEffectRow } from "./analysis/model.js";
export { buildReport, renderReportSections, REPORT_CSS, type BuildOptions, type BuildResult, type SectionOptions } from "./report/html/index.js";
export { startDashboard, type Dashboard, type DashboardOptions } from "./server/server.js";
export type * from "./server/api-types.js";
