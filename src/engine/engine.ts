import { setMaxListeners } from "node:events";
import type { Observation, Request } from "../core/request.js";
import { mainSubject } from "../core/request.js";
import { proportions, totalVariation } from "../core/metrics.js";
import { Rng, deriveSeed } from "../core/rng.js";
import { Tally } from "../core/tally.js";
import type { Target } from "../core/target.js";
import { isDrawing } from "../image/drawing.js";
import type { Taxonomy } from "../core/taxonomy.js";
import type { Observer } from "../observers/types.js";
import type { Policy } from "../policies/types.js";
import { composePrompt } from "../prompts/compose.js";
import type { Templates } from "../prompts/templates.js";
import type { GenerateResult, ImageProvider } from "../providers/types.js";
import { localExecutor, observeAll, type AttemptExecutor } from "./executor.js";
import type { AttemptEvent, Decision, EndEvent, PendingRecord, RunEvent } from "../store/events.js";
import type { RunSink } from "../store/sink.js";
import { CostBudget, usd } from "./cost.js";

export interface LoopSettings {
  prompt: string;
  seed: number;
  concurrency: number;
  maxAttempts: number;
  overflow: "keep" | "discard";
  /** Spending cap in USD for this run (history included); the run stops, resumably, before a call would pass it. */
  maxCostUsd?: number;
  /** Expected cost of one call (list price); the dearest call seen so far counts when it was dearer. */
  callCostUsd?: number;
}

export interface LoopProgress {
  kept: number;
  n: number;
  attempts: number;
  inFlight: number;
  /** Mean total variation over the factors between the kept set and the target, now. */
  tv: number;
  last?: AttemptEvent;
}

export interface LoopInput {
  settings: LoopSettings;
  taxonomy: Taxonomy;
  target: Target;
  templates: Templates;
  policy: Policy;
  provider: ImageProvider;
  observer: Observer;
  /** Observers that look at every image without driving the loop (their agreement is reported). */
  checkers?: Observer[];
  /** Where each attempt is generated and observed (default: here, with provider, observer and checkers). */
  executor?: AttemptExecutor;
  sink: RunSink;
  /** Events already in the run folder (resume). */
  history?: RunEvent[];
  /** Attempts whose image was saved but whose event line was not written (resume after a kill). */
  pending?: PendingRecord[];
  onProgress?: (p: LoopProgress) => void;
  /** How kept images are counted: one count in the observed cell (the default), or e.g. the posterior of a calibration (src/calibration/tally.ts). */
  makeTally?: (target: Target) => Tally;
  /** A spending cap shared with other runs (an experiment's `--max-cost`); new calls reserve against it too. */
  costBudget?: CostBudget;
  /** Aborting stops issuing requests and cancels those in flight; the run stays resumable. */
  signal?: AbortSignal;
  now?: () => Date;
}

export interface LoopResult {
  status: "complete" | "budget" | "provider-errors" | "observer-errors" | "cost" | "stopped";
  kept: number;
  attempts: number;
  message?: string;
}

/** Consecutive provider errors after which a run stops instead of spending its whole budget on a dead backend. */
export const MAX_CONSECUTIVE_ERRORS = 10;

/**
 * Consecutive images whose driving observer failed (its observation has `error`) after which a run
 * stops: a dead observer service would otherwise turn every image into `unknown` until the budget
 * is spent. Refusals and provider errors in between neither count nor break the streak.
 */
export const MAX_CONSECUTIVE_OBSERVER_FAILURES = MAX_CONSECUTIVE_ERRORS;

/**
 * Consecutive images set apart as `unknown` (the driving observer gave no label for a controlled
 * attribute, honestly or because it failed) after which a run stops as `observer-errors`: an
 * observer that can see nothing from this provider would otherwise spend the whole budget blind.
 * Refusals and provider errors in between neither count nor break the streak.
 */
export const MAX_CONSECUTIVE_UNLABELLED = MAX_CONSECUTIVE_ERRORS;

/**
 * How long free slots may idle, with the requests in flight expected to fill the last bins, before the
 * loop over-requests (see `wanted`). A provider that answers within it (sim at latency 0, a cache)
 * never triggers the rule, so such runs issue exactly the same requests as without it.
 */
export const ENDGAME_GRACE_MS = 20;

const isoNow = (now?: () => Date): string => (now ? now() : new Date()).toISOString();

/**
 * The control loop. Each iteration the policy picks a request from the tally (kept counts plus
 * pending requests), the composer turns it into an image prompt, the provider generates, the
 * observer says what was generated, and the observation (not the request) decides whether the
 * image fills a bin. Up to `concurrency` generations run at once. Every attempt is written to the
 * sink as one event line; with `history` the loop continues a run where it stopped.
 */
export async function runLoop(input: LoopInput): Promise<LoopResult> {
  const { settings, target, policy, sink, taxonomy } = input;
  const tally = input.makeTally?.(target) ?? new Tally(target);
  const closed = policy.closedLoop;
  let attempts = 0;
  let nextIndex = 0;
  let produced = 0;
  let consecutiveErrors = 0;
  let observerFailures = 0;
  let unlabelled = 0;
  let ended: EndEvent | undefined;
  let spentUsd = 0;
  let dearestCall = 0;

  const account = (e: AttemptEvent): void => {
    attempts += 1;
    nextIndex = Math.max(nextIndex, e.i + 1);
    policy.settle?.(e.request, { produced: e.outcome === "image", ...(e.observation ? { labels: mainSubject(e.observation) } : {}) });
    if (e.outcome === "image") produced += 1;
    if (e.costUsd !== undefined) {
      spentUsd += e.costUsd;
      dearestCall = Math.max(dearestCall, e.costUsd);
    }
    consecutiveErrors = e.outcome === "error" ? consecutiveErrors + 1 : 0;
    if (e.outcome === "image") observerFailures = e.observation?.error !== undefined ? observerFailures + 1 : 0;
    if (e.outcome === "image") unlabelled = e.decision === "unknown" ? unlabelled + 1 : 0;
    if (e.outcome === "image") tally.seen(e.observation ? mainSubject(e.observation) : {}, e.request);
    if (e.decision === "kept") tally.add(e.observation ? mainSubject(e.observation) : {}, e.request);
  };

  for (const e of input.history ?? []) {
    if (e.type === "attempt") account(e);
    else ended = e;
  }

  // Finish attempts that were generated but not yet recorded when the process died.
  const seen = new Set((input.history ?? []).filter((e) => e.type === "attempt").map((e) => (e as AttemptEvent).i));
  for (const rec of (input.pending ?? []).sort((a, b) => a.i - b.i)) {
    if (seen.has(rec.i)) {
      sink.clearPending(rec.i);
      continue;
    }
    const stored = rec.outcome === "image" && rec.image !== undefined ? sink.readImage(rec.image) : undefined;
    const result: GenerateResult = {
      ...(stored ? { image: stored.bytes, mime: stored.mime } : {}),
      warnings: rec.warnings ?? [],
      meta: rec.meta ?? {},
      ...(rec.selfReport ? { selfReport: rec.selfReport } : {}),
      ...(rec.revisedPrompt ? { revisedPrompt: rec.revisedPrompt } : {}),
      ...(rec.refusal ? { refusal: rec.refusal } : {}),
    };
    if (rec.image !== undefined && !stored) {
      // The image was saved before this record, so it was deleted since: say so rather than guess.
      const why = `image file ${rec.image} is missing from the run folder; cannot observe it`;
      const lost = (o: Observer): Observation => ({ observer: o.id, persons: [], note: why, error: why });
      finish(rec, lost(input.observer), (input.checkers ?? []).map(lost));
      continue;
    }
    const observed = rec.outcome === "image" ? await observeAll(input, result, rec.request, rec.prompt, rec.seed) : undefined;
    finish(rec, observed?.observation, observed?.checks);
  }

  function decide(observation: Observation | undefined, outcome: AttemptEvent["outcome"], request: Request): Decision {
    if (outcome === "refusal") return "refused";
    if (outcome === "error") return "error";
    const full = closed ? tally.complete() || tally.kept >= target.n : tally.kept >= target.n;
    if (full) return "surplus";
    if (!closed || settings.overflow === "keep") return "kept";
    const labels = observation ? mainSubject(observation) : {};
    if (target.factors.some((_, f) => tally.cellOf(f, labels) < 0)) return "unknown";
    return tally.fits(labels, request) ? "kept" : "overflow";
  }

  function finish(rec: PendingRecord, observation: Observation | undefined, checks?: Observation[]): AttemptEvent {
    const decision = decide(observation, rec.outcome, rec.request);
    const event: AttemptEvent = {
      ...rec,
      ...(observation ? { observation } : {}),
      ...(checks && checks.length > 0 ? { checks } : {}),
      decision,
      kept: 0,
    };
    account({ ...event, i: rec.i });
    // account() counted it; fill in the kept count after it (the cells follow from decision and observation).
    event.kept = tally.kept;
    sink.append(event);
    // Only an attempt with an image file had a pending record written (refusals, errors and drawings never do).
    if (rec.image !== undefined && !isDrawing(rec.image)) sink.clearPending(rec.i);
    return event;
  }

  const done = (): boolean => (closed && settings.overflow === "discard" ? tally.complete() : tally.kept >= target.n);

  if (done()) {
    if (!ended || ended.reason !== "complete") sink.append({ type: "end", t: isoNow(input.now), reason: "complete" });
    return { status: "complete", kept: tally.kept, attempts };
  }

  const executor = input.executor ?? localExecutor(input);
  const inFlight = new Map<number, Promise<void>>();
  let stopReason: LoopResult["status"] | undefined;
  let message: string | undefined;
  const budgets: CostBudget[] = [];
  if (settings.maxCostUsd !== undefined) budgets.push(new CostBudget(settings.maxCostUsd, spentUsd));
  if (input.costBudget) budgets.push(input.costBudget);
  // The list price, or the dearest call seen so far if that was dearer (a call may cost more than listed).
  const callCost = (): number => Math.max(settings.callCostUsd ?? 0, dearestCall);
  /** Reserves the next call's expected cost on every cap; on refusal stops the run with status "cost". */
  const affordable = (): boolean => {
    if (budgets.length === 0) return true;
    const est = callCost();
    const ok: CostBudget[] = [];
    for (const b of budgets) {
      if (!b.reserve(est)) {
        for (const r of ok) r.settle(est, 0);
        stopReason = "cost";
        const own = b !== input.costBudget;
        message = `spending cap of ${usd(b.limitUsd)}${own ? "" : " (shared by the experiment)"} reached: ${usd(b.spent)} spent, and the next call (about ${usd(est)}) would pass it; continue with a larger --max-cost`;
        return false;
      }
      ok.push(b);
    }
    return true;
  };

  const keepRate = (): number => (tally.kept + 1) / (Math.max(produced, tally.kept) + 1);
  // Set once slots have idled ENDGAME_GRACE_MS with the requests in flight expected to cover what is left.
  let endgame = false;
  // Aborted when an end game's set is complete: the over-requested generations still in flight are
  // cancelled (nothing recorded, as on Ctrl-C) instead of waited for.
  const overRequested = new AbortController();
  const requestSignal = input.signal ? AbortSignal.any([input.signal, overRequested.signal]) : overRequested.signal;
  // Every request in flight listens to it: more than Node's default of 10 is expected, not a leak.
  setMaxListeners(settings.concurrency + 10, requestSignal);
  const wanted = (): boolean => {
    if (done()) return false;
    if (closed) {
      const covered = inFlight.size * keepRate();
      if (tally.left - covered > 1e-9) return true;
      // End game: about two standard deviations more than expected to be needed, so that a few misses
      // among the last requests do not cost another whole round of provider latency.
      return endgame && covered < tally.left + 2 * Math.sqrt(tally.left);
    }
    return produced + inFlight.size < target.n;
  };

  const launch = (): void => {
    const reservedUsd = budgets.length > 0 ? callCost() : 0;
    const i = nextIndex++;
    const rng = new Rng(deriveSeed(settings.seed, i, 1));
    const request: Request = policy.next({ target, tally, rng, keepRate: keepRate() });
    const prompt = composePrompt(settings.prompt, request, taxonomy, input.templates, policy.id);
    const seed = deriveSeed(settings.seed, i);
    if (request.kind === "direct") tally.changePending(request.cells, 1);
    const job = (async () => {
      let released = false;
      const release = (): void => {
        if (!released && request.kind === "direct") tally.changePending(request.cells, -1);
        released = true;
      };
      let rec: PendingRecord | undefined;
      const outcome = await executor.run(
        { i, request, prompt, seed },
        {
          signal: requestSignal,
          onGenerated: (result, ms) => {
            release();
            rec = attemptRecord(input.now, i, request, prompt, seed, ms, result, undefined);
            if (rec.outcome === "image" && result.image) {
              rec.image = sink.writeImage(result.image, result.mime ?? "image/png");
              sink.writePending(rec);
            } else if (rec.outcome === "image" && result.drawing) {
              // A drawing is stored as its name (the store draws it when read). It needs no pending record: it cost
              // nothing, and an attempt killed before its event line is generated again from the same seed.
              rec.image = `images/${result.drawing}`;
            }
          },
        },
      );
      release();
      if (!outcome) {
        // Cancelled: nothing came back, nothing to record; resume issues it again.
        for (const b of budgets) b.settle(reservedUsd, 0);
        policy.settle?.(request, { produced: false });
        return;
      }
      rec ??= attemptRecord(input.now, i, request, prompt, seed, outcome.ms, outcome.result, outcome.error);
      const { observation, checks } = outcome;
      const event = finish(rec, observation, checks);
      for (const b of budgets) b.settle(reservedUsd, rec.costUsd ?? 0);
      if (consecutiveErrors >= MAX_CONSECUTIVE_ERRORS && !stopReason) {
        stopReason = "provider-errors";
        message = `${MAX_CONSECUTIVE_ERRORS} provider errors in a row; the last: ${event.error ?? "unknown"}`;
      }
      // Stop at the threshold; failures of requests still in flight then raise the count in the message.
      if (observerFailures >= MAX_CONSECUTIVE_OBSERVER_FAILURES && event.observation?.error !== undefined && (!stopReason || stopReason === "observer-errors")) {
        stopReason = "observer-errors";
        message = `observer ${event.observation.observer} failed on ${observerFailures} images in a row; the last: ${event.observation.error}`;
      }
      if (unlabelled >= MAX_CONSECUTIVE_UNLABELLED && event.decision === "unknown" && !stopReason) {
        stopReason = "observer-errors";
        const note = event.observation?.note ? `; the last: ${event.observation.note}` : "";
        message = `observer ${event.observation?.observer ?? input.observer.id} labelled none of the last ${unlabelled} images (a controlled attribute unknown in each: it may see nothing this provider gives it)${note}`;
      }
      input.onProgress?.({ kept: tally.kept, n: target.n, attempts, inFlight: inFlight.size - 1, tv: currentTv(tally, target), last: event });
    })();
    inFlight.set(i, job);
    job.then(
      () => inFlight.delete(i),
      () => inFlight.delete(i),
    );
  };

  input.onProgress?.({ kept: tally.kept, n: target.n, attempts, inFlight: 0, tv: currentTv(tally, target) });
  for (;;) {
    while (
      !stopReason &&
      !input.signal?.aborted &&
      inFlight.size < settings.concurrency &&
      attempts + inFlight.size < settings.maxAttempts &&
      wanted() &&
      affordable()
    ) {
      launch();
    }
    if (inFlight.size === 0) break;
    const idle =
      closed && !endgame && !stopReason && !input.signal?.aborted && inFlight.size < settings.concurrency && attempts + inFlight.size < settings.maxAttempts;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = idle
      ? new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            endgame = true;
            resolve();
          }, ENDGAME_GRACE_MS);
        })
      : undefined;
    await Promise.race(graceOver ? [...inFlight.values(), graceOver] : inFlight.values());
    clearTimeout(timer);
    if (endgame && done() && inFlight.size > 0) overRequested.abort();
  }

  if (input.signal?.aborted) return { status: "stopped", kept: tally.kept, attempts };
  let status: LoopResult["status"];
  if (done()) status = "complete";
  else if (stopReason === "provider-errors" || stopReason === "observer-errors" || stopReason === "cost") status = stopReason;
  else status = "budget";
  if (status === "budget") message = `attempt budget of ${settings.maxAttempts} spent with ${tally.kept} of ${target.n} images kept`;
  sink.append({ type: "end", t: isoNow(input.now), reason: status, ...(message ? { message } : {}) });
  return { status, kept: tally.kept, attempts, ...(message ? { message } : {}) };
}

/** Mean TV over factors between the kept counts and the target (1 before anything is kept). */
function currentTv(tally: Tally, target: Target): number {
  if (tally.kept === 0) return 1;
  let sum = 0;
  target.factors.forEach((f, fi) => (sum += totalVariation(proportions(tally.counts[fi]!), f.q)));
  return sum / target.factors.length;
}

/** The attempt's line before it is observed. */
function attemptRecord(
  now: (() => Date) | undefined,
  i: number,
  request: Request,
  prompt: string,
  seed: number,
  ms: number,
  result: GenerateResult | undefined,
  error: string | undefined,
): PendingRecord {
  const outcome: AttemptEvent["outcome"] = error !== undefined || !result ? "error" : result.refusal ? "refusal" : "image";
  return {
    type: "attempt",
    i,
    t: isoNow(now),
    request,
    prompt,
    seed,
    outcome,
    ms,
    ...(error !== undefined ? { error } : {}),
    ...(result?.refusal ? { refusal: result.refusal } : {}),
    ...(result?.selfReport ? { selfReport: result.selfReport } : {}),
    ...(result?.revisedPrompt ? { revisedPrompt: result.revisedPrompt } : {}),
    ...(result?.costUsd !== undefined ? { costUsd: result.costUsd } : {}),
    ...(result && result.warnings.length > 0 ? { warnings: result.warnings } : {}),
    ...(result && Object.keys(result.meta).length > 0 ? { meta: result.meta } : {}),
  };
}
