import { basename, dirname, join, resolve as resolvePath } from "node:path";
import { makeObserver, mergeOrThrow, planOrThrow, runCalibration, type RunPlan, type SettingsLayer } from "./app/plan-run.js";
import type { ResolvedRun, RunConfig } from "./config/resolve.js";
import type { RunConfigInput } from "./config/schema.js";
import { InputError } from "./core/errors.js";
import { slugify } from "./core/taxonomy.js";
import { runLoop, type LoopProgress, type LoopResult } from "./engine/engine.js";
import type { Observer } from "./observers/index.js";
import { createPolicy } from "./policies/index.js";
import { createProvider, wrapProvider } from "./providers/index.js";
import type { ImageProvider } from "./providers/types.js";
import type { KeyScope } from "./http/keys.js";
import type { AttemptEvent, PendingRecord, RunEvent } from "./store/events.js";
import { missingImagesProblem, RUN_FORMAT, RunFolder } from "./store/run-folder.js";
import { MemorySink, type RunSink } from "./store/sink.js";
import { storedRunInput, summarizeRun, type RunRecord, type RunSummary } from "./analysis/summary.js";
import { expectedCallCostUsd } from "./providers/prices.js";
import type { CostBudget } from "./engine/cost.js";
import { packageVersion } from "./util/paths.js";
import type { AttemptQueue } from "./queue/coordinator.js";
import { queueJobSpec } from "./queue/spec.js";
import { Pacer } from "./util/pace.js";
import { loadRun, recordOf, RUN_CALIBRATION_FILE, withCalibration } from "./analysis/load.js";
import type { Calibration } from "./calibration/schema.js";
import { CorrectedTally } from "./calibration/tally.js";
import { writeAtomic } from "./store/files.js";
import { applyCalibration } from "./analysis/corrected.js";

export interface RunOptions {
  onProgress?: (p: LoopProgress) => void;
  /** Abort to stop cleanly; the run folder stays resumable. */
  signal?: AbortSignal;
  /** Drive the loop with this observer instead of building the configured one (`plan` reads what the simulator rendered). */
  observer?: Observer;
  /** Use this provider instead of building one from the config (tests, custom backends); it gets the cache (unless `cache: false`) and the `rate` limit like a built-in one. */
  provider?: ImageProvider;
  /** Run in memory: no folder is written (benchmarks). */
  inMemory?: boolean;
  /** Fixed clock for reproducible files in tests. */
  now?: () => Date;
  /** Called once the run folder exists, before the first generation. */
  onStart?: (runDir: string) => void;
  /** Where keys from the environment may be sent (default `any`: wherever the settings say; the dashboard passes `env`). */
  keyScope?: KeyScope;
  /** Create the run folder at exactly this path (it must not exist yet) instead of a new one under `out` (experiments). */
  dir?: string;
  /** A spending cap shared with other runs (an experiment's --max-cost). */
  costBudget?: CostBudget;
  /** Generate and observe on the workers of this queue (`--queue`); this process stays the only writer of the run folder. */
  queue?: AttemptQueue;
  /** With `queue`: images come back through this folder, shared by every machine, instead of through Redis. */
  queueDir?: string;
}

/**
 * The expected cost of one call when spending is capped (run `maxCost` or a shared budget): the list price, or
 * an InputError when it is unknown (a custom provider object is capped by the dearest call it has reported).
 */
function callCost(config: ResolvedRun["config"], options: RunOptions): number | undefined {
  if (config.maxCost === undefined && !options.costBudget) return undefined;
  const price = expectedCallCostUsd(config.provider, config.providerOptions ?? {});
  if (price) return price.usd;
  if (options.provider) return undefined;
  throw new InputError(
    `--max-cost: no list price is known for ${config.provider}, so the cap cannot be kept; give its price per image with -P priceUsd=USD (see \`debiaspi prices\`)`,
    "maxCost",
  );
}

export interface RunOutcome {
  summary: RunSummary;
  result: LoopResult;
}

function runId(prompt: string, policy: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "").replace("T", "-");
  return `${stamp}-${slugify(prompt).slice(0, 40).replace(/_+$/, "")}-${policy}`;
}

/**
 * The run's provider (the configured one, or a custom provider object passed in `options.provider`)
 * with its response cache (unless `cache: false`) and rate limit: a custom backend gets them too.
 */
function buildProvider(resolved: ResolvedRun, cacheDir: string | undefined, keyScope: KeyScope | undefined, custom?: ImageProvider): ImageProvider {
  const { config } = resolved;
  const options = config.providerOptions ?? {};
  const provider = custom ?? createProvider(config.provider, { taxonomy: resolved.taxonomy, sim: config.sim, options, ...(keyScope ? { keyScope } : {}) });
  return wrapProvider(provider, {
    ...(config.cache !== false && cacheDir ? { cacheDir } : {}),
    ...(config.rate !== undefined ? { rate: config.rate } : {}),
    // The cache key also holds the provider object's own id, so a custom provider never reads another's answers.
    keyParams: { provider: custom ? `custom:${custom.id}` : config.provider, options },
  });
}

/** The observer that drives the loop (unless the caller passes one) and the ones that check it, built with their options. */
function buildObservers(config: RunConfig, options: RunOptions, calibration?: Calibration): { observer: Observer; checkers: Observer[] } {
  const make = (id: string): Observer => makeObserver(config, id, options.keyScope, calibration);
  return { observer: options.observer ?? make(config.observer), checkers: (config.checks ?? []).map(make) };
}

/** Validates settings (from code, a config file or flags) and resolves them; throws InputError (every problem, in one line) on bad input. */
export function prepareRun(input: RunConfigInput | unknown, source = "run settings", keyScope?: KeyScope): RunPlan {
  return planOrThrow([{ source, values: input }], keyScope ? { keyScope } : {});
}

/** Stands in for the provider when a queue's workers generate: the loop then calls the queue's executor only. */
const remoteOnly: ImageProvider = {
  id: "queue",
  generate: () => Promise.reject(new Error("internal: a queued run generated in the coordinator")),
};

/** Runs the loop into `folder` (created or attached, and locked, by the caller) or into memory; unlocks at the end. */
async function runLoopInto(
  resolved: ResolvedRun,
  record: RunRecord,
  folder: RunFolder | undefined,
  options: RunOptions,
  history: { events: RunEvent[]; pending: PendingRecord[] },
  calibration: Calibration | undefined,
): Promise<RunOutcome> {
  const { config, taxonomy, target } = resolved;
  try {
    // On a queue the workers build the provider (its keys live there); nothing calls this one.
    const provider = options.provider ?? (options.queue ? remoteOnly : buildProvider(resolved, undefined, options.keyScope));
    const { observer, checkers } = buildObservers(config, options, calibration);
    const steerCorrected = calibration !== undefined && config.steer !== "raw";
    const callCostUsd = callCost(config, options);
    // --rate on a queue: the coordinator paces the attempts it enqueues (see AttemptQueue.executor).
    const executor = options.queue ? options.queue.executor(queueJobSpec(resolved, record, folder?.dir, options.queueDir), config.rate !== undefined ? new Pacer(config.rate) : undefined) : undefined;
    const signal = options.queue ? (options.signal ? AbortSignal.any([options.signal, options.queue.lost]) : options.queue.lost) : options.signal;
    const policy = createPolicy({ policy: config.policy, mode: config.mode, subgroup: config.subgroup, order: config.order ?? "deficit" }, target, config.seed);
    const memory = folder ? undefined : new MemorySink();
    // What this run appends, kept so the summary does not read the whole log again at the end.
    const appended: RunEvent[] = [];
    const inner: RunSink = folder ?? memory!;
    const sink: RunSink = {
      writeImage: (bytes, mime) => inner.writeImage(bytes, mime),
      readImage: (path) => inner.readImage(path),
      writePending: (rec) => inner.writePending(rec),
      clearPending: (i) => inner.clearPending(i),
      append: (event) => {
        inner.append(event);
        if (folder) appended.push(event);
      },
    };
    if (folder) options.onStart?.(folder.dir);
    const result = await runLoop({
      settings: {
        prompt: config.prompt,
        seed: config.seed,
        concurrency: config.concurrency,
        maxAttempts: config.maxAttempts,
        overflow: config.overflow,
        ...(config.maxCost !== undefined ? { maxCostUsd: config.maxCost } : {}),
        ...(callCostUsd !== undefined ? { callCostUsd } : {}),
      },
      taxonomy,
      target,
      templates: config.templates,
      policy,
      provider,
      observer,
      checkers,
      ...(executor ? { executor } : {}),
      sink,
      history: history.events,
      pending: history.pending,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(signal ? { signal } : {}),
      ...(options.now ? { now: options.now } : {}),
      ...(options.costBudget ? { costBudget: options.costBudget } : {}),
      ...(steerCorrected ? { makeTally: (t: ResolvedRun["target"]) => new CorrectedTally(t, calibration!) } : {}),
    });
    folder?.close();
    if (options.queue?.failure) throw options.queue.failure;
    const events = [...history.events, ...(folder ? appended : memory!.events)];
    const summary = summarizeRun(storedRunInput(folder?.dir ?? "(memory)", record, events));
    return { summary: folder ? withCalibration(folder.dir, record, events, summary) : calibration ? applyCalibration(summary, events, calibration, config.calibration!, resolved.taxonomy, config.observerOptions?.[config.observer]) : summary, result };
  } finally {
    folder?.close();
    folder?.unlock();
  }
}

/**
 * Starts a run: validates the settings, writes run.json into a new folder under `out` and runs the
 * loop until the set is complete, the attempt budget is spent or `signal` aborts.
 */
export async function run(input: RunConfigInput, options: RunOptions = {}): Promise<RunOutcome> {
  return runPlan(prepareRun(input, "run settings", options.keyScope), options);
}

/** Starts a run from settings planRun has checked and resolved (the CLI and the dashboard plan once, then call this). */
export async function runPlan(plan: RunPlan, options: RunOptions = {}): Promise<RunOutcome> {
  callCost(plan.config, options); // an unknown price under a cap stops here, before any folder is written
  // Build the provider before any folder is written: a missing key or a bad URL stops here.
  const provider = options.queue && !options.provider ? undefined : buildProvider(plan, options.inMemory ? undefined : join(resolvePath(plan.config.out), ".cache"), options.keyScope, options.provider);
  if (provider) options = { ...options, provider };
  const now = options.now?.() ?? new Date();
  const record: RunRecord = {
    format: RUN_FORMAT,
    id: runId(plan.config.prompt, plan.config.policy, now),
    createdAt: now.toISOString(),
    version: packageVersion(),
    config: plan.config,
    taxonomy: plan.taxonomy,
    target: plan.target,
  };
  if (options.inMemory) return runLoopInto(plan, record, undefined, options, { events: [], pending: [] }, plan.calibration);
  const folder = options.dir
    ? RunFolder.create(resolvePath(options.dir), { ...record, id: basename(options.dir) })
    : RunFolder.createUnique(resolvePath(plan.config.out), record.id, (id) => ({ ...record, id }));
  record.id = basename(folder.dir);
  // The calibration travels with the run: show, report, resume and export read this copy.
  if (plan.calibration !== undefined) writeAtomic(join(folder.dir, RUN_CALIBRATION_FILE), `${JSON.stringify(plan.calibration, null, 2)}\n`);
  return runLoopInto(plan, record, folder, options, { events: [], pending: [] }, plan.calibration);
}

export { loadRun };

/**
 * Continues a run that stopped (killed, interrupted, budget spent): rebuilds the tally from the
 * events, finishes attempts whose image was saved but not recorded, and goes on. `maxAttempts`
 * raises the budget of a run that spent it.
 */
export async function resume(dir: string, options: RunOptions & { maxAttempts?: number; maxCost?: number; refuseComplete?: boolean } = {}): Promise<RunOutcome> {
  if (options.maxAttempts !== undefined && (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1)) {
    throw new InputError(`--max-attempts must be a whole number >= 1, got ${options.maxAttempts}`);
  }
  if (options.maxCost !== undefined && (!Number.isFinite(options.maxCost) || options.maxCost < 0)) {
    throw new InputError(`--max-cost must be a number >= 0 (US dollars), got ${options.maxCost}`);
  }
  // The lock first: until this process holds it, another may be writing here (its temp files, its last line).
  const folder = RunFolder.at(dir);
  folder.lock();
  let started = false;
  try {
    const loaded = folder.read(true);
    const record = recordOf(loaded);
    const missing = missingImagesProblem(loaded);
    if (missing) throw new InputError(`${missing}; resuming would report a set that is not there`);
    if (options.maxAttempts !== undefined) record.config.maxAttempts = options.maxAttempts;
    const lastEnd = [...loaded.events].reverse().find((e) => e.type === "end");
    // Checked under the lock: a run another process finished a moment ago is not started again (the dashboard's
    // own check before it took the lock can be a moment stale).
    if (options.refuseComplete && lastEnd?.type === "end" && lastEnd.reason === "complete") {
      throw new InputError(`run "${basename(dir)}" is complete; there is nothing to resume`);
    }
    if (options.maxCost !== undefined) record.config.maxCost = options.maxCost;
    else if (lastEnd?.type === "end" && lastEnd.reason === "cost" && record.config.maxCost !== undefined) {
      throw new InputError(`run ${dir} stopped at its spending cap of $${record.config.maxCost}; pass --max-cost with a larger amount to continue`);
    }
    const resolved: ResolvedRun = { config: record.config, taxonomy: record.taxonomy, target: record.target };
    const attempts = loaded.events.filter((e): e is AttemptEvent => e.type === "attempt").length;
    if (attempts >= record.config.maxAttempts && !summarizeRun(storedRunInput(dir, record, loaded.events)).exact && options.maxAttempts === undefined) {
      throw new InputError(`run ${dir} spent its attempt budget (${record.config.maxAttempts}); pass --max-attempts with a larger number to continue`);
    }
    const provider = options.queue && !options.provider ? undefined : buildProvider(resolved, join(dirname(resolvePath(dir)), ".cache"), options.keyScope, options.provider);
    folder.cleanTemp();
    folder.prepare();
    started = true;
    const calibration = runCalibration(resolved.config, resolved.taxonomy, folder.dir);
    return await runLoopInto(resolved, record, folder, { ...options, ...(provider ? { provider } : {}) }, { events: loaded.events, pending: loaded.pending }, calibration);
  } finally {
    if (!started) folder.unlock();
  }
}

/** Merges config layers (file, then flags) and validates them (schema and attribute names; every problem in one line). */
export function combineSettings(layers: SettingsLayer[]): RunConfigInput {
  return mergeOrThrow(layers);
}
