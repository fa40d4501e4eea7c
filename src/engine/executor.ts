import type { Observation, Request } from "../core/request.js";
import type { Taxonomy } from "../core/taxonomy.js";
import type { Observer } from "../observers/types.js";
import type { GenerateResult, ImageProvider } from "../providers/types.js";

/** One attempt the loop has decided on: what to send, with its index in the run. */
export interface Attempt {
  i: number;
  request: Request;
  prompt: string;
  seed: number;
}

/** What became of an attempt: the provider's answer (or its error) and what the observers saw. */
export interface AttemptOutcome {
  result?: GenerateResult;
  /** The provider failed (no result). */
  error?: string;
  /** The provider's time, ms. */
  ms: number;
  /** The driving observer's reading; only for an image outcome (no error, no refusal). */
  observation?: Observation;
  checks?: Observation[];
}

export interface AttemptHooks {
  signal?: AbortSignal;
  /**
   * Called once the provider has answered, before the observers run: the loop saves the image and
   * its pending record here, so a kill while observing loses nothing that was generated.
   */
  onGenerated(result: GenerateResult, ms: number): void;
}

/**
 * Where the loop's per-attempt work (generate, then observe) happens: in this process (`localExecutor`)
 * or on workers behind a queue. The loop stays the only writer of the tally and the sink.
 */
export interface AttemptExecutor {
  /** Resolves `undefined` when `hooks.signal` aborted the attempt: nothing to record, resume issues it again. */
  run(attempt: Attempt, hooks: AttemptHooks): Promise<AttemptOutcome | undefined>;
}

/** What an attempt needs to be generated and observed. */
export interface AttemptTools {
  provider: ImageProvider;
  observer: Observer;
  checkers?: readonly Observer[];
  taxonomy: Taxonomy;
}

/** Today's behaviour: generate and observe in this process. */
export function localExecutor(tools: AttemptTools): AttemptExecutor {
  return {
    async run(attempt, hooks) {
      const started = Date.now();
      let result: GenerateResult;
      try {
        result = await tools.provider.generate({ prompt: attempt.prompt, seed: attempt.seed, ...(hooks.signal ? { signal: hooks.signal } : {}) });
      } catch (e) {
        if (hooks.signal?.aborted) return undefined;
        return { error: e instanceof Error ? e.message : String(e), ms: Date.now() - started };
      }
      const ms = Date.now() - started;
      hooks.onGenerated(result, ms);
      if (result.refusal) return { result, ms };
      return { result, ms, ...(await observeAll(tools, result, attempt.request, attempt.prompt)) };
    },
  };
}

/** The driving observer's reading and the checkers' of one generated result. */
export async function observeAll(
  tools: Omit<AttemptTools, "provider">,
  result: GenerateResult,
  request: Request,
  prompt: string,
): Promise<{ observation: Observation; checks: Observation[] }> {
  const observation = await safeObserve(tools.observer, tools.taxonomy, result, request, prompt);
  const checks = await Promise.all((tools.checkers ?? []).map((o) => safeObserve(o, tools.taxonomy, result, request, prompt)));
  return { observation, checks };
}

/** An observer's reading; a failure becomes an observation with `error` (the loop counts those). */
export async function safeObserve(observer: Observer, taxonomy: Taxonomy, result: GenerateResult, request: Request, prompt: string): Promise<Observation> {
  try {
    return await observer.observe({ result, request, prompt }, taxonomy);
  } catch (e) {
    const why = `observer failed: ${e instanceof Error ? e.message : String(e)}`;
    return { observer: observer.id, persons: [], note: why, error: why };
  }
}
