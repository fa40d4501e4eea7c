/**
 * `simulated`: an observer that imitates a calibrated one, so that the loop under realistic observer error
 * runs offline. Given what `sim` really rendered (its `meta.truth`), it draws what the calibrated observer
 * would have said from the calibration's confusion rows (unknowns and missed people included), seeded by
 * the attempt's seed. Attributes the calibration does not cover are reported as rendered.
 */
import { drawObservation } from "../calibration/correct.js";
import type { Calibration } from "../calibration/schema.js";
import { InputError } from "../core/errors.js";
import type { Observation } from "../core/request.js";
import { deriveSeed, hashString, Rng } from "../core/rng.js";
import type { Taxonomy } from "../core/taxonomy.js";
import type { ObserveInput, Observer, ObserverEntry } from "./types.js";

export const SIMULATED_ID = "simulated";

export function createSimulatedObserver(cal: Calibration): Observer {
  return {
    id: SIMULATED_ID,
    async observe(input: ObserveInput, _taxonomy: Taxonomy): Promise<Observation> {
      const truth = input.result.meta?.truth as Record<string, string> | undefined;
      if (!truth || typeof truth !== "object") {
        const why = "the simulated observer needs what the sim provider rendered (meta.truth); use it with --provider sim";
        return { observer: SIMULATED_ID, persons: [], note: why, error: why };
      }
      const rng = new Rng(deriveSeed(input.seed ?? hashString(input.prompt), 0x51d));
      const o = drawObservation(cal, truth, rng);
      if (o.labels === null) return { observer: SIMULATED_ID, persons: [], note: `no person (as ${cal.observer.id} misses one)` };
      return { observer: SIMULATED_ID, persons: [{ labels: o.labels }] };
    },
  };
}

export const simulatedEntry: ObserverEntry = {
  description: "sim only: draws what a calibrated observer would say of what sim rendered, from the --calibration file's confusion matrix",
  create: (ctx) => {
    if (!ctx.calibration) throw new InputError("observer simulated imitates a calibrated observer: give the calibration with --calibration FILE (debiaspi calibrate makes one)", "observer");
    return createSimulatedObserver(ctx.calibration);
  },
};
