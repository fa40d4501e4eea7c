import { existsSync } from "node:fs";
import { basename, dirname, join, resolve as resolvePath } from "node:path";
import { checkAttributeNames, mergeConfigs, resolveRun, validateConfig, type ResolvedRun } from "./config/resolve.js";
import type { RunConfigInput } from "./config/schema.js";
import { InputError } from "./core/errors.js";
import { slugify } from "./core/taxonomy.js";
import { runLoop, type LoopProgress, type LoopResult } from "./engine/engine.js";
import { getObserver, type Observer } from "./observers/index.js";
import { createPolicy } from "./policies/index.js";
import { createProvider, parseProviderSpec, wrapProvider } from "./providers/index.js";
import type { ImageProvider } from "./providers/types.js";
import type { AttemptEvent, PendingRecord, RunEvent } from "./store/events.js";
import { RUN_FORMAT, RunFolder } from "./store/run-folder.js";
import { MemorySink } from "./store/sink.js";
import { summarizeRun, type RunRecord, type RunSummary } from "./report/summary.js";
import { packageVersion } from "./util/paths.js";

export interface RunOptions {
  onProgress?: (p: LoopProgress) => void;
  /** Abort to stop cleanly; the run folder stays resumable. */
  signal?: AbortSignal;
  /** Use this provider instead of building one from the config (tests, custom backends). */
  provider?: ImageProvider;
  /** Run in memory: no folder is written (benchmarks). */
  inMemory?: boolean;
  /** Fixed clock for reproducible files in tests. */
  now?: () => Date;
  /** Called once the run folder exists, before the first generation. */
  onStart?: (runDir: string) => void;
  /** Create the run folder at exactly this path (it must not exist yet) instead of a new one under `out` (experiments). */
  dir?: string;
}

export interface RunOutcome {
  summary: RunSummary;
  result: LoopResult;
}

function runId(prompt: string, policy: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "").replace("T", "-");
  return `${stamp}-${slugify(prompt).slice(0, 40).replace(/_+$/, "")}-${policy}`;
}

function uniqueDir(out: string, id: string): { dir: string; id: string } {
  let candidate = id;
  for (let k = 2; existsSync(join(out, candidate)); k++) candidate = `${id}-${k}`;
  return { dir: join(out, candidate), id: candidate };
}

/** The run's provider with its response cache (unless `cache: false`) and rate limit. */
function buildProvider(resolved: ResolvedRun, cacheDir: string | undefined): ImageProvider {
  const { config } = resolved;
  const options = config.providerOptions ?? {};
  const provider = createProvider(config.provider, { taxonomy: resolved.taxonomy, sim: config.sim, options });
  return wrapProvider(provider, {
    ...(config.cache !== false && cacheDir ? { cacheDir } : {}),
    ...(config.rate !== undefined ? { rate: config.rate } : {}),
    keyParams: { provider: config.provider, options },
  });
}

/** The observer that drives the loop and the ones that check it, built with their options. */
function buildObservers(resolved: ResolvedRun): { observer: Observer; checkers: Observer[] } {
  const { config } = resolved;
  const make = (id: string): Observer => getObserver(id, { options: config.observerOptions?.[id] ?? {} });
  return { observer: make(config.observer), checkers: (config.checks ?? []).map(make) };
}

/** Validates settings (from code, a config file or flags) and resolves them; throws InputError on bad input. */
export function prepareRun(input: RunConfigInput | unknown, source = "run settings"): ResolvedRun {
  const cfg = validateConfig(input, source);
  const resolved = resolveRun(cfg);
  parseProviderSpec(resolved.config.provider);
  const { observer } = buildObservers(resolved);
  checkObserverSees(observer, resolved.target.attributes);
  return resolved;
}

/**
 * Refuses a driving observer that cannot label an attribute the run controls: every image would be
 * `unknown` for it, and the run would spend its whole budget (real money on a paid provider) for nothing.
 */
export function checkObserverSees(observer: Observer, controlled: readonly string[]): void {
  if (!observer.sees) return;
  const blind = controlled.filter((a) => !observer.sees!.includes(a));
  if (blind.length === 0) return;
  throw new InputError(
    `observer ${observer.id} cannot see ${blind.join(", ")} (controlled by this run); it labels ${observer.sees.join(", ")} only. ` +
      `Drive the loop with an observer that sees ${blind.length > 1 ? "them" : "it"} (self-report, vlm) and add --check ${observer.id} to compare, ` +
      `or control only ${observer.sees.join(", ")}`,
    "observer",
  );
}

async function execute(
  resolved: ResolvedRun,
  record: RunRecord,
  sinkDir: string | undefined,
  options: RunOptions,
  history: { events: RunEvent[]; pending: PendingRecord[] },
): Promise<RunOutcome> {
  const { config, taxonomy, target } = resolved;
  const provider = options.provider ?? buildProvider(resolved, undefined);
  const { observer, checkers } = buildObservers(resolved);
  const policy = createPolicy({ policy: config.policy, mode: config.mode, subgroup: config.subgroup, order: config.order ?? "deficit" }, target, config.seed);
  const folder = sinkDir ? RunFolder.open(sinkDir) : undefined;
  const memory = folder ? undefined : new MemorySink();
  if (folder) {
    folder.lock();
    folder.cleanTemp();
    options.onStart?.(sinkDir!);
  }
  try {
    const result = await runLoop({
      settings: { prompt: config.prompt, seed: config.seed, concurrency: config.concurrency, maxAttempts: config.maxAttempts, overflow: config.overflow },
      taxonomy,
      target,
      templates: config.templates,
      policy,
      provider,
      observer,
      checkers,
      sink: folder ?? memory!,
      history: history.events,
      pending: history.pending,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    folder?.close();
    const events = folder ? RunFolder.load<RunRecord>(sinkDir!).events : [...history.events, ...memory!.events];
    return { summary: summarizeRun(sinkDir ?? "(memory)", record, events), result };
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
  const resolved = prepareRun(input);
  // Build the provider before any folder is written: a missing key or a bad URL stops here.
  const provider = options.provider ?? buildProvider(resolved, options.inMemory ? undefined : join(resolvePath(resolved.config.out), ".cache"));
  options = { ...options, provider };
  const now = options.now?.() ?? new Date();
  const record: RunRecord = {
    format: RUN_FORMAT,
    id: runId(resolved.config.prompt, resolved.config.policy, now),
    createdAt: now.toISOString(),
    version: packageVersion(),
    config: resolved.config,
    taxonomy: resolved.taxonomy,
    target: resolved.target,
  };
  if (options.inMemory) return execute(resolved, record, undefined, options, { events: [], pending: [] });
  const out = resolvePath(resolved.config.out);
  const { dir, id } = options.dir ? { dir: resolvePath(options.dir), id: basename(options.dir) } : uniqueDir(out, record.id);
  record.id = id;
  RunFolder.create(dir, record);
  return execute(resolved, record, dir, options, { events: [], pending: [] });
}

/** Loads a run folder's record and events (no changes made). */
export function loadRun(dir: string): { record: RunRecord; events: RunEvent[]; summary: RunSummary } {
  const loaded = RunFolder.load<RunRecord>(dir);
  checkRecord(loaded.run, dir);
  return { record: loaded.run, events: loaded.events, summary: summarizeRun(dir, loaded.run, loaded.events) };
}

function checkRecord(record: RunRecord, dir: string): void {
  if (!record.config || !record.taxonomy || !record.target || !Array.isArray(record.target.factors)) {
    throw new InputError(`run folder ${dir}: run.json lacks config, taxonomy or target; it was not written by debiaspi or is damaged`);
  }
}

/**
 * Continues a run that stopped (killed, interrupted, budget spent): rebuilds the tally from the
 * events, finishes attempts whose image was saved but not recorded, and goes on. `maxAttempts`
 * raises the budget of a run that spent it.
 */
export async function resume(dir: string, options: RunOptions & { maxAttempts?: number } = {}): Promise<RunOutcome> {
  const loaded = RunFolder.load<RunRecord>(dir, true);
  const record = loaded.run;
  checkRecord(record, dir);
  if (options.maxAttempts !== undefined) {
    if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) throw new InputError(`--max-attempts must be a whole number >= 1, got ${options.maxAttempts}`);
    record.config.maxAttempts = options.maxAttempts;
  }
  const resolved: ResolvedRun = { config: record.config, taxonomy: record.taxonomy, target: record.target };
  const provider = options.provider ?? buildProvider(resolved, join(dirname(resolvePath(dir)), ".cache"));
  options = { ...options, provider };
  const attempts = loaded.events.filter((e): e is AttemptEvent => e.type === "attempt").length;
  if (attempts >= record.config.maxAttempts && !summarizeRun(dir, record, loaded.events).exact && options.maxAttempts === undefined) {
    throw new InputError(`run ${dir} spent its attempt budget (${record.config.maxAttempts}); pass --max-attempts with a larger number to continue`);
  }
  return execute(resolved, record, dir, options, { events: loaded.events, pending: loaded.pending });
}

/** Merges config layers (file, then flags) and validates them. */
export function combineSettings(layers: { source: string; values: unknown; nameOf?: (path: string) => string }[]): RunConfigInput {
  const valid = layers.map((l) => ({ ...l, values: validateConfig(l.values, l.source, l.nameOf) }));
  const merged = mergeConfigs(...valid.map((l) => l.values));
  checkAttributeNames(valid, merged);
  return merged;
}
