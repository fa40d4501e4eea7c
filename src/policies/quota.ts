import { Rng, deriveSeed } from "../core/rng.js";
import type { Assignment, Request } from "../core/request.js";
import type { Target } from "../core/target.js";
import { assignCell } from "./assign.js";
import type { Policy, PolicyEntry } from "./types.js";

/**
 * `quota`: the bins dealt out in a shuffled order, one assignment per image, compliance assumed and
 * nothing observed: the open-loop scheme of Fair Diffusion. A request whose generation failed
 * (refusal, error) gives its slot back.
 */
export function quotaPolicy(target: Target, seed: number): Policy {
  const rng = new Rng(deriveSeed(seed, 0x9a07a));
  const perFactor = target.factors.map((factor) =>
    rng.shuffle(factor.bins.flatMap((count, c) => Array.from({ length: count }, () => c))),
  );
  const slots: Assignment[] = Array.from({ length: target.n }, (_, i) => {
    const cells: Assignment = {};
    perFactor.forEach((list, f) => assignCell(target, f, list[i]!, cells));
    return cells;
  });
  const done = new Set<number>();
  const inFlight = new Set<number>();
  // Every slot below `low` is done or in flight, so the lowest free slot is found from there (a slot
  // given back moves it down): linear in N overall instead of a rescan from 0 per request.
  let low = 0;
  return {
    id: "quota",
    closedLoop: false,
    next: (): Request => {
      let slot = low;
      while (slot < slots.length && (done.has(slot) || inFlight.has(slot))) slot++;
      low = slot + 1;
      // More requests than slots can only come from a caller that ignores the stop rule; reuse the last.
      const s = Math.min(slot, slots.length - 1);
      inFlight.add(s);
      return { kind: "direct", cells: { ...slots[s]! }, slot: s };
    },
    settle: (request, { produced }) => {
      if (request.kind !== "direct" || request.slot === undefined) return;
      inFlight.delete(request.slot);
      if (produced) done.add(request.slot);
      else if (!done.has(request.slot)) low = Math.min(low, request.slot);
    },
  };
}

export const quotaEntry: PolicyEntry = { create: (_options, target, seed) => quotaPolicy(target, seed) };
