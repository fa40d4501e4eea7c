import { prepareRun, runPlan } from "../api.js";
import type { RunConfigInput } from "../config/schema.js";
import { SETTING_DEFAULTS } from "../config/settings.js";
import { InputError } from "../core/errors.js";
import { deriveSeed } from "../core/rng.js";
import type { Observation } from "../core/request.js";
import { findAttribute } from "../core/taxonomy.js";
import { getObserver, type Observer } from "../observers/index.js";
import { parseProviderSpec } from "../providers/index.js";
import { expectedCallCostUsd, listPrice } from "../providers/prices.js";
import { getProfile, simProfileOf } from "../providers/sim/profiles/index.js";

/*
 * `debiaspi plan`: what a run or an experiment will take before it is paid for. Every cell is simulated in memory
 * (no images drawn, no folder written) on a simulator profile of the model, over K seeds, and the generations,
 * refusals, cost (list price x images) and wall time (an ideal schedule at the given concurrency and latency) are
 * reported as mean and 90th percentile over the seeds.
 */

/** Which profile imitates a real provider spec, when one does. */
const PROFILE_OF_PROVIDER: Record<string, string> = {
  "openai:dall-e-3": "dall-e-3",
  "stability:sd3": "sd35",
  "replicate:black-forest-labs/flux-dev": "flux-dev",
};

export interface PlanCell {
  id: string;
  settings: RunConfigInput;
}

export interface PlanOptions {
  /** `sim:PROFILE` to simulate every cell with; unset = each cell's own sim profile, or the profile of its real provider. */
  simulate?: string;
  /** Seeds simulated per cell. */
  seeds: number;
  /** Milliseconds one call takes, for the wall time. */
  latencyMs: number;
  /** Concurrency of every cell (unset = each cell's own). */
  concurrency?: number;
  /** Cells run at once (experiments). */
  jobs: number;
  /** USD per image instead of the list price. */
  priceUsd?: number;
}

export interface PlanPrice {
  usd: number | null;
  source: string;
}

export interface PlanResult {
  cells: number;
  seeds: number;
  /** Profiles simulated, with the real model each imitates. */
  profiles: { id: string; model: string; cells: number }[];
  /** Price per image used for the cost, per profile (null = unknown). */
  prices: Record<string, PlanPrice>;
  expectedGenerations: number;
  expectedGenerationsP90: number;
  expectedCalls: number;
  expectedRefusals: number;
  expectedRefusalsP90: number;
  /** null when a price is unknown. */
  expectedCostUsd: number | null;
  expectedCostUsdP90: number | null;
  expectedWallSeconds: number;
  expectedWallSecondsP90: number;
  /** Cells that did not complete in a seed's simulation (budget spent), summed over seeds / seeds. */
  expectedIncompleteCells: number;
  latencyMs: number;
  jobs: number;
  notes: string[];
}

/** The profile that simulates a cell's provider, or an InputError with the fix. */
function profileFor(spec: string, simulate: string | undefined): string {
  const forced = simulate !== undefined ? simProfileOf(simulate) : undefined;
  if (simulate !== undefined && forced === undefined) throw new InputError(`plan: --provider must be sim or sim:PROFILE (the model to simulate), got "${simulate}"`);
  if (forced) return getProfile(forced).id;
  const own = simProfileOf(spec);
  if (own) return getProfile(own).id;
  const { name, model } = parseProviderSpec(spec);
  const mapped = PROFILE_OF_PROVIDER[`${name}:${model ?? ""}`.toLowerCase()];
  if (mapped) return mapped;
  throw new InputError(`plan: no simulator profile imitates ${spec}; pass --provider sim:PROFILE to simulate it (see \`debiaspi providers\`)`);
}

/** The price per image of a cell: --price-usd, the real provider's list price, else the profile's. */
function priceFor(spec: string, options: Record<string, unknown>, profile: string, priceUsd: number | undefined): PlanPrice {
  if (priceUsd !== undefined) return { usd: priceUsd, source: "--price-usd" };
  if (simProfileOf(spec) === undefined) {
    const p = expectedCallCostUsd(spec, options);
    return p ? { usd: p.usd, source: p.source } : { usd: null, source: `no list price known for ${spec}` };
  }
  const key = getProfile(profile).priceKey;
  const row = listPrice(key);
  if (!row || row.usd === null) return { usd: null, source: `${key}: ${row?.note ?? "unknown"}` };
  return { usd: row.usd, source: `${key} ${row.variant}, ${row.source}, read ${row.date}` };
}

/**
 * An observer that reads what the simulator rendered (its ground truth), limited to what the replaced observer
 * sees: plan's stand-in for observers that look at pixels (no pixels are drawn here).
 */
function truthObserver(id: string, sees: readonly string[] | undefined): Observer {
  return {
    id,
    ...(sees ? { sees } : {}),
    async observe({ result }, tax) {
      const truth = (result.meta.truth ?? {}) as Record<string, string>;
      const labels: Record<string, string> = {};
      for (const [a, c] of Object.entries(truth)) if ((!sees || sees.includes(a)) && findAttribute(tax, a)) labels[a] = c;
      const obs: Observation = { observer: id, persons: [{ labels }] };
      return obs;
    },
  };
}

/** What an observer can label (undefined = everything); one that cannot be built here (no key) is taken to see everything. */
function seesOf(id: string, options: Record<string, unknown>): readonly string[] | undefined {
  try {
    return getObserver(id, { options }).sees;
  } catch (e) {
    if (e instanceof InputError) return undefined;
    throw e;
  }
}

/** Observers that read the model's report or the request work on the simulator as they are. */
const READS_REPORT = new Set(["self-report", "requested"]);

interface CellRun {
  generations: number;
  calls: number;
  refusals: number;
  complete: boolean;
}

async function simulateCell(cell: PlanCell, profile: string, seed: number, concurrency: number | undefined): Promise<CellRun> {
  const settings: RunConfigInput = {
    ...cell.settings,
    seed,
    provider: `sim:${profile}`,
    providerOptions: {},
    checks: [],
    cache: false,
    sim: { ...(cell.settings.sim ?? {}), render: false, latencyMs: 0 },
    ...(concurrency !== undefined ? { concurrency } : {}),
  };
  // An observer that looks at pixels is simulated by what was rendered; it is not built (a vlm needs a key).
  const original = settings.observer ?? SETTING_DEFAULTS.observer;
  if (!READS_REPORT.has(original)) settings.observer = "self-report";
  delete settings.maxCost;
  delete settings.rate;
  const plan = prepareRun(settings, `plan, cell ${cell.id}`);
  const observer = READS_REPORT.has(original) ? undefined : truthObserver(original, seesOf(original, plan.config.observerOptions?.[original] ?? {}));
  const { summary, result } = await runPlan(plan, { inMemory: true, ...(observer ? { observer } : {}) });
  return { generations: summary.generations, calls: summary.attempts, refusals: summary.refusals, complete: result.status === "complete" };
}

const cents = (x: number): number => Math.round(x * 100) / 100;
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** 90th percentile, nearest rank. */
const p90 = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)]!;
};

/** Wall time of cells run `jobs` at once, in queue order, each on the first free slot. */
function makespan(durations: readonly number[], jobs: number): number {
  const slots = Array.from({ length: Math.max(1, jobs) }, () => 0);
  for (const d of durations) {
    let k = 0;
    for (let j = 1; j < slots.length; j++) if (slots[j]! < slots[k]!) k = j;
    slots[k]! += d;
  }
  return Math.max(...slots);
}

/** Simulates the cells over `seeds` seeds and sums what they take. */
export async function planCells(cells: readonly PlanCell[], options: PlanOptions): Promise<PlanResult> {
  if (cells.length === 0) throw new InputError("plan: nothing to plan (no cells)");
  const profiles = cells.map((c) => profileFor(c.settings.provider ?? "sim", options.simulate));
  const prices: Record<string, PlanPrice> = {};
  const cellPrice = cells.map((c, i) => {
    const key = `${c.settings.provider ?? "sim"} as ${profiles[i]}`;
    prices[key] ??= priceFor(c.settings.provider ?? "sim", c.settings.providerOptions ?? {}, profiles[i]!, options.priceUsd);
    return prices[key]!;
  });
  const perSeed: { generations: number; calls: number; refusals: number; cost: number | null; wall: number; incomplete: number }[] = [];
  for (let k = 0; k < options.seeds; k++) {
    let generations = 0;
    let calls = 0;
    let refusals = 0;
    let cost: number | null = 0;
    let incomplete = 0;
    const durations: number[] = [];
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i]!;
      const seed = deriveSeed(cell.settings.seed ?? 1, k, 7);
      const r = await simulateCell(cell, profiles[i]!, seed, options.concurrency);
      generations += r.generations;
      calls += r.calls;
      refusals += r.refusals;
      if (!r.complete) incomplete += 1;
      const price = cellPrice[i]!.usd;
      cost = cost === null || price === null ? null : cost + r.generations * price;
      const c = options.concurrency ?? cell.settings.concurrency ?? SETTING_DEFAULTS.concurrency;
      const rate = cell.settings.rate;
      durations.push(Math.max((Math.ceil(r.calls / Math.max(1, c)) * options.latencyMs) / 1000, rate ? r.calls / rate : 0));
    }
    perSeed.push({ generations, calls, refusals, cost, wall: makespan(durations, options.jobs), incomplete });
  }
  const costs = perSeed.map((s) => s.cost);
  const known = costs.every((c): c is number => c !== null);
  const byProfile = new Map<string, number>();
  for (const p of profiles) byProfile.set(p, (byProfile.get(p) ?? 0) + 1);
  const notes = [
    "no image is drawn: observers that look at pixels (skin-tone, faces, vlm) are simulated as reading what was rendered; checkers (--check) are left out, and their own calls are not counted",
    "refusals are the profile's refusal rate (assumed 0 for every profile: no source measured it)",
    `wall time: an ideal schedule of ceil(calls / concurrency) x ${options.latencyMs} ms per cell (at least calls / rate with a rate limit), ${options.jobs} cell(s) at once; retries are not included`,
  ];
  if (!known) notes.push("cost unknown: no list price for at least one model (give --price-usd)");
  return {
    cells: cells.length,
    seeds: options.seeds,
    profiles: [...byProfile.entries()].map(([id, n]) => ({ id, model: getProfile(id).model, cells: n })),
    prices,
    expectedGenerations: mean(perSeed.map((s) => s.generations)),
    expectedGenerationsP90: p90(perSeed.map((s) => s.generations)),
    expectedCalls: mean(perSeed.map((s) => s.calls)),
    expectedRefusals: mean(perSeed.map((s) => s.refusals)),
    expectedRefusalsP90: p90(perSeed.map((s) => s.refusals)),
    expectedCostUsd: known ? cents(mean(costs)) : null,
    expectedCostUsdP90: known ? cents(p90(costs)) : null,
    expectedWallSeconds: mean(perSeed.map((s) => s.wall)),
    expectedWallSecondsP90: p90(perSeed.map((s) => s.wall)),
    expectedIncompleteCells: mean(perSeed.map((s) => s.incomplete)),
    latencyMs: options.latencyMs,
    jobs: options.jobs,
    notes,
  };
}
